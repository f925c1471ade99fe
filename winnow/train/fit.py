"""Fit a model on labeled datasets and write its model card."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn.pipeline import Pipeline

from winnow.features import MAX_CLASS_TOKENS, BlockFeatures
from winnow.model import LEARNING_RATE, MAX_ITER, MAX_LEAF_NODES, WinnowModel, library_versions, make_pipeline
from winnow.segment import LABELS
from winnow.train.corpus import load_corpus
from winnow.train.datasets import COMMENT_LABELED, LICENSES

# `winnow train --preset NAME`: what the shipped default model is built from, and what it is scored on.
PRESETS = {
    "default": {"train": ["dragnet:train", "wcxb-dev", "cleaneval", "cleanportaleval"], "test": ["dragnet:test"],
                # dragnet's training pages are rendered to text twice, each time in another random style.
                "text": ["dragnet:train@text", "dragnet:train@text2", "wcxb-dev@text"], "text_test": ["dragnet:test@text"],
                # The HTML model fits its boosting on half the chrome blocks, each counted twice: 1.5 minutes
                # less of fitting, within the noise of the held-out fifth (docs/DESIGN.md).
                "chrome_share": 0.5,
                # CleanEval's 2007 pages count 0.3 times in the HTML model: its labeling (blog comments as
                # content) cost dragnet's held-out fifths content F1 (docs/DESIGN.md).
                "dataset_weights": {"cleaneval": 0.3},
                # The text model (docs/DESIGN.md): smaller boosting, on 0.35 of the chrome blocks; comment
                # blocks count three times, since without markup the model missed comments far more than it
                # invented them, and a line is labeled comment from a comment probability of 0.3; wcxb's pages
                # count 0.3 times: rendered to text, its labeling habits and dragnet's blur into each other,
                # and its share of the blocks drowned dragnet's.
                "text_params": {"max_iter": 100, "learning_rate": 0.3, "max_leaf_nodes": 31, "comment_weight": 3.0,
                                "dataset_weights": {"wcxb-dev": 0.3}, "comment_threshold": 0.3, "chrome_share": 0.35}},
}


def recipe_params(html: bool) -> dict:
    """How `winnow train --preset default` fits a model: its HTML model's parameters, or (`html` False: every
    block comes from a text page) its text model's, with `comment_threshold`, a decoding choice."""
    preset = PRESETS["default"]
    if html:
        return {"chrome_share": preset["chrome_share"], "dataset_weights": preset["dataset_weights"]}
    return dict(preset["text_params"])


class TrainingError(ValueError):
    """Training data from which no sound model can be fitted."""


def check_training_data(blocks: pd.DataFrame) -> None:
    if blocks.empty:
        raise TrainingError("no labeled blocks in the training data")
    present = set(blocks["label"])
    if len(present) < 2:
        raise TrainingError(f"the training data holds one label only ({', '.join(present)}): "
                            f"a classifier needs at least two of {', '.join(LABELS)}")


# The judge's boosting is small: on the default recipe it drops 90 % of the blocks that 100 iterations
# at 0.1 with 63 leaves drop (5,421 vs 5,556), in two thirds of the time (rates as scikit-learn's
# boosting took them; LightGBM's are 1.5 times as large for the same steps, model.py).
JUDGE_PARAMS = {"max_iter": 50, "learning_rate": 0.3, "max_leaf_nodes": 31}


def unlabeled_comments(blocks: pd.DataFrame, features: BlockFeatures, numbers: pd.DataFrame,
                       threshold: float = 0.5, log=print) -> np.ndarray:
    """Which blocks of sets without comment labels a comment-aware model takes for comments.

    wcxb and CleanEval do not label reader comments: their comment sections are chrome or content.
    Learned as they are, they teach the model that comments are chrome (or content). Their label is
    really unknown, so such blocks are left out of training. The comment-aware model (the judge) is
    fitted on the sets that do label comments, with features made as `features` makes them, from
    `numbers` (BlockFeatures.numbers of `blocks`).
    """
    knows_comments = (blocks["dataset"].isin(COMMENT_LABELED) | (blocks["dataset"] == "native")).to_numpy()
    labels = blocks["label"].to_numpy()
    if knows_comments.all() or not (labels[knows_comments] == "comment").any():
        return np.zeros(len(blocks), bool)
    judge = make_pipeline(**JUDGE_PARAMS, **features.get_params())
    judge_features, classifier = judge.named_steps["features"], judge.named_steps["classifier"]
    classifier.fit(judge_features.fit_transform(blocks[knows_comments], labels[knows_comments],
                                                numbers=numbers[knows_comments]), labels[knows_comments])
    others = judge_features.transform(blocks[~knows_comments], numbers=numbers[~knows_comments])
    ambiguous = np.zeros(len(blocks), bool)
    ambiguous[~knows_comments] = classifier.predict_proba(others)[:, list(classifier.classes_).index("comment")] > threshold
    log(f"left out {int(ambiguous.sum()):,} blocks of sets without comment labels that look like comments")
    return ambiguous


def chrome_sample(labels: np.ndarray, share: float, seed: int = 0) -> tuple[np.ndarray | slice, np.ndarray | float]:
    """Rows kept, and how much each counts: every chrome block is kept with probability `share` and counts
    1 / `share` times. Chrome is most of the blocks, and mostly easy: the boosting's time goes with the rows."""
    if share >= 1:
        return slice(None), 1.0  # all rows, no copy
    is_chrome = labels == "chrome"
    kept = ~is_chrome | (np.random.default_rng(seed).random(len(labels)) < share)
    return kept, np.where(is_chrome[kept], 1 / share, 1.0)


def fit_blocks(blocks: pd.DataFrame, comment_weight: float = 1.0, dataset_weights: dict[str, float] | None = None,
               chrome_share: float = 1.0, log=print, **params) -> tuple[Pipeline, pd.DataFrame]:
    """Fit a pipeline on labeled blocks as `winnow train` does; return it and the blocks it was fitted on.

    `params` go to `make_pipeline`; without `dom`, the markup features are used when some blocks come
    from HTML pages. Blocks of sets without comment labels that look like comments are left out
    (unlabeled_comments); the features of those left in are computed over whole pages all the same.
    `comment_weight` and `dataset_weights` say how much blocks count in the fit (block_weights);
    `chrome_share` of the chrome blocks is drawn to fit the boosting on (chrome_sample).
    """
    blocks = blocks.reset_index(drop=True)
    params.setdefault("dom", bool((blocks["tag"] != "").any()))
    pipeline = make_pipeline(**params)
    features, classifier = pipeline.named_steps["features"], pipeline.named_steps["classifier"]
    numbers = features.numbers(blocks)  # once, for the judge and the fit
    kept = ~unlabeled_comments(blocks, features, numbers, log=log)
    blocks, numbers = blocks[kept], numbers[kept]
    labels = blocks["label"].to_numpy()
    matrix = features.fit_transform(blocks, labels, numbers=numbers)
    rows, counts = chrome_sample(labels, chrome_share)
    weights = block_weights(blocks, comment_weight, dataset_weights)[rows] * counts
    classifier.fit(matrix[rows], labels[rows], sample_weight=weights)
    return pipeline, blocks


def _fingerprints(blocks: pd.DataFrame) -> pd.Series:
    """Page -> hash of its block texts: the same page under two names has the same fingerprint."""
    return blocks.groupby("page", sort=False)["text"].agg(lambda t: hashlib.sha1("\n".join(t).encode()).hexdigest())


def check_test_overlap(blocks: pd.DataFrame, pages: pd.DataFrame, test_blocks: pd.DataFrame,
                       test_pages: pd.DataFrame, log=print) -> None:
    """A test page in the training data makes its score a lie: refuse. The same text under another name: warn."""
    same_id = set(pages["page"]) & set(test_pages["page"])
    if same_id:
        raise TrainingError(f"{len(same_id)} test pages are also in the training data, e.g. {sorted(same_id)[0]}")
    train_prints, test_prints = _fingerprints(blocks), _fingerprints(test_blocks)
    shared = test_prints[test_prints.isin(set(train_prints))]
    if len(shared):
        twin = train_prints[train_prints == shared.iloc[0]].index[0]
        log(f"warning: {len(shared)} test pages have the same text as a training page, e.g. {shared.index[0]} = {twin}")


LOW_COVERAGE = 0.5


def warn_low_coverage(pages: pd.DataFrame, log=print) -> None:
    """Name the pages whose gold text aligned badly: their block labels are doubtful."""
    low = pages[pages["content_coverage"] < LOW_COVERAGE]
    if len(low):
        examples = ", ".join(low["page"].head(5))
        log(f"warning: {len(low)} of {len(pages)} pages cover less than {LOW_COVERAGE:.0%} of their gold text "
            f"with aligned blocks (e.g. {examples}); their labels are doubtful")


def dataset_summary(blocks: pd.DataFrame, pages: pd.DataFrame) -> list[dict]:
    """Per dataset: pages, blocks per label, alignment coverage and licence, for the model card."""
    rows = []
    for name, group in blocks.groupby("dataset", sort=False):
        page_rows = pages[pages["dataset"] == name]
        rows.append({
            "dataset": name, "license": LICENSES.get(name, "unknown"), "pages": int(len(page_rows)),
            "blocks": {label: int((group["label"] == label).sum()) for label in LABELS},
            "mean_content_coverage": round(float(page_rows["content_coverage"].mean()), 4),
            "comments_labeled": name in COMMENT_LABELED or name == "native",
        })
    return rows


def block_weights(blocks: pd.DataFrame, comment_weight: float = 1.0,
                  dataset_weights: dict[str, float] | None = None) -> np.ndarray:
    """How much each block counts in the fit: `comment_weight` for comments, times its dataset's weight."""
    weights = np.where(blocks["label"] == "comment", comment_weight, 1.0)
    return weights * blocks["dataset"].map(dataset_weights or {}).fillna(1.0).to_numpy()


def fit_pipeline(specs: list[str], test_specs: list[str], datasets_dir: Path | None, params: dict,
                 log=print) -> tuple[Pipeline, dict]:
    """Fit one pipeline on the dataset specs; return it with its part of the model card.

    `params` go to `fit_blocks`: those of `make_pipeline`, and how much blocks count in the fit:
    `comment_weight`, how much each comment block counts relative to the other labels' blocks, and
    `dataset_weights`, dataset name -> how much each of its blocks counts (1 for sets not named).
    """
    started = time.perf_counter()
    blocks, pages = load_corpus(specs, datasets_dir)
    check_training_data(blocks)
    if test_specs:
        check_test_overlap(blocks, pages, *load_corpus(test_specs, datasets_dir), log)
    warn_low_coverage(pages, log)
    log(f"fitting on {', '.join(specs)}: {len(pages):,} pages, {len(blocks):,} blocks")
    pipeline, blocks = fit_blocks(blocks, log=log, **params)
    features = pipeline.named_steps["features"].get_feature_names_out()
    card = {
        "training_data": {"specs": specs, "datasets": dataset_summary(blocks, pages)},
        "classifier": type(pipeline.named_steps["classifier"]).__name__,
        "classifier_params": pipeline.named_steps["classifier"].get_params(),
        "features": {"count": len(features), "names": [str(f) for f in features]},
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return pipeline, card


def _metrics(model: WinnowModel, test_specs: list[str], datasets_dir: Path | None, log) -> dict:
    from winnow.train.evaluate import evaluate

    if not test_specs:
        return {}
    log(f"scoring on {', '.join(test_specs)}")
    report = evaluate(model, test_specs, datasets_dir)
    return {"data": test_specs, "tokens": report["tokens"], "blocks": report["blocks"]["per_label"]}


def train(specs: list[str], test_specs: list[str] | None = None, datasets_dir: Path | None = None,
          text_specs: list[str] | None = None, text_test_specs: list[str] | None = None,
          max_iter: int = MAX_ITER, learning_rate: float = LEARNING_RATE, max_leaf_nodes: int = MAX_LEAF_NODES, max_class_tokens: int = MAX_CLASS_TOKENS,
          context: int = 2, chrome_share: float = 1.0, dataset_weights: dict[str, float] | None = None,
          text_params: dict | None = None, log=print) -> WinnowModel:
    """Fit a model on the dataset specs, and a text model on `text_specs` (e.g. "dragnet:train@text").

    Each is scored on its test specs (never trained on) for the model card. `dataset_weights`: dataset
    name -> how much each of its blocks counts (1 for sets not named). The text model uses the same
    parameters, changed by `text_params`.
    """
    params = dict(max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
                  max_class_tokens=max_class_tokens, context=context, chrome_share=chrome_share,
                  dataset_weights=dataset_weights)
    pipeline, html_card = fit_pipeline(specs, test_specs or [], datasets_dir, params, log)
    text_params = {**params, **(text_params or {})}
    comment_threshold = text_params.pop("comment_threshold", None)  # a decoding choice, not a fitting one
    text_pipeline, text_card = (fit_pipeline(text_specs, text_test_specs or [], datasets_dir, text_params, log)
                                if text_specs else (None, None))
    if text_card is not None:
        text_card["params"] = text_params
        if comment_threshold is not None:
            text_card["comment_threshold"] = comment_threshold
    card = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": [str(c) for c in pipeline.classes_],
        "params": params,
        "versions": library_versions(),
        **html_card,
        "text_model": text_card,
    }
    model = WinnowModel(pipeline, card, text_pipeline)
    card["metrics"] = _metrics(model, test_specs or [], datasets_dir, log)
    if text_card is not None:
        text_card["metrics"] = _metrics(model, text_test_specs or [], datasets_dir, log)
    return model
