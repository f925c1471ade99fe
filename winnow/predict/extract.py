"""Assemble a page's extraction (title, article text, comments) from its labeled blocks."""

from __future__ import annotations

import pandas as pd

from winnow.tokens import tokenize

HEADING_TAGS = ("h1", "h2", "h3")
MAX_TITLE_WORDS = 30


def _overlap(text: str, title_tokens: set[str]) -> float:
    tokens = set(tokenize(text))
    return len(tokens & title_tokens) / len(tokens) if tokens else 0.0


def find_headline(blocks: pd.DataFrame, html_title: str) -> int | None:
    """Row position of the headline block, or None.

    The headline is the heading (or, on text pages, the short line) that best matches the page's
    <title>, looked for up to the first content block that is not itself a heading; failing that, a
    leading content heading.
    """
    # Plain lists: a batch assembles every page, and pandas' per-call cost was most of the time.
    texts, tags = blocks["text"].tolist(), blocks["tag"].tolist()
    content_rows = [i for i, label in enumerate(blocks["predicted"].tolist()) if label == "content"]
    if not content_rows:
        return None
    text_page = all(tag == "" for tag in tags)

    def is_heading(row: int) -> bool:
        return (text_page or tags[row] in HEADING_TAGS) and len(texts[row].split()) <= MAX_TITLE_WORDS

    first_body = next((i for i in content_rows if not is_heading(i)), content_rows[-1])
    title_tokens = set(tokenize(html_title))
    if title_tokens:
        scored = [(_overlap(texts[i], title_tokens), -i) for i in range(first_body + 1) if is_heading(i)]
        best = max(scored, default=(0.0, 0))
        if best[0] >= 0.6:
            return -best[1]
    first = content_rows[0]
    if is_heading(first) and (not text_page or not texts[first].endswith(".")):
        return first
    return None


def assemble(page_id: str, blocks: pd.DataFrame, html_title: str = "") -> dict:
    """{"page", "title", "text", "comments"}: the headline is given once, as title, not again in text.
    `blocks` are one page's labeled blocks, in order."""
    headline = find_headline(blocks, html_title) if len(blocks) else None
    texts, predicted = blocks["text"].tolist(), blocks["predicted"].tolist()
    title = texts[headline] if headline is not None else html_title
    body = [text for row, (text, label) in enumerate(zip(texts, predicted)) if label == "content" and row != headline]
    comments = [text for text, label in zip(texts, predicted) if label == "comment"]
    return {"page": page_id, "title": title, "text": "\n\n".join(body), "comments": comments}
