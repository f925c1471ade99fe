"""Accuracy measures, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from winnow.train.metrics import block_scores, page_token_scores, prf, summarize_token_scores, token_counts


@pytest.mark.parametrize("counts, expected", [
    ((3, 4, 6), (0.75, 0.5, 0.6)),  # P 3/4, R 3/6, F 2*.75*.5/1.25
    ((0, 0, 0), (1.0, 1.0, 1.0)),  # nothing predicted, nothing to find
    ((0, 5, 0), (0.0, 0.0, 0.0)),  # predicted something where the gold is empty
    ((0, 0, 5), (0.0, 0.0, 0.0)),  # found nothing
    ((0, 3, 3), (0.0, 0.0, 0.0)),  # all wrong
    ((2, 2, 8), (1.0, 0.25, 0.4)),
])
def test_prf(counts, expected):
    assert prf(*counts) == pytest.approx(expected)


def test_token_counts_multiset():
    # predicted {the:2, cat:1}, gold {the:1, cat:2, dog:1}: overlap the:1 + cat:1
    assert token_counts("The the cat", "the cat, cat dog") == (2, 3, 4)
    assert token_counts("", "a b") == (0, 0, 2)
    assert token_counts("a a a", "a") == (1, 3, 1)


@pytest.fixture()
def two_pages():
    blocks = pd.DataFrame({
        "page": ["p1", "p1", "p1", "p1", "p2", "p2"],
        "text": ["a b", "c z", "x", "menu", "e f g h", "w"],
        "predicted": ["content", "content", "comment", "chrome", "content", "comment"],
    })
    pages = pd.DataFrame({
        "page": ["p1", "p2"],
        "dataset": ["d", "d"],
        "gold_content": ["a b c d", "e f"],
        "gold_comments": ["x y", ""],
    })
    return blocks, pages


def test_page_token_scores(two_pages):
    scores = page_token_scores(*two_pages).set_index(["page", "part"])
    # p1 content: predicted a b c z, gold a b c d -> overlap 3 of 4 / 4
    assert scores.loc[("p1", "content"), ["overlap", "predicted", "gold"]].tolist() == [3, 4, 4]
    assert scores.loc[("p1", "content"), ["precision", "recall", "f1"]].tolist() == pytest.approx([0.75, 0.75, 0.75])
    # p1 comment: predicted x, gold x y
    assert scores.loc[("p1", "comment"), ["overlap", "predicted", "gold"]].tolist() == [1, 1, 2]
    assert scores.loc[("p1", "comment"), ["precision", "recall", "f1"]].tolist() == pytest.approx([1, 0.5, 2 / 3])
    # p2 content: predicted e f g h, gold e f
    assert scores.loc[("p2", "content"), ["overlap", "predicted", "gold"]].tolist() == [2, 4, 2]
    assert scores.loc[("p2", "content"), ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 1, 2 / 3])
    # p2 comment: predicted w, no gold comments
    assert scores.loc[("p2", "comment"), ["overlap", "predicted", "gold"]].tolist() == [0, 1, 0]
    assert scores.loc[("p2", "comment"), "f1"] == 0
    assert set(scores["dataset"]) == {"d"}


def test_summarize_token_scores(two_pages):
    summary = summarize_token_scores(page_token_scores(*two_pages))
    content, comment = summary["content"], summary["comment"]
    # macro over both pages
    assert content["pages"] == 2
    assert content["precision"] == pytest.approx((0.75 + 0.5) / 2)
    assert content["recall"] == pytest.approx((0.75 + 1.0) / 2)
    assert content["f1"] == pytest.approx((0.75 + 2 / 3) / 2)
    # micro: overlap 5, predicted 8, gold 6
    assert content["micro_precision"] == pytest.approx(5 / 8)
    assert content["micro_recall"] == pytest.approx(5 / 6)
    assert content["micro_f1"] == pytest.approx(2 * (5 / 8) * (5 / 6) / (5 / 8 + 5 / 6))
    # comment macro only over p1 (p2 has no gold comments) ...
    assert comment["pages"] == 1
    assert comment["precision"] == pytest.approx(1.0)
    assert comment["recall"] == pytest.approx(0.5)
    assert comment["f1"] == pytest.approx(2 / 3)
    # ... but micro pools all pages: p2's wrong comment "w" costs precision. overlap 1, predicted 2, gold 2
    assert comment["micro_precision"] == pytest.approx(0.5)
    assert comment["micro_recall"] == pytest.approx(0.5)
    assert comment["micro_f1"] == pytest.approx(0.5)


def test_summarize_without_any_gold_comments():
    blocks = pd.DataFrame({"page": ["p"], "text": ["a b"], "predicted": ["content"]})
    pages = pd.DataFrame({"page": ["p"], "dataset": ["d"], "gold_content": ["a b"], "gold_comments": [""]})
    summary = summarize_token_scores(page_token_scores(blocks, pages))
    assert summary["content"]["f1"] == 1.0
    assert summary["comment"]["pages"] == 0
    assert math.isnan(summary["comment"]["f1"])
    assert summary["comment"]["micro_f1"] == 1.0  # no comments predicted, none in the gold


def test_page_without_blocks_scores_zero_recall():
    blocks = pd.DataFrame({"page": ["other"], "text": ["a"], "predicted": ["content"]})
    pages = pd.DataFrame({"page": ["p"], "dataset": ["d"], "gold_content": ["a b"], "gold_comments": [""]})
    scores = page_token_scores(blocks, pages).set_index("part")
    assert scores.loc["content", ["overlap", "predicted", "gold", "recall"]].tolist() == [0, 0, 2, 0]


def test_page_token_scores_other_column(two_pages):
    blocks, pages = two_pages
    blocks = blocks.assign(label=["content", "content", "content", "chrome", "content", "chrome"])
    scores = page_token_scores(blocks, pages, column="label").set_index(["page", "part"])
    assert scores.loc[("p1", "content"), ["overlap", "predicted", "gold"]].tolist() == [3, 5, 4]
    assert scores.loc[("p2", "comment"), "predicted"] == 0


def test_block_scores_by_hand():
    gold = pd.Series(["content", "content", "chrome", "comment", "chrome", "content"])
    predicted = pd.Series(["content", "chrome", "chrome", "content", "chrome", "content"])
    scores = block_scores(gold, predicted)
    assert scores["confusion"]["labels"] == ["content", "comment", "chrome"]
    # rows gold, columns predicted
    assert scores["confusion"]["matrix"] == [
        [2, 0, 1],  # gold content: 2 right, 1 called chrome
        [1, 0, 0],  # gold comment: called content
        [0, 0, 2],  # gold chrome: both right
    ]
    per = scores["per_label"]
    assert per["content"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "blocks": 3})
    assert per["comment"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "blocks": 1})
    assert per["chrome"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "blocks": 2})
    assert scores["accuracy"] == pytest.approx(4 / 6)
