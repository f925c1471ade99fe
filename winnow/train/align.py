"""Block labels from page-level gold text, by token alignment.

A block whose word 3-grams mostly occur in the gold article text is `content`
(in the gold comments, `comment`); everything else is `chrome`. Short blocks
(too few tokens to judge by 3-grams, such as menu items "Home" or "News") are
labeled only when their whole token sequence occurs in the gold part and a
neighbouring long block carries the same label, so a menu word that happens to
occur somewhere in the article does not become content.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from winnow.tokens import tokenize

NGRAM = 3
MIN_SHARE = 0.5  # share of a long block's 3-grams that must occur in the gold part


def _ngrams(tokens: list[str], n: int = NGRAM) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


class _GoldPart:
    """One part of the gold text (article or comments), indexed for fast look-ups."""

    def __init__(self, label: str, text: str):
        self.label = label
        self.tokens = tokenize(text)
        self.ngrams = set(_ngrams(self.tokens))
        self.joined = " " + " ".join(self.tokens) + " "

    def share(self, block_ngrams: list[tuple[str, ...]]) -> float:
        return sum(g in self.ngrams for g in block_ngrams) / len(block_ngrams) if block_ngrams else 0.0

    def contains(self, tokens: list[str]) -> bool:
        return bool(tokens) and (" " + " ".join(tokens) + " ") in self.joined


def align_labels(texts: list[str], gold_content: str, gold_comments: str = "") -> list[str]:
    """One label per block text, derived from the page's gold article and comment text."""
    parts = [p for p in (_GoldPart("content", gold_content), _GoldPart("comment", gold_comments)) if p.tokens]
    block_tokens = [tokenize(t) for t in texts]
    labels: list[str | None] = []
    for tokens in block_tokens:
        grams = _ngrams(tokens)
        if len(grams) < 2:
            labels.append(None)  # short: decided from the neighbours below
            continue
        best = max(parts, key=lambda p: p.share(grams), default=None)
        labels.append(best.label if best is not None and best.share(grams) >= MIN_SHARE else "chrome")
    return _label_short_blocks(labels, block_tokens, parts)


def _label_short_blocks(labels: list[str | None], block_tokens: list[list[str]], parts: list[_GoldPart]) -> list[str]:
    previous = _nearest(labels, reverse=False)
    following = _nearest(labels, reverse=True)
    result = []
    for i, label in enumerate(labels):
        if label is None:
            label = "chrome"
            for part in parts:
                near_same = part.label in (previous[i], following[i])
                if near_same and part.contains(block_tokens[i]):
                    label = part.label
                    break
        result.append(label)
    return result


def _nearest(labels: list[str | None], reverse: bool) -> list[str | None]:
    """For each position, the label of the nearest long block before it (or after it, with reverse)."""
    out: list[str | None] = [None] * len(labels)
    last = None
    order = range(len(labels) - 1, -1, -1) if reverse else range(len(labels))
    for i in order:
        out[i] = last
        if labels[i] is not None:
            last = labels[i]
    return out


def coverage(texts: list[str], labels: list[str], gold_text: str, label: str = "content") -> float:
    """Share of gold tokens (as a multiset) found in the blocks given `label`: how well alignment worked."""
    gold = Counter(tokenize(gold_text))
    total = sum(gold.values())
    if not total:
        return float("nan")
    found = Counter(t for text, lab in zip(texts, labels) if lab == label for t in tokenize(text))
    return sum((gold & found).values()) / total


def label_blocks(blocks: pd.DataFrame, gold_content: str, gold_comments: str = "") -> pd.DataFrame:
    """The blocks table of one page with `label` added from its gold text."""
    texts = blocks["text"].tolist()
    return blocks.assign(label=align_labels(texts, gold_content, gold_comments))
