"""Score a model on labeled datasets: the numbers behind `winnow evaluate`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from winnow.model import WinnowModel
from winnow.segment import LABELS
from winnow.train.corpus import load_corpus
from winnow.train.metrics import (SHINGLE_SIZE, block_scores, calibration_bins, page_shingle_scores,
                                  page_token_scores, summarize_token_scores)

WORST_PAGES = 10
LOW_COVERAGE = 0.8  # pages whose gold text aligned this badly are listed: their scores mean little


def _what_went_wrong(row: pd.Series) -> str:
    if row["gold"] == 0:
        return "no gold text"
    if row["predicted"] == 0:
        return "nothing found"
    if row["precision"] < row["recall"]:
        return f"extra text: {row['predicted'] - row['overlap']:,} tokens not in the gold"
    return f"missed text: {row['gold'] - row['overlap']:,} gold tokens not found"


def score_labeled(labeled: pd.DataFrame, pages: pd.DataFrame) -> dict:
    """The report numbers for a blocks table that already holds `label`, `predicted` and `proba_<label>`.

    `pages` is the matching page table of load_corpus (gold text and alignment coverage per page).
    """
    token_rows = page_token_scores(labeled, pages)
    content_rows = token_rows[(token_rows["part"] == "content") & (token_rows["gold"] > 0)]
    worst = content_rows.nsmallest(WORST_PAGES, "f1")
    low = pages[pages["content_coverage"] < LOW_COVERAGE]
    shingle_rows = page_shingle_scores(labeled, pages, parts=("content",))
    shingle_summary = summarize_token_scores(shingle_rows).get("content", {})
    return {
        "pages": int(len(pages)),
        "blocks_total": int(len(labeled)),
        "tokens": summarize_token_scores(token_rows),
        "blocks": block_scores(labeled["label"], labeled["predicted"]),
        "worst_pages": [{"page": r["page"], "f1": round(r["f1"], 4), "precision": round(r["precision"], 4),
                         "recall": round(r["recall"], 4), "problem": _what_went_wrong(r)} for _, r in worst.iterrows()],
        "alignment": {
            "mean_content_coverage": float(pages["content_coverage"].mean()),
            "mean_comment_coverage": float(pages["comment_coverage"].mean()),
            "low_coverage_pages": sorted(low["page"].tolist()),
        },
        # Token F1 of every page whose gold has the part, in page order: the distribution behind the macro F1.
        "page_token_f1": {part: [float(f) for f in rows.loc[rows["gold"] > 0, "f1"]]
                          for part, rows in token_rows.groupby("part", sort=False)},
        # Word 4-gram sets per page, P / R / F1 macro-averaged over pages with gold content.
        "shingles": {"content": {"n": SHINGLE_SIZE, "pages": shingle_summary.get("pages", 0),
                                 **{key: shingle_summary.get(key, float("nan")) for key in ("precision", "recall", "f1")}}},
        "calibration": {label: calibration_bins(_proba(labeled, label), labeled["label"] == label) for label in LABELS},
    }


def _proba(labeled: pd.DataFrame, label: str) -> np.ndarray:
    column = f"proba_{label}"
    # A model that never saw a label gives it no column: its probability is 0 everywhere.
    return labeled[column].to_numpy(dtype=float) if column in labeled else np.zeros(len(labeled))


def evaluate_blocks(model: WinnowModel, blocks: pd.DataFrame, pages: pd.DataFrame) -> dict:
    """Label a labeled blocks table with the model and score it against its gold labels and gold text."""
    return score_labeled(model.label_blocks(blocks), pages)


def evaluate(model: WinnowModel, specs: list[str], datasets_dir: Path | None = None) -> dict:
    """A report dict: block scores, token scores, worst pages and alignment coverage."""
    blocks, pages = load_corpus(specs, datasets_dir)
    return {"data": specs, "model": model.card.get("created", "unknown"), **evaluate_blocks(model, blocks, pages)}
