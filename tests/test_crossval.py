"""Cross-validation (`winnow evaluate --cv`): folds by group, one model per fold, per-fold and mean scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winnow.train.crossval import cross_validate, fold_pages
from winnow.train.fit import TrainingError
from winnow.train.report import markdown_cv_report


@pytest.fixture(scope="module")
def cv_report(native_dir):
    return cross_validate([str(native_dir)], 3, "page", max_iter=5, log=lambda message: None)


def test_three_folds_with_disjoint_held_out_groups(cv_report, native_dir):
    folds = cv_report["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    held_out = [set(f["groups"]) for f in folds]
    assert all(held_out)
    assert not (held_out[0] & held_out[1] or held_out[0] & held_out[2] or held_out[1] & held_out[2])
    assert set().union(*held_out) == {str(p) for p in native_dir.glob("*.html")}  # every page held out once
    assert sum(f["pages"] for f in folds) == cv_report["pages"] == 12
    # each fold's model saw every block but the held-out ones (native pages: nothing is left out)
    assert all(f["train_blocks"] + f["blocks"] == cv_report["blocks_total"] for f in folds)


def test_per_fold_and_mean_scores(cv_report):
    for part in ("content", "comment"):
        f1 = [f["tokens"][part]["f1"] for f in cv_report["folds"]]
        assert all(0 <= v <= 1 for v in f1)
        summary = cv_report["summary"][part]["f1"]
        assert summary["mean"] == pytest.approx(np.mean(f1))
        assert summary["std"] == pytest.approx(np.std(f1, ddof=1))
        assert summary["folds"] == 3
    assert cv_report["summary"]["content"]["f1"]["mean"] > 0.8  # easy pages: even 5 iterations find the article
    assert cv_report["pooled"]["tokens"]["content"]["pages"] == 12
    assert (cv_report["k"], cv_report["group_by"], cv_report["max_iter"]) == (3, "page", 5)


def test_markdown_cv_report(cv_report):
    text = markdown_cv_report(cv_report)
    assert "| fold | groups | pages | content P |" in text
    assert "| mean ± std |" in text
    assert text.count("\n| 1 |") == 1 and "\n| 3 |" in text


def _pages(groups: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"page": [f"p{n}" for n in range(len(groups))], "group": groups})


def test_folds_keep_a_group_together():
    pages = _pages(["a", "a", "a", "b", "b", "c", "d", "e", "f"])
    folds = fold_pages(pages, 3, "domain")
    assert sorted(np.concatenate(folds).tolist()) == list(range(9))
    for held_out in folds:
        inside = set(pages["group"].iloc[held_out])
        outside = set(pages["group"].drop(index=pages.index[held_out]))
        assert not inside & outside
    # by page, the same pages split freely: nine groups
    assert sorted(len(f) for f in fold_pages(pages, 3, "page")) == [3, 3, 3]


def test_too_few_groups_is_a_clear_error():
    with pytest.raises(TrainingError, match="5 folds need at least 5 groups"):
        fold_pages(_pages(["a", "a", "b", "b", "c", "d"]), 5, "domain")
    with pytest.raises(TrainingError, match="at least 2 folds"):
        fold_pages(_pages(["a", "b"]), 1, "page")
    with pytest.raises(TrainingError, match="group-by"):
        fold_pages(_pages(["a", "b"]), 2, "site")


def test_added_pages_are_fitted_on_in_every_fold_and_never_scored(native_dir, tmp_path):
    from conftest import make_article_page

    extra = tmp_path / "extra"
    extra.mkdir()
    for seed in range(100, 104):
        (extra / f"more{seed}.html").write_text(make_article_page(seed), encoding="utf-8")
    report = cross_validate([str(native_dir)], 3, "page", max_iter=5, add=[str(extra)], log=lambda message: None)
    added_blocks = report["folds"][0]["train_blocks"] + report["folds"][0]["blocks"] - report["blocks_total"]
    assert added_blocks > 0
    # every fold fitted on the same added blocks; only the cross-validated pages are scored
    assert all(f["train_blocks"] + f["blocks"] - report["blocks_total"] == added_blocks for f in report["folds"])
    assert sum(f["pages"] for f in report["folds"]) == report["pages"] == 12
    assert report["add"] == [str(extra)] and "every fold also fitted on" in markdown_cv_report(report)
    # the default preset's HTML recipe, its boosting size overridden
    assert report["recipe"]["chrome_share"] == 0.5 and report["max_iter"] == 5


def test_added_pages_must_not_be_cross_validated_pages(native_dir):
    with pytest.raises(TrainingError, match="also in"):
        cross_validate([str(native_dir)], 3, "page", max_iter=5, add=[str(native_dir)], log=lambda message: None)


def test_text_pages_are_fitted_and_decoded_as_the_text_model(tmp_path):
    for n in range(6):
        (tmp_path / f"p{n}.txt").write_text(f"chrome\tHome | News\ncontent\tLine {n} of the article, a sentence.\n"
                                            f"content\tAnother sentence of article {n}.\ncomment\tjane 2 days ago\n")
    report = cross_validate([str(tmp_path)], 3, "page", max_iter=5, log=lambda message: None)
    assert report["recipe"]["comment_threshold"] == 0.3 and report["recipe"]["comment_weight"] == 3.0
    assert report["max_iter"] == 5
