"""Cross-validated scores on one labeled set: `winnow evaluate DATA --cv K --group-by domain|page`.

The pages are split into K folds by group (GroupKFold), so that no site (`domain`: the `group` column of
load_corpus, the site for wcxb and CleanEval, the page itself for dragnet and native pages) or page
(`page`) is on both sides of a split. Per fold, a pipeline is fitted on the other folds (plus every page of
the `add` sets, which are never scored) as `winnow train --preset default` fits its HTML model, or its text
model when every block comes from a text page (recipe_params), and the held-out fold is scored by the
evaluate machinery. The report gives every fold's numbers and their mean and standard deviation
(across folds, ddof=1), and the out-of-fold predictions of all folds scored together (`pooled`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from winnow.model import MAX_ITER, WinnowModel
from winnow.train.corpus import load_corpus
from winnow.train.evaluate import score_labeled
from winnow.train.fit import TrainingError, check_training_data, fit_blocks, recipe_params
from winnow.train.metrics import summarize_token_scores, page_token_scores

GROUP_BY = ("domain", "page")
PARTS = ("content", "comment")
STATS = ("precision", "recall", "f1")


def _page_groups(pages: pd.DataFrame, group_by: str) -> pd.Series:
    if group_by not in GROUP_BY:
        raise TrainingError(f"unknown --group-by {group_by!r} (choose from {', '.join(GROUP_BY)})")
    return pages["group"] if group_by == "domain" else pages["page"]


def fold_pages(pages: pd.DataFrame, k: int, group_by: str) -> list[np.ndarray]:
    """Row positions in `pages` of each fold's held-out pages; every page is held out exactly once."""
    groups = _page_groups(pages, group_by).to_numpy()
    distinct = len(set(groups))
    if k < 2:
        raise TrainingError(f"--cv needs at least 2 folds, not {k}")
    if distinct < k:
        raise TrainingError(f"{k} folds need at least {k} groups, but the data holds {distinct} "
                            f"(grouped by {group_by})")
    return [held_out for _, held_out in GroupKFold(n_splits=k).split(pages, groups=groups)]


def _mean_std(values: list[float]) -> dict:
    finite = [v for v in values if v == v]
    return {"mean": float(np.mean(finite)) if finite else float("nan"),
            "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"),
            "folds": len(finite)}


def _fold_model(train_blocks: pd.DataFrame, params: dict, log) -> tuple[WinnowModel, pd.DataFrame]:
    """A fold's model, fitted and decoding as the default model's HTML or text half does."""
    params = dict(params)
    threshold = params.pop("comment_threshold", None)
    pipeline, fitted = fit_blocks(train_blocks, log=log, **params)
    if threshold is None:
        return WinnowModel(pipeline), fitted
    return WinnowModel(pipeline, {"text_model": {"comment_threshold": threshold}}, text_pipeline=pipeline), fitted


def cross_validate(specs: list[str], k: int = 5, group_by: str = "domain", datasets_dir: Path | None = None,
                   max_iter: int | None = None, add: list[str] | None = None, log=print) -> dict:
    """Fit and score K pipelines on the folds of the labeled set `specs`, each also fitted on all of `add`;
    a plain dict, as evaluate gives. `max_iter` overrides the recipe's boosting iterations."""
    started = time.perf_counter()
    blocks, pages = load_corpus(specs, datasets_dir)
    check_training_data(blocks)
    added = load_corpus(add, datasets_dir)[0] if add else blocks.iloc[:0]
    shared = set(added["page"]) & set(pages["page"])
    if shared:
        raise TrainingError(f"--cv-add {', '.join(add)}: {len(shared)} of its pages are also in {', '.join(specs)} "
                            f"(e.g. {sorted(shared)[0]}); a page must not be fitted on in the fold that scores it")
    params = recipe_params(bool((blocks["tag"] != "").any() or (added["tag"] != "").any()))
    if max_iter is not None:
        params["max_iter"] = max_iter
    page_group = dict(zip(pages["page"], _page_groups(pages, group_by)))
    folds, out_of_fold = [], []
    for n, held_out in enumerate(fold_pages(pages, k, group_by), start=1):
        test_pages = pages.iloc[held_out]
        is_test = blocks["page"].isin(set(test_pages["page"]))
        train_blocks, test_blocks = pd.concat([blocks[~is_test], added], ignore_index=True), blocks[is_test]
        try:
            check_training_data(train_blocks)
        except TrainingError as error:
            raise TrainingError(f"fold {n}: {error}") from None
        log(f"fold {n}/{k}: fitting on {len(train_blocks):,} blocks, scoring {len(test_pages):,} pages")
        model, train_blocks = _fold_model(train_blocks, params, log)
        labeled = model.label_blocks(test_blocks)
        report = score_labeled(labeled, test_pages)
        out_of_fold.append(labeled)
        folds.append({
            "fold": n,
            "groups": sorted({page_group[p] for p in test_pages["page"]}),
            "pages": report["pages"], "blocks": report["blocks_total"], "train_blocks": int(len(train_blocks)),
            "tokens": {part: {key: report["tokens"][part][key] for key in ("pages", *STATS)} for part in PARTS},
            "shingles": report["shingles"],
            "block_accuracy": report["blocks"]["accuracy"],
        })
    pooled = pd.concat(out_of_fold, ignore_index=True)
    return {
        "data": specs, "k": k, "group_by": group_by, "max_iter": params.get("max_iter", MAX_ITER),
        "add": list(add or []), "recipe": params,
        "pages": int(len(pages)), "blocks_total": int(len(blocks)), "groups": len(set(page_group.values())),
        "folds": folds,
        "summary": {part: {stat: _mean_std([f["tokens"][part][stat] for f in folds]) for stat in STATS}
                    for part in PARTS},
        "shingles_summary": {"content": {"f1": _mean_std([f["shingles"]["content"]["f1"] for f in folds])}},
        "pooled": {"tokens": summarize_token_scores(page_token_scores(pooled, pages)),
                   "block_accuracy": float((pooled["label"] == pooled["predicted"]).mean())},
        "seconds": round(time.perf_counter() - started, 1),
    }
