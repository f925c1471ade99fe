"""Accuracy measures: by blocks (against aligned labels) and by tokens (against the gold text itself).

Token scores compare the bag of word tokens a label's predicted blocks hold with the bag of tokens of
the page's gold text for that label. They are computed per page and macro-averaged over the pages
whose gold has that part (comment scores only over pages with comments), and also pooled over all
tokens (micro), where a page without comments still pays for comments it wrongly finds.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from winnow.segment import LABELS
from winnow.tokens import tokenize


def prf(overlap: float, predicted: float, gold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts; an empty prediction of an empty gold scores 1."""
    if predicted == 0 and gold == 0:
        return 1.0, 1.0, 1.0
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def token_counts(predicted_text: str, gold_text: str) -> tuple[int, int, int]:
    """(overlap, predicted, gold) token counts, tokens compared as multisets."""
    predicted, gold = Counter(tokenize(predicted_text)), Counter(tokenize(gold_text))
    return sum((predicted & gold).values()), sum(predicted.values()), sum(gold.values())


def page_token_scores(blocks: pd.DataFrame, pages: pd.DataFrame, column: str = "predicted") -> pd.DataFrame:
    """Per page and label part: token overlap counts and precision / recall / F1."""
    texts = {label: blocks[blocks[column] == label].groupby("page")["text"].agg("\n".join)
             for label in ("content", "comment")}
    rows = []
    for page in pages.itertuples(index=False):
        for label, gold_text in (("content", page.gold_content), ("comment", page.gold_comments)):
            overlap, predicted, gold = token_counts(texts[label].get(page.page, ""), gold_text)
            precision, recall, f1 = prf(overlap, predicted, gold)
            rows.append({"page": page.page, "dataset": page.dataset, "part": label, "overlap": overlap,
                         "predicted": predicted, "gold": gold, "precision": precision, "recall": recall, "f1": f1})
    return pd.DataFrame(rows)


def summarize_token_scores(scores: pd.DataFrame) -> dict:
    """Macro (over pages whose gold has the part) and micro token scores per part."""
    summary = {}
    for part, rows in scores.groupby("part"):
        with_gold = rows[rows["gold"] > 0]
        micro = prf(rows["overlap"].sum(), rows["predicted"].sum(), rows["gold"].sum())
        summary[part] = {
            "pages": int(len(with_gold)),
            "precision": float(with_gold["precision"].mean()) if len(with_gold) else float("nan"),
            "recall": float(with_gold["recall"].mean()) if len(with_gold) else float("nan"),
            "f1": float(with_gold["f1"].mean()) if len(with_gold) else float("nan"),
            "micro_precision": micro[0], "micro_recall": micro[1], "micro_f1": micro[2],
        }
    return summary


def block_scores(gold: pd.Series, predicted: pd.Series) -> dict:
    """Per-label precision / recall / F1 over blocks, and the confusion matrix (rows gold, columns predicted)."""
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=list(LABELS),
                                                                     zero_division=0)
    matrix = confusion_matrix(gold, predicted, labels=list(LABELS))
    return {
        "per_label": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "blocks": int(s)}
                      for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)},
        "accuracy": float(np.mean(np.asarray(gold) == np.asarray(predicted))) if len(gold) else float("nan"),
        "confusion": {"labels": list(LABELS), "matrix": matrix.tolist()},
    }


# ---------------------------------------------------------------- shingles and calibration

SHINGLE_SIZE = 4
CALIBRATION_BINS = 10


def shingles(text: str, n: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """The set of word n-grams (shingles) of `text`; a text of fewer than n tokens is one shorter shingle."""
    tokens = tokenize(text)
    if 0 < len(tokens) < n:
        return {tuple(tokens)}
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def shingle_counts(predicted_text: str, gold_text: str, n: int = SHINGLE_SIZE) -> tuple[int, int, int]:
    """(overlap, predicted, gold) counts of distinct word n-grams, compared as sets."""
    predicted, gold = shingles(predicted_text, n), shingles(gold_text, n)
    return len(predicted & gold), len(predicted), len(gold)


def page_shingle_scores(blocks: pd.DataFrame, pages: pd.DataFrame, column: str = "predicted",
                        n: int = SHINGLE_SIZE, parts: tuple[str, ...] = ("content", "comment")) -> pd.DataFrame:
    """Per page and part: shingle overlap counts and precision / recall / F1 (rows as page_token_scores).

    A part's predicted text is its page's predicted blocks joined in page order, so shingles reward blocks
    found in their order, not only their words. Summarize with summarize_token_scores: its macro average
    over pages whose gold has the part is the per-page normalized shingle score.
    """
    texts = {label: blocks[blocks[column] == label].groupby("page")["text"].agg("\n".join) for label in parts}
    gold_columns = {"content": "gold_content", "comment": "gold_comments"}
    rows = []
    for page in pages.itertuples(index=False):
        for label in parts:
            overlap, predicted, gold = shingle_counts(texts[label].get(page.page, ""), getattr(page, gold_columns[label]), n)
            precision, recall, f1 = prf(overlap, predicted, gold)
            rows.append({"page": page.page, "dataset": page.dataset, "part": label, "overlap": overlap,
                         "predicted": predicted, "gold": gold, "precision": precision, "recall": recall, "f1": f1})
    return pd.DataFrame(rows, columns=["page", "dataset", "part", "overlap", "predicted", "gold",
                                       "precision", "recall", "f1"])


def calibration_bins(proba, is_label, bins: int = CALIBRATION_BINS) -> dict:
    """Reliability data for one label: predicted probability against how often the label is really there.

    Bin i holds the blocks with i/bins <= p < (i+1)/bins (the last bin includes p = 1). Per bin: its edges,
    the number of blocks, their mean predicted probability and the fraction of them whose gold label is
    the label (NaN for an empty bin). `ece` is the expected calibration error: the count-weighted mean of
    |observed - predicted| over the bins.
    """
    proba = np.asarray(proba, dtype=float)
    is_label = np.asarray(is_label, dtype=bool)
    index = np.clip(np.floor(proba * bins).astype(int), 0, bins - 1)
    rows, error = [], 0.0
    for i in range(bins):
        inside = index == i
        count = int(inside.sum())
        predicted = float(proba[inside].mean()) if count else float("nan")
        observed = float(is_label[inside].mean()) if count else float("nan")
        if count:
            error += count * abs(observed - predicted)
        rows.append({"lower": i / bins, "upper": (i + 1) / bins, "count": count,
                     "mean_predicted": predicted, "observed": observed})
    return {"blocks": int(len(proba)), "positives": int(is_label.sum()),
            "ece": error / len(proba) if len(proba) else float("nan"), "bins": rows}
