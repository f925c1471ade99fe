"""`winnow suggest`: which pages to label first, the ones the model is least sure about."""

from __future__ import annotations

import io
import json
from functools import partial

import pandas as pd

from winnow.model import WinnowModel
from winnow.pages import Page
from winnow.predict.batch import BatchOptions, BatchSummary, run
from winnow.predict.formats import each_page

UNSURE = 0.6  # a block whose most likely label has less probability than this is "unsure"


def page_doubt(page: Page, blocks: pd.DataFrame, title: str, labels: list[str]) -> str:
    """One JSON line: how unsure the model is about a page (mean of 1 - top probability over blocks)."""
    top = blocks[[f"proba_{label}" for label in labels]].max(axis=1)
    record = {"page": page.id, "doubt": round(float((1 - top).mean()), 4) if len(blocks) else 0.0,
              "unsure_blocks": int((top < UNSURE).sum()), "blocks": len(blocks)}
    return json.dumps(record) + "\n"


def suggest(model: WinnowModel, sources: list[str], options: BatchOptions = BatchOptions()) -> tuple[list[dict], BatchSummary]:
    """The pages ranked most doubtful first, and the batch summary (pages that failed)."""
    out = io.StringIO()
    summary = run(model, sources, partial(each_page, format_page=partial(page_doubt, labels=model.labels)), out, options)
    ranked = sorted((json.loads(line) for line in out.getvalue().splitlines()), key=lambda r: (-r["doubt"], r["page"]))
    return ranked, summary
