"""Output files of a batch: whole or absent, and resumable after an interruption.

A batch writes to a scratch file beside the target (".NAME.tmp") and renames it onto the target when
it ends. Each page's lines go out in one write, so after Ctrl-C the scratch holds whole pages and is
kept as the target. After a hard kill the scratch stays; `resumable_output` picks up the target or the
scratch, drops the last page (which may have been cut) and appends after it.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from winnow.pages import PageError


def scratch_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp")


@contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """stdout for None or '-'; otherwise a scratch file renamed onto `path` when the block ends.

    After Ctrl-C the pages written so far are kept; after any other error nothing is written.
    """
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _finished_onto(target, scratch_path(target), "w") as handle:
        yield handle


@contextmanager
def resumable_output(path: str) -> Iterator[tuple[IO[str], set[str]]]:
    """Continue an interrupted output of JSON lines carrying a "page" key: yields the handle to append
    to and the ids of the pages already there. A file that does not exist yet starts empty."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = scratch_path(target)
    base = target if target.exists() else scratch
    done, whole_bytes = _whole_pages(base) if base.exists() else (set(), 0)  # may refuse: nothing moved yet
    if base == target:
        target.replace(scratch)  # the run now owns it; it goes back on success or Ctrl-C
    if scratch.exists():
        with open(scratch, "r+b") as handle:
            handle.truncate(whole_bytes)
    with _finished_onto(target, scratch, "a") as handle:
        yield handle, done


@contextmanager
def _finished_onto(target: Path, scratch: Path, mode: str) -> Iterator[IO[str]]:
    try:
        with open(scratch, mode, encoding="utf-8") as handle:
            yield handle
    except KeyboardInterrupt:
        scratch.replace(target)  # whole pages only: keep them
        raise
    except BaseException:
        if mode == "a":
            scratch.replace(target)  # a resumed file holds an earlier run's pages: never lose them
        else:
            scratch.unlink(missing_ok=True)
        raise
    scratch.replace(target)


def _whole_pages(path: Path) -> tuple[set[str], int]:
    """The ids of the pages in `path` that are surely whole, and the bytes they take.

    A page's lines are written together, but a hard kill can stop that write anywhere: the last
    page (and any half line) is dropped, to be done again.
    """
    offsets, pages = [], []
    position = 0
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                pages.append(str(json.loads(line)["page"]))
            except (ValueError, KeyError, TypeError):
                raise PageError(f"{path}: line {len(pages) + 1} is not a winnow JSON record; cannot resume "
                                "(only JSON Lines output can be resumed)") from None
            offsets.append(position)
            position += len(line)
    keep = len(pages)
    while keep and pages[keep - 1] == pages[-1]:
        keep -= 1
    return set(pages[:keep]), offsets[keep] if keep < len(offsets) else position
