"""The evaluation report's added numbers (shingle F1, calibration, per-page F1) and its HTML page."""

from __future__ import annotations

import math
import re
import shutil
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from winnow.train.evaluate import evaluate, score_labeled
from winnow.train.html_report import report_to_html, write_html
from winnow.train.metrics import (calibration_bins, page_shingle_scores, shingle_counts, shingles,
                                  summarize_token_scores)

# ---------------------------------------------------------------- shingles, worked out by hand


def test_shingles_are_sets_of_word_4grams():
    assert shingles("A b, c d e") == {("a", "b", "c", "d"), ("b", "c", "d", "e")}
    # "a b c d a b c d" holds 5 4-grams, 4 distinct: abcd twice
    assert len(shingles("a b c d a b c d")) == 4
    assert shingles("") == set()
    assert shingles("only two") == {("only", "two")}  # a text shorter than n is one shingle


def test_shingle_counts():
    # predicted {abcd, bcdx}, gold {abcd, bcde}: one in common
    assert shingle_counts("a b c d x", "a b c d e") == (1, 2, 2)
    assert shingle_counts("", "p q r s") == (0, 0, 1)


@pytest.fixture()
def shingle_pages():
    blocks = pd.DataFrame({
        "page": ["p1", "p1", "p1", "p2", "p3", "p4"],
        "text": ["a b c", "d x", "menu items here", "chrome only", "z", "k l m n o p"],
        "predicted": ["content", "content", "chrome", "chrome", "content", "content"],
    })
    pages = pd.DataFrame({
        "page": ["p1", "p2", "p3", "p4"],
        "dataset": ["d"] * 4,
        "gold_content": ["a b c d e", "p q r s", "", "k l m n o p q"],
        "gold_comments": [""] * 4,
    })
    return blocks, pages


def test_page_shingle_scores_per_page_macro(shingle_pages):
    scores = page_shingle_scores(*shingle_pages, parts=("content",)).set_index("page")
    # p1: predicted "a b c\nd x" -> {abcd, bcdx}; gold {abcd, bcde}: P 1/2, R 1/2, F1 1/2
    assert scores.loc["p1", ["overlap", "predicted", "gold"]].tolist() == [1, 2, 2]
    assert scores.loc["p1", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 0.5, 0.5])
    # p2: nothing predicted, gold {pqrs}: 0
    assert scores.loc["p2", ["precision", "recall", "f1"]].tolist() == [0, 0, 0]
    # p3: no gold content: left out of the macro average
    assert scores.loc["p3", "gold"] == 0
    # p4: predicted {klmn, lmno, mnop}, gold those and {nopq}: P 1, R 3/4, F1 6/7
    assert scores.loc["p4", ["precision", "recall", "f1"]].tolist() == pytest.approx([1, 0.75, 6 / 7])
    summary = summarize_token_scores(page_shingle_scores(*shingle_pages, parts=("content",)))["content"]
    assert summary["pages"] == 3
    assert summary["precision"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert summary["recall"] == pytest.approx((0.5 + 0 + 0.75) / 3)
    assert summary["f1"] == pytest.approx((0.5 + 0 + 6 / 7) / 3)


def test_report_shingles_and_page_f1(shingle_pages):
    blocks, pages = shingle_pages
    labeled = blocks.assign(label=["content", "content", "chrome", "content", "chrome", "content"],
                            proba_content=[0.9, 0.8, 0.1, 0.2, 0.7, 0.95], proba_comment=0.0,
                            proba_chrome=lambda t: 1 - t["proba_content"])
    report = score_labeled(labeled, pages.assign(content_coverage=1.0, comment_coverage=float("nan")))
    assert report["shingles"]["content"]["pages"] == 3
    assert report["shingles"]["content"]["f1"] == pytest.approx((0.5 + 0 + 6 / 7) / 3)
    # token F1 per page with gold content, in page order: p1 tokens {a b c d x} vs {a b c d e}: 4/5
    assert report["page_token_f1"]["content"] == pytest.approx([0.8, 0.0, 2 * 1 * (6 / 7) / (1 + 6 / 7)])
    assert report["page_token_f1"]["comment"] == []
    assert report["tokens"]["content"]["f1"] == pytest.approx(np.mean(report["page_token_f1"]["content"]))


# ---------------------------------------------------------------- calibration, worked out by hand


def test_calibration_bins_by_hand():
    proba = [0.05, 0.15, 0.12, 0.95, 1.0, 0.5]
    is_label = [False, True, False, True, True, False]
    result = calibration_bins(proba, is_label)
    bins = result["bins"]
    assert len(bins) == 10
    assert [b["count"] for b in bins] == [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    assert (bins[0]["mean_predicted"], bins[0]["observed"]) == pytest.approx((0.05, 0.0))
    assert (bins[1]["mean_predicted"], bins[1]["observed"]) == pytest.approx((0.135, 0.5))
    assert (bins[5]["mean_predicted"], bins[5]["observed"]) == pytest.approx((0.5, 0.0))
    assert (bins[9]["mean_predicted"], bins[9]["observed"]) == pytest.approx((0.975, 1.0))  # p = 1 in the last bin
    assert math.isnan(bins[2]["mean_predicted"]) and math.isnan(bins[2]["observed"])
    assert (bins[3]["lower"], bins[3]["upper"]) == pytest.approx((0.3, 0.4))
    # ECE: (1 * 0.05 + 2 * 0.365 + 1 * 0.5 + 2 * 0.025) / 6
    assert result["ece"] == pytest.approx(1.33 / 6)
    assert (result["blocks"], result["positives"]) == (6, 3)


def test_calibration_bin_edges():
    counts = [b["count"] for b in calibration_bins([0.0, 0.1, 0.3, 0.7, 0.99999, 1.0], [False] * 6)["bins"]]
    assert counts == [1, 1, 0, 1, 0, 0, 0, 1, 0, 2]


# ---------------------------------------------------------------- the report of a real evaluation


@pytest.fixture(scope="module")
def evil_dir(native_dir, tmp_path_factory):
    """The native pages in a folder whose name holds markup: every page id and the data name carry it."""
    folder = tmp_path_factory.mktemp("html") / 'pages<script>alert("x")&'
    shutil.copytree(native_dir, folder)
    return folder


@pytest.fixture(scope="module")
def report(tiny_model, evil_dir):
    return evaluate(tiny_model, [str(evil_dir)])


def test_report_keeps_old_keys_and_adds_new_ones(report):
    assert {"data", "model", "pages", "blocks_total", "tokens", "blocks", "worst_pages", "alignment"} <= set(report)
    assert len(report["page_token_f1"]["content"]) == report["tokens"]["content"]["pages"] == 12
    assert len(report["page_token_f1"]["comment"]) == report["tokens"]["comment"]["pages"]
    assert set(report["shingles"]["content"]) >= {"precision", "recall", "f1", "pages"}
    assert report["shingles"]["content"]["pages"] == 12
    assert report["shingles"]["content"]["f1"] > 0.9
    matrix = np.array(report["blocks"]["confusion"]["matrix"])
    for n, label in enumerate(report["blocks"]["confusion"]["labels"]):
        calibration = report["calibration"][label]
        assert len(calibration["bins"]) == 10
        assert sum(b["count"] for b in calibration["bins"]) == report["blocks_total"]
        assert calibration["positives"] == matrix[n].sum()  # blocks whose gold label is the label


class _Structure(HTMLParser):
    """Checks that every element is closed, in order; collects tags and attributes."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base", "embed", "track"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.attributes, self.errors, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(report):
    return report_to_html(report)


def test_html_is_well_formed(page):
    assert page.startswith("<!DOCTYPE html>")
    parser = _Structure()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert parser.tags[0] == "html" and parser.tags.count("body") == 1 and parser.tags.count("title") >= 1
    for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        ElementTree.fromstring(svg)  # every plot is well-formed XML too


def test_html_has_a_plot_for_each_view(page):
    labels = re.findall(r'<svg\b[^>]*aria-label="([^"]*)"', page)
    assert len(labels) == page.count("<svg") == page.count("</svg>")
    expected = ["Confusion matrix heat map", "F1 per label", "Histogram of per-page content token F1",
                "Histogram of per-page comment token F1", "Reliability plot for content",
                "Reliability plot for comment", "Reliability plot for chrome"]
    for name in expected:
        assert any(label.startswith(name) for label in labels), name
    assert page.count("<table") >= 5  # tokens, blocks, confusion counts, shingles, worst pages


def test_html_loads_nothing_from_outside(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|img|iframe|object|embed|source|audio|video)\b", page, flags=re.I)
    assert not re.search(r"\b(src|href|srcset)\s*=", page, flags=re.I)
    assert "url(" not in page and "@import" not in page


def test_html_escapes_data(page, report):
    assert 'pages<script>alert("x")&' in report["worst_pages"][0]["page"]
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&amp;" in page
    parser = _Structure()
    parser.feed(page)
    text = "".join(parser.text)
    assert 'pages<script>alert("x")&' in text  # what a reader sees is the page id as it is
    assert "script" not in parser.tags


def test_html_has_no_nan_in_numbers(page, report):
    # Empty calibration bins hold NaN; a set without comments has NaN comment scores.
    assert any(math.isnan(b["observed"]) for b in report["calibration"]["comment"]["bins"])
    nan = float("nan")
    no_comments = {**report, "tokens": {**report["tokens"], "comment": {**report["tokens"]["comment"],
                                        "precision": nan, "recall": nan, "f1": nan, "pages": 0}},
                   "page_token_f1": {**report["page_token_f1"], "comment": []},
                   "alignment": {**report["alignment"], "mean_comment_coverage": nan}}
    for html in (page, report_to_html(no_comments)):
        assert not re.search(r'="[^"]*\bnan\b', html, flags=re.I)  # no NaN coordinates or labels
        assert not re.search(r">\s*nan\s*<", html, flags=re.I)
    assert "n/a" in report_to_html(no_comments)
    assert "Histogram of per-page comment token F1" not in report_to_html(no_comments)


def test_write_html_whole_or_not_at_all(report, tmp_path, monkeypatch):
    target = tmp_path / "out" / "report.html"
    write_html(report, target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]

    def broken(_report):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr("winnow.train.html_report.report_to_html", broken)
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        write_html(report, target)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_html_from_a_report_without_the_new_keys(report):
    old = {k: v for k, v in report.items() if k not in ("page_token_f1", "shingles", "calibration")}
    page = report_to_html(old)
    assert "Confusion matrix heat map" in page and "Reliability plot" not in page
