"""Where a batch's pages come from: files, directories, globs, a list file, stdin, WARC/ARC archives.

`expand_inputs` turns what the user typed into sources (page files, archives, '-'); `iter_pages` reads
them one by one, yielding a `Page` or a `Failure` so that a bad page is reported, never fatal. Nothing
is read ahead: memory does not grow with the number of pages.
"""

from __future__ import annotations

import glob
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from winnow.pages import (ARCHIVE_SUFFIXES, MAX_PAGE_BYTES, PAGE_SUFFIXES, Page, PageError, iter_page_paths,
                          page_from_bytes, read_page)

_GLOB_CHARS = re.compile(r"[*?[]")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Failure:
    page: str
    reason: str


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def expand_inputs(inputs: list[str], from_file: str | None = None) -> list[str]:
    """Files, directories (searched recursively), quoted globs and '-' (stdin), plus the paths listed
    one per line in `from_file` ('-' reads the list from stdin), in order."""
    items = list(inputs)
    if from_file:
        items += _read_list(from_file)
    expanded: list[str] = []
    for item in items:
        matches = sorted(glob.glob(item, recursive=True)) if _GLOB_CHARS.search(item) and not Path(item).exists() else []
        expanded.extend(matches or [item])  # a glob matching nothing is kept, to be reported as missing
    return iter_page_paths(expanded)


def require_pages(inputs: list[str] | None, from_file: str | None = None) -> list[str]:
    """expand_inputs, refusing a batch with nothing in it."""
    sources = expand_inputs(inputs or [], from_file)
    if not sources and inputs:  # only a directory expands to nothing
        raise PageError(f"no page files in {', '.join(inputs)} (searched for names ending in "
                        f"{' '.join(PAGE_SUFFIXES + ARCHIVE_SUFFIXES)})")
    if not sources and from_file:
        raise PageError(f"{from_file}: lists no pages")
    if not sources:
        raise PageError("no pages given: name files, directories, globs or WARC files, or use --from-file")
    return sources


def _read_list(path: str) -> list[str]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PageError(f"{path}: cannot read the list of pages ({error})") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def iter_pages(sources: list[str], input_format: str = "auto",
               max_bytes: int = MAX_PAGE_BYTES) -> Iterator[Page | Failure]:
    """Each source's pages in order: one for a page file, one per HTML response for an archive."""
    for source in sources:
        if is_archive(source):
            yield from iter_archive(source, input_format, max_bytes)
            continue
        try:
            yield read_page(source, input_format, max_bytes)
        except PageError as error:
            yield Failure(source, str(error).removeprefix(f"{source}: "))


def iter_archive(path: str, input_format: str = "auto", max_bytes: int = MAX_PAGE_BYTES) -> Iterator[Page | Failure]:
    """The HTML responses of a WARC or ARC file (gzipped or not), as pages named by their URL.

    Records that are not successful HTML responses (requests, metadata, redirects, images) are
    skipped. A URL seen again in the same archive gets "#2", "#3"...: ids stay unique, so --resume works.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    seen: dict[str, int] = {}
    records = 0
    try:
        with open(path, "rb") as stream:
            arc = path.lower().endswith((".arc", ".arc.gz"))
            for record in ArchiveIterator(stream, arc2warc=arc):
                if not arc and record.format != "warc":  # the reader takes any line of text for an ARC record
                    yield Failure(path, f"cannot read the archive (record {records + 1} is not a WARC record)")
                    return
                records += 1
                page = _record_page(record, input_format, max_bytes, seen)
                if page is not None:
                    yield page
    except (OSError, ArchiveLoadFailed, EOFError, ValueError) as error:
        yield Failure(path, f"cannot read the archive ({type(error).__name__}: {str(error)[:120]})")
        return
    if not records:
        yield Failure(path, "cannot read the archive (no WARC or ARC records in it)")


def _record_page(record, input_format: str, max_bytes: int, seen: dict[str, int]) -> Page | Failure | None:
    if record.rec_type == "response" and record.http_headers is not None:
        status, content_type = record.http_headers.get_statuscode(), record.http_headers.get_header("Content-Type")
    elif record.rec_type == "resource":  # a stored file, no HTTP exchange
        status, content_type = "200", record.rec_headers.get_header("Content-Type")
    else:
        return None
    if not status.startswith("2") or not (content_type or "").lower().startswith(_HTML_TYPES):
        return None
    url = record.rec_headers.get_header("WARC-Target-URI") or record.rec_headers.get_header("WARC-Record-ID") or "?"
    seen[url] = seen.get(url, 0) + 1
    page_id = url if seen[url] == 1 else f"{url}#{seen[url]}"
    data = record.content_stream().read(max_bytes + 1)
    if len(data) > max_bytes:
        return Failure(page_id, f"larger than the {max_bytes:,}-byte page limit")
    charset = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    try:
        return page_from_bytes(data, page_id, input_format, declared=charset.group(1) if charset else None)
    except PageError as error:
        return Failure(page_id, str(error).removeprefix(f"{page_id}: "))
