"""The batch counting of text features equals plain per-block regex counting, compiled (winnow._textstats)
and with numpy alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import winnow.text_features
from winnow.compiled import unbuilt

from winnow.text_features import _CJK, _WORD, CJK_WIDTH, CJK_WORDS_PER_CHAR, CUES, text_features
from winnow.stopwords import CJK_FUNCTION_CHARS, STOPWORDS
from winnow.textstats import Joined, one_line


def reference_text_features(text: pd.Series, link_chars: pd.Series, indent: pd.Series) -> pd.DataFrame:
    """The same numbers, block by block with pandas' string methods (the slow, obvious way)."""
    chars = text.str.len().astype("float32")
    safe_chars = chars.clip(lower=1)
    lower = text.str.lower()
    words = lower.str.findall(_WORD)
    n_words = words.str.len().astype("float32")
    cjk = text.str.count(_CJK)
    width = (chars + (CJK_WIDTH - 1) * cjk).clip(lower=1)
    n_words = n_words + CJK_WORDS_PER_CHAR * cjk
    n_tokens = n_words.clip(lower=1)
    letters = text.str.count(r"[^\W\d_]").clip(lower=1)
    stop = words.map(lambda tokens: sum(token in STOPWORDS for token in tokens))
    stop += text.map(lambda string: sum(char in CJK_FUNCTION_CHARS for char in string))
    out = pd.DataFrame({
        "chars": width,
        "words": n_words,
        "word_len": width / n_tokens,
        "sentences": text.str.count(r"[.!?](?:\s|$)|[。！？]"),
        "ends_punct": text.str.contains(r"[.!?。！？:\"”')]\s*$").astype("float32"),
        "punct": text.str.count(r"[^\w\s]") / width,
        "digits": text.str.count(r"\d") / width,
        "upper": text.str.count(r"[A-Z]") / letters,
        "capitalized": text.str.count(r"\b[A-Z]") / n_tokens,
        "stopwords": stop / n_tokens,
        "link_density": link_chars / safe_chars,
        "density": n_tokens / np.ceil(width / 80),
        "indent": indent,
        "caps_line": ((text.str.count(r"[a-z]") == 0) & (text.str.count(r"[A-Z]") >= 2)).astype("float32"),
    }, index=text.index)
    for name, pattern in CUES.items():
        out[name] = lower.str.count(pattern)
    return out.astype("float32")


TRICKY = [
    "Posted 3 hours ago by someone", "Source3 days ago", "yesterday", "just now", "an hour ago",
    "• Local", "  - item", "1. First", "By A. Reporter,", "https://img.example.com/image.php?url=abc",
    "photo.jpg", "Comments / 60", "12 comments", "© 2024 All Rights Reserved. Privacy | Terms",
    "Sign in", "ÉCOLE NORMALE", "İstanbul'da BÜYÜK", "東京は晴れ。明日も晴れ。", "我们的网站是在北京的。",
    "第二段，没有句号", "ending with a quote”",
    "Wait... what?! Yes.", "x", "  ", "3", "Oct. 22, 2024 10:45", "2024-10-22", "1/2/2024",
    "word_with_underscores and_more", "Ünïcödé wörds ñ", "Reply", "Anna says: hello", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 beyond BMP",
    "a\u2028b", "tab\tseparated\tline", "dots . . end .", "ago", "3 hours\nago",
    # Digits of other scripts are digits to the cues; anchored cues after leading spaces.
    "١٢:٣٠", "٣ days ago", "١/٢/٢٠٢٤", "٢٠٢٤-١٠-٢٢", "  posted by Anna", "\t• item", " ٣. step",
    "Σίσυφος ΣΟΦΟΣ", "ΚΑΛΗΜΕΡΑ", "x.JPG", "  www.example.com  ", "HTTPS://MEDIA.example.com/a",
    # Longer than the 255 characters the compiled counting sums in one number before it moves them out.
    "The Cat sat. 中文。 " * 40, "A" * 255, "Ab" * 256 + "!",
]


@pytest.fixture(params=["compiled", "numpy"])
def counting(request, monkeypatch):
    """Each test runs with the compiled counting and with numpy's."""
    if request.param == "numpy":
        monkeypatch.setattr(winnow.text_features, "_compiled", None)
    elif "winnow._textstats" in unbuilt():
        pytest.skip("winnow._textstats is not built (no C compiler at install)")
    return request.param


def _both(texts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    text = pd.Series(texts)
    links = pd.Series(np.arange(len(texts)) % 3, dtype="int64")
    indent = pd.Series(np.arange(len(texts)) % 2, dtype="int64")
    # The reference sees what the batch sees: a newline inside a block counts as a space.
    reference = reference_text_features(text.str.replace("\n", " "), links, indent)
    return text_features(text, links, indent), reference


@pytest.mark.usefixtures("counting")
def test_tricky_strings_match_the_reference():
    fast, reference = _both(TRICKY)
    pd.testing.assert_frame_equal(fast, reference[fast.columns], check_exact=False, rtol=1e-6)


@pytest.mark.usefixtures("counting")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), min_size=1, max_size=12))
def test_random_strings_match_the_reference(texts):
    fast, reference = _both(texts)
    pd.testing.assert_frame_equal(fast, reference[fast.columns], check_exact=False, rtol=1e-6)


# Pieces of cue matches and near misses: strings of them put cues after other cues' literals, which the
# compiled counting starts each cue's regex from (CUE_LEADS).
CUE_PIECES = ["nov", "ember", ".", " ", "7", "12", "th", ":", "30", "/", "-", "2024", "a", "an", "one", "hours",
              "ago", "yesterday", "reply", "says", "said:", "comments", "like", "x", "©", "copyright", "share",
              "sign", " in", "log", "views", "|", "avatar", "mar", "sep", "\n", "é", "٣"]


@pytest.mark.usefixtures("counting")
@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CUE_PIECES), max_size=14).map("".join), min_size=1, max_size=8))
def test_strings_of_cue_pieces_match_the_reference(texts):
    fast, reference = _both(texts)
    pd.testing.assert_frame_equal(fast, reference[fast.columns], check_exact=False, rtol=1e-6)


@pytest.mark.usefixtures("counting")
def test_real_pages_match_the_reference(shared_datasets):
    from itertools import islice

    from winnow.segment import segment
    from winnow.train.datasets import iter_dataset

    pages = islice(iter_dataset("dragnet:test", shared_datasets), 40)
    blocks = pd.concat([segment(gold.page) for gold in pages], ignore_index=True)
    fast, reference = _both(blocks["text"].tolist())
    pd.testing.assert_frame_equal(fast, reference[fast.columns], check_exact=False, rtol=1e-6)


def test_joined_maps_matches_to_their_string():
    joined = Joined.of(["a ago", "", "ago ago", "x"])
    assert joined.count == 4
    assert joined.lengths.tolist() == [5, 0, 7, 1]
    assert joined.count_matches(one_line(r"ago")).tolist() == [1, 0, 2, 0]
    # `\s*$` must not run on into the next string, nor `^` miss a string's start.
    assert joined.count_matches(one_line(r"^\s*ago\s*$")).tolist() == [0, 0, 0, 0]
    assert joined.count_matches(one_line(r"^ago")).tolist() == [0, 0, 1, 0]


def test_literal_finder_anchors_digits_and_overlaps():
    from winnow.text_features import CHAR_CLASSES

    _textstats = pytest.importorskip("winnow._textstats", reason="winnow._textstats is not built")
    texts = ["by anna", "  by anna", "standby", "12:30", "١٢:٣٠", "x:", "", "©", "a\u00a0b", "says sayings",
             "abab", "xsay by", "𝔘 ٣: ©"]
    finder = _textstats.LiteralFinder(["^by", "by", r"\d:", "©", "\u00a0", "say", "sayings", "aba", "bab"],
                                      CHAR_CLASSES)
    assert finder.first(texts).tolist() == [
        [0, 0, -1, -1, -1, -1, -1, -1, -1], [2, 2, -1, -1, -1, -1, -1, -1, -1], [-1, 5, -1, -1, -1, -1, -1, -1, -1],
        [-1, -1, 1, -1, -1, -1, -1, -1, -1], [-1, -1, 1, -1, -1, -1, -1, -1, -1], [-1] * 9, [-1] * 9,
        [-1, -1, -1, 0, -1, -1, -1, -1, -1], [-1, -1, -1, -1, 1, -1, -1, -1, -1], [-1, -1, -1, -1, -1, 0, 5, -1, -1],
        [-1, -1, -1, -1, -1, -1, -1, 0, 1], [-1, 5, -1, -1, -1, 1, -1, -1, -1], [-1, -1, 2, 5, -1, -1, -1, -1, -1]]
    for literal in ["\U0001d518", "a1", ""]:
        with pytest.raises(ValueError, match="Basic Multilingual Plane"):
            _textstats.LiteralFinder([literal], CHAR_CLASSES)


@pytest.mark.usefixtures("counting")
def test_empty_batch():
    assert text_features(pd.Series([], dtype=object), pd.Series([], dtype="int64"),
                         pd.Series([], dtype="int64")).shape[0] == 0


def _reference_keys(texts: list[str], short: np.ndarray, shaped: np.ndarray) -> list[list[str]]:
    """repeat_features' keys as the strings they stand for, line by line ("" for none)."""
    import re

    shapes = [re.sub(r"\d+", "0", text[:60].lower()).strip() for text in texts]
    return [[shape if keep else "" for shape, keep in zip(shapes, shaped)],
            [shape.partition(" ")[0] if keep else "" for shape, keep in zip(shapes, short)],
            [shape.rpartition(" ")[2] if keep else "" for shape, keep in zip(shapes, short)]]


def _same_partition(keys: np.ndarray, strings: list[str]) -> bool:
    """Equal keys exactly where the strings are equal, and 0 exactly where a string is empty."""
    return (pd.factorize(keys)[0].tolist() == pd.factorize(pd.Series(strings, dtype=object))[0].tolist()
            and ((keys == 0) == (np.array(strings, dtype=object) == "")).all())


@pytest.mark.usefixtures("counting")
@pytest.mark.parametrize("given_lowered", [False, True])
@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab AB 12 ٣ İ\u00a0x.:-\nΣ")), max_size=70), max_size=12),
       st.randoms())
def test_line_keys_are_the_shapes_and_their_words(given_lowered, texts, random):
    """With the texts' lowered_lines too (as BlockFeatures hands them), the keys are those of the texts: a
    line break, a capital sigma where the shape is cut, a letter that lower-cases to two are taken care of."""
    from winnow.text_features import line_keys, lowered_lines

    texts += ["August 9th, 2012 at 8:38 am", "August 10th, 2012 at 9:01 am", "Kevin said,", "  1. Al  ", "x" * 59 + "12",
              "x" * 59 + "13", "", "   ", "a" * 59 + "ΣA", "a" * 59 + "ς", "a" * 58 + "ΣΣ", "a\nb", "a b",
              "İ" + "a" * 70]
    short = np.array([random.random() < 0.6 for _ in texts])
    shaped = np.array([random.random() < 0.8 for _ in texts])
    keys = line_keys(texts, short, shaped, lowered_lines(pd.Series(texts, dtype=object)) if given_lowered else None)
    assert keys.shape == (3, len(texts)) and keys.dtype == np.uint64
    for got, expected in zip(keys, _reference_keys(texts, short, shaped)):
        assert _same_partition(got, expected)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(alphabet=st.sampled_from(list("ab日😀\u00a0")), max_size=4), st.integers(0, 2**40),
                       max_size=20),
       st.lists(st.text(alphabet=st.sampled_from(list("ab日😀\u00a0")), max_size=5), max_size=20))
def test_string_table_finds_what_the_dict_holds(mapping, others):
    _textstats = pytest.importorskip("winnow._textstats", reason="winnow._textstats is not built")
    table = _textstats.StringTable(mapping)
    for text in [*mapping, *others]:
        assert table.get(text) == mapping.get(text, -1)
