"""Run a model over many pages: read, classify in chunks, write records as JSON Lines.

A bad page never stops a batch: it is skipped, counted and named in the summary. Output files are
written to a temporary name and renamed when the batch ends, so they are whole or absent.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from winnow.model import WinnowModel
from winnow.pages import MAX_PAGE_BYTES, Page, PageError, iter_page_paths, read_page
from winnow.predict.extract import assemble
from winnow.segment import MAX_BLOCKS, segment

CHUNK_PAGES = 32  # pages classified in one predict_proba call
PAGE_SECONDS = 30.0  # time limit to segment one page


@dataclass(frozen=True)
class BatchOptions:
    input_format: str = "auto"  # auto, html or text
    progress: bool = False  # a progress bar on stderr
    max_bytes: int = MAX_PAGE_BYTES  # larger pages are refused
    page_seconds: float = PAGE_SECONDS  # time limit to segment one page; 0 for none
    max_blocks: int = MAX_BLOCKS  # blocks kept per page


@dataclass
class BatchSummary:
    pages: int = 0
    blocks: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def block_records(labeled: pd.DataFrame, labels: list[str]) -> Iterator[dict]:
    """One `predict` record per block: page, index, text, label, proba."""
    probas = labeled[[f"proba_{label}" for label in labels]].to_numpy()
    for row, proba in zip(labeled[["page", "index", "text", "predicted"]].itertuples(index=False), probas):
        yield {"page": row.page, "index": int(row.index), "text": row.text, "label": row.predicted,
               "proba": {label: round(float(p), 4) for label, p in zip(labels, proba)}}


def label_segmented(model: WinnowModel, segmented: list[tuple[Page, pd.DataFrame]]) -> list[tuple[Page, pd.DataFrame, str]]:
    """Label the blocks of several segmented pages with one classifier call: (page, labeled blocks, <title>)."""
    if not segmented:
        return []
    # Keys unique within the call, even when the same path is given twice.
    labeled = model.label_blocks(pd.concat([b.assign(page=key) for key, (_, b) in enumerate(segmented)], ignore_index=True))
    by_key = dict(tuple(labeled.groupby("page", sort=False)))
    return [(page, by_key.get(key, labeled.head(0)).assign(page=page.id).reset_index(drop=True), blocks.attrs.get("title", ""))
            for key, (page, blocks) in enumerate(segmented)]


def classify_pages(model: WinnowModel, pages: list[Page]) -> list[tuple[Page, pd.DataFrame, str]]:
    """Segment and label several pages with one classifier call."""
    return label_segmented(model, [(page, segment(page)) for page in pages])


class PageTimeout(PageError):
    """A page took longer than the time limit to segment."""


@contextmanager
def time_limit(seconds: float, page_id: str):
    """Raise PageTimeout if the block takes longer than `seconds` (main thread only; 0 means no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise PageTimeout(f"{page_id}: took longer than the {seconds:g}-second page time limit")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _segment_chunk(chunk: list[Page], summary: BatchSummary, options: BatchOptions) -> list[tuple[Page, pd.DataFrame]]:
    """Segment each page within the time limit; a page that fails is reported and left out."""
    segmented = []
    for page in chunk:
        try:
            with time_limit(options.page_seconds, page.id):
                segmented.append((page, segment(page, max_blocks=options.max_blocks)))
        except Exception as error:  # noqa: BLE001 - one bad page must not end the batch
            reason = str(error).removeprefix(f"{page.id}: ") if isinstance(error, PageError) else f"{type(error).__name__}: {error}"
            summary.failures.append((page.id, reason))
    return segmented


def _read_all(paths: Iterable[str], input_format: str, max_bytes: int, summary: BatchSummary) -> Iterator[Page]:
    for path in paths:
        try:
            yield read_page(path, input_format, max_bytes)
        except PageError as error:
            summary.failures.append((path, str(error).removeprefix(f"{path}: ")))


def _chunks(pages: Iterator[Page], size: int) -> Iterator[list[Page]]:
    chunk: list[Page] = []
    for page in pages:
        chunk.append(page)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _classify_safely(model: WinnowModel, segmented: list[tuple[Page, pd.DataFrame]], summary: BatchSummary):
    """Label a chunk; if that fails, retry page by page so only the bad page is lost."""
    try:
        return label_segmented(model, segmented)
    except Exception:  # noqa: BLE001 - one bad page must not end the batch; it is reported below
        results = []
        for page, blocks in segmented:
            try:
                results.extend(label_segmented(model, [(page, blocks)]))
            except Exception as error:  # noqa: BLE001
                summary.failures.append((page.id, f"{type(error).__name__}: {error}"))
        return results


def run(model: WinnowModel, inputs: list[str], write: Callable[[Page, pd.DataFrame, str], int],
        options: BatchOptions = BatchOptions()) -> BatchSummary:
    """Classify every page found in `inputs`, handing each to `write` in input order."""
    summary = BatchSummary()
    start = time.perf_counter()
    paths = iter_page_paths(inputs)
    with _progress(options.progress, len(paths)) as advance:
        for chunk in _chunks(_read_all(paths, options.input_format, options.max_bytes, summary), CHUNK_PAGES):
            segmented = _segment_chunk(chunk, summary, options)
            for page, blocks, title in _classify_safely(model, segmented, summary):
                summary.blocks += write(page, blocks, title)
                summary.pages += 1
            advance(len(chunk))
    summary.seconds = time.perf_counter() - start
    return summary


@contextmanager
def _progress(enabled: bool, total: int):
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("pages", total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """stdout for None or '-'; otherwise a temporary file renamed onto `path` when the batch ends.

    Each page's records are written in one call, so the file holds whole pages only: after Ctrl-C it
    is kept with the pages done so far; after any other error nothing is written.
    """
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.tmp")
    try:
        with open(scratch, "w", encoding="utf-8") as handle:
            yield handle
        scratch.replace(target)
    except KeyboardInterrupt:
        scratch.replace(target)
        raise
    finally:
        scratch.unlink(missing_ok=True)


def write_failures(summary: BatchSummary, path: str) -> None:
    """The batch's failures as JSON Lines {page, reason}, written whole."""
    with open_output(path) as out:
        out.write("".join(json.dumps({"page": p, "reason": r}, ensure_ascii=False) + "\n" for p, r in summary.failures))


def predict_to(model: WinnowModel, inputs: list[str], out: IO[str], options: BatchOptions = BatchOptions()) -> BatchSummary:
    """`winnow predict`: one JSON line per block."""
    def write(page: Page, blocks: pd.DataFrame, title: str) -> int:
        out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in block_records(blocks, model.labels)))
        return len(blocks)
    return run(model, inputs, write, options)


def format_extraction(record: dict, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(record, ensure_ascii=False) + "\n"
    if output_format == "markdown":
        parts = [f"# {record['title']}" if record["title"] else "", record["text"]]
        if record["comments"]:
            parts.append("## Comments\n\n" + "\n\n".join(f"> {c}" for c in record["comments"]))
        return "\n\n".join(p for p in parts if p) + "\n\n"
    parts = [record["title"], record["text"]] + (["Comments:", *record["comments"]] if record["comments"] else [])
    return "\n\n".join(p for p in parts if p) + "\n\n"


def extract_to(model: WinnowModel, inputs: list[str], out: IO[str], output_format: str = "json",
               options: BatchOptions = BatchOptions()) -> BatchSummary:
    """`winnow extract`: per page its title, text and comments."""
    def write(page: Page, blocks: pd.DataFrame, title: str) -> int:
        out.write(format_extraction(assemble(page.id, blocks, title), output_format))
        return len(blocks)
    return run(model, inputs, write, options)
