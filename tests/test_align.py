"""Block labels from page-level gold text."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from winnow.tokens import tokenize
from winnow.train.align import align_labels, coverage, label_blocks

GOLD_CONTENT = (
    "Big headline\n"
    "The first paragraph talks about rivers and mountains in great detail, with many words.\n"
    "Short line\n"
    "The second paragraph explains the harbor engine and the copper signal at some length."
)
GOLD_COMMENTS = "Nice post, I learned a lot about rivers today.\nThanks!"


def test_align_labels_article_comments_and_menu():
    texts = [
        "Home",
        "News",
        "Big headline",
        "The first paragraph talks about rivers and mountains in great detail, with many words.",
        "Short line",
        "The second paragraph explains the harbor engine and the copper signal at some length.",
        "Nice post, I learned a lot about rivers today.",
        "Contact us",
    ]
    assert align_labels(texts, GOLD_CONTENT, GOLD_COMMENTS) == [
        "chrome", "chrome",  # menu words that are not in the gold
        "content",  # short, in the gold, next to content
        "content",
        "content",  # short, in the gold, between content blocks
        "content",
        "comment",  # in the comment part
        "chrome",
    ]


def test_short_block_in_gold_but_among_chrome_stays_chrome():
    texts = [
        "Subscribe to our newsletter for weekly updates and special offers from us",
        "Rivers",  # occurs in the gold article, but sits in chrome
        "Follow us on social media for more great stories every single day",
        "The first paragraph talks about rivers and mountains in great detail, with many words.",
    ]
    assert align_labels(texts, GOLD_CONTENT) == ["chrome", "chrome", "chrome", "content"]


def test_short_block_not_matching_a_whole_token_sequence_is_chrome():
    texts = [
        "The first paragraph talks about rivers and mountains in great detail, with many words.",
        "headline Short",  # both words are in the gold, but not in this order
        "The second paragraph explains the harbor engine and the copper signal at some length.",
    ]
    assert align_labels(texts, GOLD_CONTENT) == ["content", "chrome", "content"]


def test_short_comment_block_next_to_comments():
    texts = ["Nice post, I learned a lot about rivers today.", "Thanks!", "Log in to reply"]
    assert align_labels(texts, GOLD_CONTENT, GOLD_COMMENTS) == ["comment", "comment", "chrome"]


def test_long_block_mostly_outside_gold_is_chrome():
    # 8 tokens -> 6 trigrams, of which 2 ("rivers and mountains", "and mountains in") occur in the gold: 1/3 < 1/2
    texts = ["rivers and mountains in my own opinion forever"]
    assert align_labels(texts, GOLD_CONTENT) == ["chrome"]


def test_long_block_matching_at_least_half_is_content():
    # 6 tokens -> 4 trigrams; the first 2 are in the gold ("talks about rivers", "about rivers and"): 1/2
    texts = ["talks about rivers and oceans today"]
    assert align_labels(texts, GOLD_CONTENT) == ["content"]


def test_no_gold_means_all_chrome():
    texts = ["Home", "A block with quite a few words in it for sure."]
    assert align_labels(texts, "", "") == ["chrome", "chrome"]


def test_alignment_ignores_case_and_punctuation():
    texts = ["THE FIRST PARAGRAPH -- talks about: rivers & mountains in great detail; with many words!"]
    assert align_labels(texts, GOLD_CONTENT) == ["content"]


def test_label_blocks_adds_label_column():
    blocks = pd.DataFrame({"text": ["Home", "The second paragraph explains the harbor engine and the copper signal."]})
    labeled = label_blocks(blocks, GOLD_CONTENT)
    assert labeled["label"].tolist() == ["chrome", "content"]
    assert "label" not in blocks.columns  # the input table is not changed


def test_coverage_by_hand():
    gold = "a b b c"  # 4 tokens: a, b, b, c
    texts = ["a b", "b b b", "c d"]
    # content blocks "a b" and "c d": found a, b, c, d -> a:1 b:1 c:1 of the gold -> 3/4
    assert coverage(texts, ["content", "chrome", "content"], gold) == pytest.approx(0.75)
    # content block "b b b" only: b is found 3 times but the gold holds it twice -> 2/4
    assert coverage(texts, ["chrome", "content", "chrome"], gold) == pytest.approx(0.5)
    # another label
    assert coverage(texts, ["comment", "chrome", "chrome"], gold, "comment") == pytest.approx(0.5)
    assert coverage(texts, ["chrome"] * 3, gold) == 0.0


def test_coverage_of_empty_gold_is_nan():
    assert math.isnan(coverage(["a"], ["content"], ""))


def test_tokenize_basics():
    assert tokenize("Hello, World! It's 42 snake_case") == ["hello", "world", "it", "s", "42", "snake", "case"]
    assert tokenize("Ærøskøbing café") == ["ærøskøbing", "café"]
    assert tokenize("") == []


def test_tokenize_cjk_one_token_per_character():
    assert tokenize("中文分词") == ["中", "文", "分", "词"]
    assert tokenize("ひらがなとカタカナ") == list("ひらがなとカタカナ")
    assert tokenize("中文 text 分词") == ["中", "文", "text", "分", "词"]


def test_tokenize_cjk_after_latin_letters_or_digits():
    # Bug check: the letter/digit alternative of the token pattern also matches CJK characters, so CJK text
    # right after a digit or Latin letter is swallowed into one token ("2024年中国经济" -> one token).
    assert tokenize("2024年中国") == ["2024", "年", "中", "国"]
    assert tokenize("iPhone手机") == ["iphone", "手", "机"]
