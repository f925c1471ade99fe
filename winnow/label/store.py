"""The pages of a labeling session and their labeled copies on disk (the native labeled format).

HTML pages get the labels written into the page: a `data-label` attribute on the element whose text
starts the block, or a `<span data-label>` around that text when it is the tail of another element
(segmentation takes a block's label where its first visible text is, see segment._walk). Nothing
else changes, so the labeled page has the same blocks and features as the original. Text pages get
"label<TAB>" before each block's line.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from lxml import etree, html

from winnow.model import WinnowModel
from winnow.pages import Page, PageError, read_page
from winnow.segment import LABEL_ATTRIBUTE, LABELS, parse_html, segment, segment_text, walk_page

STATE_FILE = ".winnow-label.json"  # where the user was, in the labeled folder


def html_with_labels(markup: str, labels: list[str]) -> str:
    """The page with one label per block written into it; earlier data-label attributes are replaced."""
    root = parse_html(markup)
    if root is None:
        raise PageError("no HTML to label")
    for element in root.iter():
        if isinstance(element.tag, str) and LABEL_ATTRIBUTE in element.attrib:
            del element.attrib[LABEL_ATTRIBUTE]
    anchors: list = []
    rows = walk_page(root, anchors=anchors)
    _check_count(len(rows), labels)
    for (element, where), label in zip(anchors, labels):
        if where == "tail":
            span = etree.Element("span", {LABEL_ATTRIBUTE: label})
            span.text = (" " if element.tag == "br" else "") + element.tail  # a <br> tail reads as " " + tail
            element.tail = None
            element.addnext(span)
        else:
            element.set(LABEL_ATTRIBUTE, label)
    return html.tostring(root.getroottree(), encoding="unicode", method="html")


def text_with_labels(text: str, labels: list[str]) -> str:
    """The text page with "label<TAB>" before each line that is a block; earlier labels are replaced."""
    lines, position = [], 0
    _check_count(len(segment_text(text)), labels)
    for line in text.splitlines():
        label, tab, rest = line.partition("\t")
        bare = rest if tab and label.strip() in LABELS else line
        if segment_text(bare):
            lines.append(f"{labels[position]}\t{bare}")
            position += 1
        else:
            lines.append(bare)
    return "\n".join(lines) + "\n"


def _check_count(blocks: int, labels: list[str]) -> None:
    if len(labels) != blocks:
        raise ValueError(f"{len(labels)} labels for {blocks} blocks")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown labels {unknown} (use {', '.join(LABELS)})")


def write_atomically(path: Path, text: str) -> None:
    """Write the whole file or leave the old one: a temporary file in the same folder, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class SessionPage:
    number: int
    source: str  # the path given
    name: str  # the labeled copy's file name, unique in the session


def _labeled_name(source: str, taken: set[str], kind: str) -> str:
    name = Path(source).name.removesuffix(".gz") if source != "-" else "stdin"
    if not name.lower().endswith((".html", ".htm", ".xhtml", ".txt")):
        name += ".txt" if kind == "text" else ".html"
    stem, dot, suffix = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{suffix}"
    taken.add(candidate)
    return candidate


class LabelSession:
    """Pages to label, the model's guesses for them, and their labeled copies in `out_dir`."""

    def __init__(self, sources: list[str], out_dir: str | Path, model: WinnowModel, input_format: str = "auto"):
        self.out_dir = Path(out_dir)
        self.model = model
        taken: set[str] = set()
        self.pages: list[SessionPage] = []
        self._read_pages: list[Page] = []  # read once, up front: a bad page stops the session before it starts
        for source in sources:
            page = read_page(source, input_format)
            self._read_pages.append(page)
            self.pages.append(SessionPage(len(self.pages), source, _labeled_name(source, taken, page.kind)))
        self._labeled: dict[int, pd.DataFrame] = {}

    def _read(self, number: int) -> tuple[Page, pd.DataFrame]:
        """The page and its blocks with the model's guesses (classified when first asked for)."""
        page = self._read_pages[number]
        if number not in self._labeled:
            self._labeled[number] = self.model.label_blocks(segment(page))
        return page, self._labeled[number]

    def labeled_path(self, number: int) -> Path:
        return self.out_dir / self.pages[number].name

    def saved_labels(self, number: int, blocks: int) -> list[str] | None:
        """The labels of the labeled copy, if there is one with the same blocks."""
        path = self.labeled_path(number)
        if not path.exists():
            return None
        saved = segment(read_page(path, self._read(number)[0].kind))
        if len(saved) != blocks or (saved["gold"] == "").any():
            return None  # the page changed since: start again from the guesses
        return saved["gold"].tolist()

    def listing(self) -> dict:
        return {"pages": [{"number": p.number, "name": p.name, "kind": self._read(p.number)[0].kind,
                           "blocks": len(self._read(p.number)[1]), "saved": self.labeled_path(p.number).exists()}
                          for p in self.pages],
                "current": self.current(), "labels": list(LABELS)}

    def page(self, number: int) -> dict:
        page, blocks = self._read(number)
        saved = self.saved_labels(number, len(blocks))
        own = blocks["gold"].tolist() if (blocks["gold"] != "").all() and len(blocks) else None
        labels = saved or own or blocks["predicted"].tolist()
        probas = blocks[[f"proba_{label}" for label in self.model.labels]].max(axis=1)
        return {"number": number, "name": self.pages[number].name, "kind": page.kind,
                "title": blocks.attrs.get("title", ""), "saved": saved is not None,
                "blocks": [{"index": int(i), "text": text, "tag": tag, "label": label, "predicted": predicted,
                            "confidence": round(float(p), 4)}
                           for i, text, tag, label, predicted, p in zip(blocks["index"], blocks["text"], blocks["tag"],
                                                                         labels, blocks["predicted"], probas)]}

    def save(self, number: int, labels: list[str]) -> Path:
        page, _ = self._read(number)
        text = text_with_labels(page.text, labels) if page.kind == "text" else html_with_labels(page.text, labels)
        path = self.labeled_path(number)
        write_atomically(path, text)
        return path

    def current(self) -> int:
        try:
            number = int(json.loads((self.out_dir / STATE_FILE).read_text())["current"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0
        return number if 0 <= number < len(self.pages) else 0

    def set_current(self, number: int) -> None:
        write_atomically(self.out_dir / STATE_FILE, json.dumps({"current": number}))
