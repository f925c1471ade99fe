"""Score a model on labeled datasets: the numbers behind `winnow evaluate`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from winnow.model import WinnowModel
from winnow.train.corpus import load_corpus
from winnow.train.metrics import block_scores, page_token_scores, summarize_token_scores

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


def evaluate(model: WinnowModel, specs: list[str], datasets_dir: Path | None = None) -> dict:
    """A report dict: block scores, token scores, worst pages and alignment coverage."""
    blocks, pages = load_corpus(specs, datasets_dir)
    labeled = model.label_blocks(blocks)
    token_rows = page_token_scores(labeled, pages)
    content_rows = token_rows[(token_rows["part"] == "content") & (token_rows["gold"] > 0)]
    worst = content_rows.nsmallest(WORST_PAGES, "f1")
    low = pages[pages["content_coverage"] < LOW_COVERAGE]
    return {
        "data": specs,
        "model": model.card.get("created", "unknown"),
        "pages": int(len(pages)),
        "blocks_total": int(len(blocks)),
        "tokens": summarize_token_scores(token_rows),
        "blocks": block_scores(labeled["label"], labeled["predicted"]),
        "worst_pages": [{"page": r["page"], "f1": round(r["f1"], 4), "precision": round(r["precision"], 4),
                         "recall": round(r["recall"], 4), "problem": _what_went_wrong(r)} for _, r in worst.iterrows()],
        "alignment": {
            "mean_content_coverage": float(pages["content_coverage"].mean()),
            "mean_comment_coverage": float(pages["comment_coverage"].mean()),
            "low_coverage_pages": sorted(low["page"].tolist()),
        },
    }
