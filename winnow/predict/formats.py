"""What a batch writes for each page: `winnow predict`'s JSON lines of blocks, `winnow extract`'s title,
text and comments (JSON, text or Markdown). A chunk of pages at a time: its pages segmented and their
blocks labeled in one table (batch.label_chunk) become one text per page.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Callable

import numpy as np
import pandas as pd

from winnow.model import WinnowModel
from winnow.pages import Page
from winnow.predict.extract import assemble

JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with options makes one per call
_json_string = json.encoder.encode_basestring  # a str as the encoder above writes it (non-ASCII kept)

# A page segmented: (page, its block rows, its <title>) (segment_rows).
Segmented = tuple[Page, list[tuple], str]


def split_pages(segmented: list[Segmented], labeled: pd.DataFrame) -> list[tuple[Page, pd.DataFrame, str]]:
    """label_chunk's table cut into (page, its labeled blocks, <title>)."""
    counts = [len(rows) for _, rows, _ in segmented]
    labeled = labeled.assign(page=pd.Series(np.repeat(np.array([page.id for page, _, _ in segmented], dtype=object),
                                                      counts), dtype=object))
    ends = np.cumsum(counts)
    return [(page, labeled.iloc[end - len(rows):end].reset_index(drop=True), title)
            for (page, rows, title), end in zip(segmented, ends)]


# What a chunk of labeled pages becomes in the output: (its pages segmented, their blocks labeled by
# label_chunk) -> one text per page. A chunk at a time: cutting the table into pages and formatting each
# cost 0.13 s of predict's 2 s over dragnet:test, formatting the chunk's lines at once 0.08 s. Picklable (a
# module-level function, or a partial of one), as worker processes run it.
Formatter = Callable[[list[Segmented], pd.DataFrame], list[str]]
PageFormatter = Callable[[Page, pd.DataFrame, str], str]  # (page, its labeled blocks, <title>) -> text (each_page)


def format_blocks(segmented: list[Segmented], labeled: pd.DataFrame, labels: list[str]) -> list[str]:
    """`winnow predict` output of each page: one JSON line per block, {"page", "index", "text", "label",
    "proba": {label: p}}.

    Written as json.dumps(record, ensure_ascii=False) writes it, from its own string encoder: building a
    dict for each block and encoding it cost a tenth of the batch."""
    counts = [len(rows) for _, rows, _ in segmented]
    page_ids = [_json_string(page.id) for page, _, _ in segmented]
    proba = labeled[[f"proba_{label}" for label in labels]].to_numpy(np.float64)
    predicted = labeled["predicted"].tolist()
    written = {label: _json_string(label) for label in set(predicted)}
    # The compiled lines look every probability up in _ROUNDED, unchecked: values outside [0, 1] (or NaN)
    # go the Python way, which writes them one by one.
    if _compiled is not None and ((proba >= 0) & (proba <= 1)).all():
        index = np.ascontiguousarray(labeled["index"].to_numpy(np.int64))
        return _compiled.block_lines(page_ids, np.array(counts, dtype=np.int64), index, labeled["text"].tolist(),
                                     list(map(written.__getitem__, predicted)), list(map(_json_string, labels)),
                                     np.ascontiguousarray(proba), _ROUNDED_LIST)
    probas = [_rounded_texts(column) for column in proba.T]
    # One %-format per line, a block's probabilities as repr writes them.
    line = ('{"page": %s, "index": %d, "text": %s, "label": %s, "proba": {'
            + ", ".join(_json_string(label).replace("%", "%%") + ": %s" for label in labels) + "}}\n")
    lines = list(map(line.__mod__, zip(np.repeat(np.array(page_ids, dtype=object), counts).tolist(),
                                       labeled["index"].tolist(), map(_json_string, labeled["text"].tolist()),
                                       map(written.__getitem__, predicted), *probas)))
    ends = np.cumsum(counts).tolist()
    return ["".join(lines[end - count:end]) for end, count in zip(ends, counts)]


# repr(round(p, 4)) of every probability, by its 10,000ths: looked up, not formatted per block and label
# (an object array: a numpy take, not a Python int per value).
_ROUNDED = np.array([repr(k / 10000) for k in range(10001)], dtype=object)
_ROUNDED_LIST = _ROUNDED.tolist()  # as the compiled lines look them up


def _rounded_texts(values: np.ndarray) -> list[str]:
    """repr of each value rounded to 4 places, as numpy rounds it (rint(v * 10000) / 10000)."""
    if not ((values >= 0) & (values <= 1)).all():  # not probabilities: formatted one by one
        return [repr(value) for value in values.round(4).tolist()]
    return _ROUNDED[np.rint(values * 10000).astype(np.intp)].tolist()


def format_extraction(record: dict, output_format: str) -> str:
    if output_format == "json":
        return JSON_ENCODER.encode(record) + "\n"
    if output_format == "markdown":
        parts = [f"# {record['title']}" if record["title"] else "", record["text"]]
        if record["comments"]:
            parts.append("## Comments\n\n" + "\n\n".join(f"> {c}" for c in record["comments"]))
        return "\n\n".join(p for p in parts if p) + "\n\n"
    parts = [record["title"], record["text"]] + (["Comments:", *record["comments"]] if record["comments"] else [])
    return "\n\n".join(p for p in parts if p) + "\n\n"


def format_page_extraction(page: Page, blocks: pd.DataFrame, title: str, output_format: str) -> str:
    """`winnow extract` output: the page's title, text and comments."""
    return format_extraction(assemble(page.id, blocks, title), output_format)


def each_page(segmented: list[Segmented], labeled: pd.DataFrame, format_page: PageFormatter) -> list[str]:
    """A Formatter from one that writes a page at a time."""
    return [format_page(page, blocks, title) for page, blocks, title in split_pages(segmented, labeled)]


def formatter_for(model: WinnowModel, task: str, output_format: str = "json") -> Formatter:
    """What `winnow predict` (blocks) or `winnow extract` (pages, in `output_format`) writes per page."""
    if task == "predict":
        return partial(format_blocks, labels=model.labels)
    return partial(each_page, format_page=partial(format_page_extraction, output_format=output_format))


try:  # winnow._jsonlines (setup.py): format_blocks' lines written in C, 2.5 times as fast
    from winnow import _jsonlines as _compiled
except ImportError:
    _compiled = None
