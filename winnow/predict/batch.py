"""Run a model over many pages: read, classify in chunks, write records as JSON Lines.

Pages stream through: read one by one (sources), segmented and labeled in chunks (inline or in
`jobs` worker processes, each holding the model once), formatted to text in the worker, written by
the main process in input order (or as chunks finish). A bad page never stops a batch: it is skipped,
counted and named in the summary.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
import multiprocessing
from multiprocessing import forkserver, get_context
from typing import IO, Iterable, Iterator

import pandas as pd
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text
from threadpoolctl import threadpool_limits

from winnow.model import WinnowModel
from winnow.pages import MAX_PAGE_BYTES, Page, PageError
from winnow.predict.formats import JSON_ENCODER, Formatter, Segmented, formatter_for, split_pages
from winnow.predict.sources import Failure, is_archive, iter_pages
from winnow.segment import MAX_BLOCKS, blocks_table, segment_rows

# Pages classified in one predict_proba call: 64 labels 5 % more pages/s than 32 on one core (400 pages of
# dragnet:test, four rounds in turn); pandas and the classifier pay a fixed cost per call.
CHUNK_PAGES = 64
# A worker starts by importing winnow and receiving the model: seconds that many chunks must pay back.
# On 2 cores, two workers against none: 256 pages 1.2x slower, 512 pages 1.4x faster (docs/DESIGN.md).
CHUNKS_PER_WORKER = 4  # 256 pages
PAGE_SECONDS = 30.0  # time limit to segment one page


@dataclass(frozen=True)
class BatchOptions:
    input_format: str = "auto"  # auto, html or text
    progress: bool = False  # a progress bar on stderr
    max_bytes: int = MAX_PAGE_BYTES  # larger pages are refused
    page_seconds: float = PAGE_SECONDS  # time limit to segment one page; 0 for none
    max_blocks: int = MAX_BLOCKS  # blocks kept per page
    jobs: int = 1  # worker processes; 1 classifies in this process
    ordered: bool = True  # write pages in input order (else as worker chunks finish)


@dataclass
class BatchSummary:
    pages: int = 0
    blocks: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    skipped: int = 0  # pages already in the output of an interrupted run (--resume)
    cut: list[tuple[str, str]] = field(default_factory=list)  # pages that reached max_blocks, and what was kept


def label_chunk(model: WinnowModel, segmented: list[Segmented]) -> pd.DataFrame:
    """The blocks of several segmented pages in one table, labeled with one classifier call. Its `page`
    column numbers the pages in order: keys unique within the call, even when the same path is given twice."""
    return model.label_blocks(blocks_table(list(range(len(segmented))), [rows for _, rows, _ in segmented]))


def label_segmented(model: WinnowModel, segmented: list[Segmented]) -> list[tuple[Page, pd.DataFrame, str]]:
    """Label the blocks of several segmented pages with one classifier call: (page, labeled blocks, <title>)."""
    return split_pages(segmented, label_chunk(model, segmented)) if segmented else []


def classify_pages(model: WinnowModel, pages: list[Page]) -> list[tuple[Page, pd.DataFrame, str]]:
    """Segment and label several pages with one classifier call."""
    return label_segmented(model, [(page, *segment_rows(page)) for page in pages])


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


def _segment_chunk(chunk: list[Page], summary: BatchSummary, options: BatchOptions) -> list[Segmented]:
    """Segment each page within the time limit; a page that fails is reported and left out."""
    segmented = []
    for page in chunk:
        try:
            with time_limit(options.page_seconds, page.id):
                rows, title = segment_rows(page, max_blocks=options.max_blocks)
            segmented.append((page, rows, title))
            if len(rows) >= options.max_blocks:
                summary.cut.append((page.id, f"kept its first {options.max_blocks:,} blocks (--max-blocks); "
                                             f"the rest of the page is not in the output"))
        except Exception as error:  # noqa: BLE001 - one bad page must not end the batch
            reason = str(error).removeprefix(f"{page.id}: ") if isinstance(error, PageError) else f"{type(error).__name__}: {error}"
            summary.failures.append((page.id, reason))
    return segmented


def _chunks(pages: Iterable[Page], size: int) -> Iterator[list[Page]]:
    chunk: list[Page] = []
    for page in pages:
        chunk.append(page)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _classify_safely(model: WinnowModel, segmented: list[Segmented], summary: BatchSummary
                     ) -> tuple[list[Segmented], pd.DataFrame]:
    """Label a chunk: the pages labeled and their blocks (label_chunk). If that fails, retry page by page
    so only the bad page is lost."""
    try:
        return segmented, label_chunk(model, segmented)
    except Exception:  # noqa: BLE001 - one bad page must not end the batch; it is reported below
        labeled, tables = [], []
        for item in segmented:
            try:
                tables.append(label_chunk(model, [item]))
                labeled.append(item)
            except Exception as error:  # noqa: BLE001
                summary.failures.append((item[0].id, f"{type(error).__name__}: {error}"))
        return labeled, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


@dataclass
class ChunkResult:
    written: list[tuple[str, str, int]]  # page id, output text, blocks
    summary: BatchSummary  # failures of this chunk


def process_chunk(model: WinnowModel, formatter: Formatter, options: BatchOptions, chunk: list[Page]) -> ChunkResult:
    """Segment, label and format a chunk of pages; failed pages are in the result's summary."""
    summary = BatchSummary()
    segmented, texts = _segment_chunk(chunk, summary, options), []
    if segmented:
        segmented, labeled = _classify_safely(model, segmented, summary)
        texts = formatter(segmented, labeled) if segmented else []
    return ChunkResult([(page.id, text, len(rows)) for (page, rows, _), text in zip(segmented, texts)], summary)


def run(model: WinnowModel, sources: list[str], formatter: Formatter, out: IO[str],
        options: BatchOptions = BatchOptions(), done: set[str] | frozenset = frozenset()) -> BatchSummary:
    """Classify every page of `sources` (see sources.expand_inputs), except those in `done`, writing
    each page's formatted text to `out`."""
    summary = BatchSummary()
    start = time.perf_counter()
    total = None if any(is_archive(source) for source in sources) else len(sources)
    with _progress(options.progress, total) as advance:
        def todo() -> Iterator[Page]:
            for item in iter_pages(sources, options.input_format, options.max_bytes):
                if isinstance(item, Failure):
                    summary.failures.append((item.page, item.reason))
                elif item.id in done:
                    summary.skipped += 1
                else:
                    yield item
                    continue
                advance(1)

        for result in _map_chunks(model, formatter, options, _chunks(todo(), CHUNK_PAGES)):
            out.write("".join(text for _, text, _ in result.written))
            out.flush()
            summary.pages += len(result.written)
            summary.blocks += sum(blocks for _, _, blocks in result.written)
            summary.failures.extend(result.summary.failures)
            summary.cut.extend(result.summary.cut)
            advance(len(result.written) + len(result.summary.failures))
    summary.seconds = time.perf_counter() - start
    return summary


def resolve_jobs(jobs: int, sources: list[str]) -> int:
    """0 means one worker per core, but one per CHUNKS_PER_WORKER chunks of pages at most; fewer pages
    than two workers pay for are classified in this process (1)."""
    if jobs > 0:
        return jobs
    cores = os.cpu_count() or 1
    if any(is_archive(source) for source in sources):
        return cores  # their pages are not counted beforehand
    return max(1, min(cores, -(-len(sources) // CHUNK_PAGES) // CHUNKS_PER_WORKER))


def _map_chunks(model: WinnowModel, formatter: Formatter, options: BatchOptions,
                chunks: Iterator[list[Page]]) -> Iterator[ChunkResult]:
    if options.jobs <= 1:
        # One thread for the classifier too: on chunks this small, OpenMP threads cost more than they
        # give, and far more when other work holds the other cores.
        with threadpool_limits(1):
            for chunk in chunks:
                yield process_chunk(model, formatter, options, chunk)
    else:
        yield from WorkerPool(model, formatter, options).map(chunks)


_worker_job: tuple | None = None  # in a worker process: (model, formatter, options), set once


def _start_worker(model: WinnowModel, formatter: Formatter, options: BatchOptions) -> None:
    global _worker_job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    threadpool_limits(1)  # the workers share the cores; a classifier thread pool in each would fight them
    _worker_job = (model, formatter, options)
    parent = multiprocessing.parent_process()
    if parent is not None:  # never outlive the batch, however it ended
        threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()


def _worker_chunk(chunk: list[Page]) -> ChunkResult:
    return process_chunk(*_worker_job, chunk)


class WorkerPool:
    """Chunks classified in worker processes that each receive the model once.

    At most two chunks per worker are in flight, so memory stays flat however many pages come. A
    worker that dies (out of memory, a crash in a parser) fails the pages of the chunks in flight, not
    the batch: a new pool takes the rest.
    """

    def __init__(self, model: WinnowModel, formatter: Formatter, options: BatchOptions):
        self.model, self.formatter, self.options = model, formatter, options

    def _pool(self) -> ProcessPoolExecutor:
        # forkserver: workers start clean, not as copies of a process running a progress-bar thread.
        # Started with Ctrl-C ignored, the fork server and every worker it forks ignore it from their
        # first instant (not only once the initializer runs): Ctrl-C is the main process's to handle.
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                forkserver.ensure_running()
            finally:
                signal.signal(signal.SIGINT, previous)
        return ProcessPoolExecutor(self.options.jobs, mp_context=get_context("forkserver"), initializer=_start_worker,
                                   initargs=(self.model, self.formatter, self.options))

    def map(self, chunks: Iterator[list[Page]]) -> Iterator[ChunkResult]:
        in_flight: deque[tuple[Future, list[Page]]] = deque()
        pool = self._pool()
        try:
            while True:
                while len(in_flight) < 2 * self.options.jobs and (chunk := next(chunks, None)) is not None:
                    try:
                        in_flight.append((_submit(pool, chunk), chunk))
                    except BrokenProcessPool:  # a worker died; the chunks it took down are reported failed
                        pool.shutdown(wait=False)
                        pool = self._pool()
                        in_flight.append((_submit(pool, chunk), chunk))
                if not in_flight:
                    break
                yield self._result(*(in_flight.popleft() if self.options.ordered else self._take_first_done(in_flight)))
        except BaseException:  # Ctrl-C, or the consumer stopped: drop the queued chunks
            pool.shutdown(wait=True, cancel_futures=True)  # workers finish their chunk and exit cleanly
            raise
        pool.shutdown()

    @staticmethod
    def _take_first_done(in_flight: deque[tuple[Future, list[Page]]]) -> tuple[Future, list[Page]]:
        finished, _ = wait([future for future, _ in in_flight], return_when=FIRST_COMPLETED)
        index = next(i for i, (future, _) in enumerate(in_flight) if future in finished)
        item = in_flight[index]
        del in_flight[index]
        return item

    @staticmethod
    def _result(future: Future, chunk: list[Page]) -> ChunkResult:
        try:
            return future.result()
        except BrokenProcessPool as error:
            reason = f"the worker process died ({error or 'killed'})"
            return ChunkResult([], BatchSummary(failures=[(page.id, reason) for page in chunk]))


def _submit(pool: ProcessPoolExecutor, chunk: list[Page]) -> Future:
    """Submit with Ctrl-C held back: a submit may start a worker, and a worker cut off while it starts
    would outlive the pool and fail loudly. The held-back Ctrl-C arrives right after."""
    if threading.current_thread() is not threading.main_thread():
        return pool.submit(_worker_chunk, chunk)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(_worker_chunk, chunk)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f} pages/s" if task.speed else "")


@contextmanager
def _progress(enabled: bool, total: int | None):
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("pages", total=total)
        yield lambda n: bar.advance(task, n)


def predict_to(model: WinnowModel, sources: list[str], out: IO[str], options: BatchOptions = BatchOptions(),
               done: set[str] | frozenset = frozenset()) -> BatchSummary:
    """`winnow predict`: one JSON line per block."""
    return run(model, sources, formatter_for(model, "predict"), out, options, done)


def extract_to(model: WinnowModel, sources: list[str], out: IO[str], output_format: str = "json",
               options: BatchOptions = BatchOptions(), done: set[str] | frozenset = frozenset()) -> BatchSummary:
    """`winnow extract`: per page its title, text and comments."""
    return run(model, sources, formatter_for(model, "extract", output_format), out, options, done)


def write_failures(summary: BatchSummary, path: str) -> None:
    """The batch's failures as JSON Lines {page, reason}, written whole."""
    from winnow.predict.output import open_output

    with open_output(path) as out:
        out.write("".join(JSON_ENCODER.encode({"page": p, "reason": r}) + "\n" for p, r in summary.failures))
