"""The compiled tree walk gives LightGBM's own probabilities, bit for bit, early stop included."""

from __future__ import annotations

from unittest.mock import patch

import lightgbm
import numpy as np
import pytest

from winnow.trees import CompiledTrees

pytest.importorskip("winnow._trees", reason="winnow._trees is not built (no C compiler at install)")


def _fitted(rows: np.ndarray, labels: np.ndarray, **params) -> lightgbm.LGBMClassifier:
    settings = dict(n_estimators=30, num_leaves=15, min_child_samples=5, learning_rate=0.3, verbose=-1, n_jobs=1)
    return lightgbm.LGBMClassifier(**settings | params).fit(rows, labels)


def _synthetic(seed: int, n: int = 600, width: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, width)).astype(np.float32)
    rows[rng.random((n, width)) < 0.3] = 0  # features are often exactly 0, as winnow's are
    labels = np.array(["chrome", "comment", "content"])[(rows[:, 0] > 0).astype(int) + (rows[:, 1] + rows[:, 2] > 0.5)]
    return rows, labels


def _edge_rows(model: lightgbm.LGBMClassifier, width: int, seed: int) -> np.ndarray:
    """Rows whose values sit on the model's thresholds (the float just below, at and above each), and NaN,
    infinities and values around LightGBM's zero threshold (1e-35)."""
    rng = np.random.default_rng(seed)
    trees = model.booster_.dump_model()["tree_info"]
    found: list[tuple[int, float]] = []

    def visit(node):
        if "split_feature" in node:
            found.append((node["split_feature"], node["threshold"]))
            visit(node["left_child"])
            visit(node["right_child"])

    for tree in trees:
        visit(tree["tree_structure"])
    rows = rng.normal(size=(len(found) * 3, width)).astype(np.float32)
    for n, (feature, threshold) in enumerate(found):
        at = np.float32(threshold)
        rows[3 * n:3 * n + 3, feature] = [np.nextafter(at, np.float32(-np.inf)), at, np.nextafter(at, np.float32(np.inf))]
    odd = np.array([np.nan, np.inf, -np.inf, 1e-35, -1e-35, 1.5e-35, 1e-36, -1e-36, 0.0, -0.0], dtype=np.float32)
    scattered = rng.random(rows.shape) < 0.1
    rows[scattered] = rng.choice(odd, size=scattered.sum())
    extra = rng.choice(odd, size=(200, width)).astype(np.float32)
    return np.vstack([rows, extra])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probabilities_are_lightgbms_bit_for_bit(seed):
    rows, labels = _synthetic(seed)
    model = _fitted(rows, labels)
    trees = CompiledTrees.of(model.booster_)
    assert trees is not None
    tests = np.vstack([_synthetic(seed + 10, n=700)[0], _edge_rows(model, rows.shape[1], seed)])
    for options in ({}, {"pred_early_stop": True, "pred_early_stop_margin": 1.5, "pred_early_stop_freq": 3},
                    {"pred_early_stop": True, "pred_early_stop_margin": 0.2, "pred_early_stop_freq": 1}):
        expected = model.predict_proba(tests, **options)
        np.testing.assert_array_equal(trees.predict_proba(tests, **options), expected)


def test_the_early_stop_stops():
    rows, labels = _synthetic(3)
    model, tests = _fitted(rows, labels), _synthetic(4)[0]
    trees = CompiledTrees.of(model.booster_)
    stopped = trees.predict_proba(tests, pred_early_stop=True, pred_early_stop_margin=0.5, pred_early_stop_freq=2)
    assert not np.array_equal(stopped, trees.predict_proba(tests))


def test_trees_of_one_leaf_and_more_rows_than_a_block():
    rows, labels = _synthetic(5, n=300)
    model = _fitted(rows, labels, min_child_samples=1000)  # no split is allowed: every tree is one leaf
    assert all(tree["num_leaves"] == 1 for tree in model.booster_.dump_model()["tree_info"])
    tests = _synthetic(6, n=1000)[0]  # several blocks of 256 rows and groups of 16, and a short last group
    np.testing.assert_array_equal(CompiledTrees.of(model.booster_).predict_proba(tests), model.predict_proba(tests))


def test_what_is_not_walked_here_is_left_to_lightgbm():
    rows, labels = _synthetic(7)
    binary = _fitted(rows, labels == "content")
    assert CompiledTrees.of(binary.booster_) is None
    with_nan = rows.copy()
    with_nan[::7, 0] = np.nan  # NaN seen in training: LightGBM sends missing values their own way
    assert CompiledTrees.of(_fitted(with_nan, labels).booster_) is None
    categories = rows.copy()
    categories[:, 0] = (labels == "content") * 2 + np.arange(len(rows)) % 2  # categories 2 and 3: content
    categorical = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(categories, labels, categorical_feature=[0])
    assert CompiledTrees.of(categorical.booster_) is None
    trees = CompiledTrees.of(_fitted(rows, labels).booster_)
    with pytest.raises(ValueError, match="float32 matrix of 12 features"):
        trees.predict_proba(rows.astype(np.float64))


def test_the_model_labels_with_the_compiled_trees(shared_datasets):
    from itertools import islice

    import pandas as pd

    from winnow.model import EARLY_STOP, load_model
    from winnow.segment import segment
    from winnow.train.datasets import iter_dataset

    model = load_model()
    blocks = pd.concat([segment(item.page).assign(page=str(n))
                        for n, item in enumerate(islice(iter_dataset("dragnet:test", shared_datasets), 30))])
    matrix = model.pipeline[:-1].transform(blocks)
    expected = model.pipeline[-1].predict_proba(matrix, **EARLY_STOP)
    trees = model._compiled_trees(model.pipeline[-1])
    np.testing.assert_array_equal(trees.predict_proba(matrix, **EARLY_STOP), expected)
    with patch.object(CompiledTrees, "predict_proba", side_effect=AssertionError("walked")):
        with pytest.raises(AssertionError, match="walked"):
            model.label_blocks(blocks)
