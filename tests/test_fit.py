"""Fitting on labeled blocks: the judge that leaves out unlabeled comment sections, and fit_blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_article_page
from winnow.features import BlockFeatures
from winnow.train.corpus import load_corpus
from winnow.train.fit import fit_blocks, unlabeled_comments


@pytest.fixture(scope="module")
def mixed_blocks(native_dir, tmp_path_factory) -> pd.DataFrame:
    """The native pages (comments labeled) and other pages posing as a set without comment labels:
    their comment sections are labeled chrome, as wcxb labels them."""
    folder = tmp_path_factory.mktemp("no_comment_labels")
    for seed in range(100, 106):
        (folder / f"other{seed}.html").write_text(make_article_page(seed), encoding="utf-8")
    native, _ = load_corpus([str(native_dir)])
    others, _ = load_corpus([str(folder)])
    others = others.assign(dataset="wcxb-dev", was_comment=others["label"] == "comment",
                           label=others["label"].replace("comment", "chrome"))
    return pd.concat([native.assign(was_comment=False), others], ignore_index=True)


def test_the_judge_leaves_out_comment_sections_of_sets_without_comment_labels(mixed_blocks):
    features = BlockFeatures()
    left_out = unlabeled_comments(mixed_blocks, features, features.numbers(mixed_blocks), log=lambda m: None)
    others = (mixed_blocks["dataset"] == "wcxb-dev").to_numpy()
    was_comment = mixed_blocks["was_comment"].to_numpy()
    assert not left_out[~others].any()  # a set that labels comments keeps every block
    assert left_out[was_comment].mean() > 0.8
    assert not left_out[others & ~was_comment].any()


def test_fit_blocks_fits_on_what_the_judge_keeps(mixed_blocks):
    messages = []
    pipeline, fitted = fit_blocks(mixed_blocks, log=messages.append, max_iter=10)
    assert fitted["was_comment"].sum() < mixed_blocks["was_comment"].sum() * 0.2
    assert len(fitted) + int(messages[0].split()[2]) == len(mixed_blocks)  # "left out N blocks ..."
    assert sorted(pipeline.classes_) == ["chrome", "comment", "content"]


def test_left_out_blocks_still_count_as_their_neighbours(mixed_blocks, monkeypatch):
    """The features fitted on are those of whole pages, as at prediction, not of pages with holes."""
    from lightgbm import LGBMClassifier

    matrices = []
    real_fit = LGBMClassifier.fit
    monkeypatch.setattr(LGBMClassifier, "fit",
                        lambda self, X, y, **kw: matrices.append(X) or real_fit(self, X, y, **kw))
    pipeline, fitted = fit_blocks(mixed_blocks, log=lambda m: None, max_iter=5)
    features = pipeline.named_steps["features"]
    whole_pages = features.numbers(mixed_blocks)
    fitted_on = matrices[-1][:, :whole_pages.shape[1]]  # the judge's fit came first
    assert np.array_equal(fitted_on, whole_pages.to_numpy()[fitted.index])
    assert not np.array_equal(fitted_on, features.numbers(fitted).to_numpy())


def test_text_blocks_alone_fit_without_markup_features(native_dir):
    blocks, _ = load_corpus([f"{native_dir}@text"])
    pipeline, _ = fit_blocks(blocks, log=lambda m: None, max_iter=5)
    names = pipeline.named_steps["features"].get_feature_names_out()
    assert not pipeline.named_steps["features"].dom
    assert not any(name.startswith(("tag=", "in_", "near_", "far_")) for name in names)
    html_pipeline, _ = fit_blocks(load_corpus([str(native_dir)])[0], log=lambda m: None, max_iter=5)
    assert html_pipeline.named_steps["features"].dom


def test_chrome_sample_keeps_every_other_block_and_the_chrome_total():
    from winnow.train.fit import chrome_sample

    labels = np.array(["chrome"] * 7000 + ["content"] * 2000 + ["comment"] * 1000)
    rows, counts = chrome_sample(labels, 0.5)
    kept = labels[rows]
    assert (kept == "content").sum() == 2000 and (kept == "comment").sum() == 1000
    assert 3300 < (kept == "chrome").sum() < 3700
    assert set(counts[kept == "chrome"]) == {2.0} and set(counts[kept != "chrome"]) == {1.0}
    assert np.array_equal(labels[chrome_sample(labels, 1.0)[0]], labels)


def test_train_fits_with_the_dataset_weights_and_records_them(native_dir):
    from winnow.train.fit import train

    blocks, _ = load_corpus([str(native_dir)])
    models = [train([str(native_dir)], max_iter=10, dataset_weights=weights, log=lambda m: None)
              for weights in (None, {blocks["dataset"].iloc[0]: 0.2})]
    assert models[1].card["params"]["dataset_weights"] == {blocks["dataset"].iloc[0]: 0.2}
    proba = [model.label_blocks(blocks)["proba_content"].to_numpy() for model in models]
    assert not np.allclose(*proba)  # counted 0.2 times, the blocks weigh less against the boosting's L2 penalty
