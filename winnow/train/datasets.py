"""Labeled pages from the shared public datasets and from the native labeled format.

A dataset is named by a spec:
  dragnet, dragnet:train, dragnet:test   Dragnet (article + comments), official split
  wcxb-dev                               WCXB development pages (content vs chrome)
  cleaneval, cleanportaleval             CleanEval-format sets (content vs chrome)
  chinese-wce                            Chinese news, government and forum pages (content vs chrome)
  PATH                                   a folder (or file) of pages in winnow's native labeled format

Public sets are read from their `.tar.xz` archives in the datasets folder (`--datasets DIR`, else
$WINNOW_DATASETS, else `../shared/datasets`) and unpacked once into the cache ($WINNOW_CACHE, else
~/.cache/winnow).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from winnow.pages import Page, decode, page_from_bytes, read_bytes

PUBLIC_DATASETS = ("dragnet", "wcxb-dev", "cleaneval", "cleanportaleval", "chinese-wce")
# Sets whose gold separates reader comments; elsewhere comments are unlabeled (counted as chrome or content).
COMMENT_LABELED = ("dragnet",)
LICENSES = {
    "dragnet": "AGPL-3.0 (seomoz/dragnet_data)",
    "wcxb-dev": "CC-BY-4.0: WCXB, Murrough Foley (2026); modified subset",
    "cleaneval": "no licence stated; research data (Baroni et al., CleanEval, LREC 2008)",
    "cleanportaleval": "no licence stated; research data (Endrédy & Novák, Polibits 48, 2013)",
    "chinese-wce": "MIT (immortal-autumn/Chinese-Web-Content-Extraction-Dataset)",
    "native": "the user's own pages",
}
_COMMENT_SEPARATOR = re.compile(r"^[!@#$%^&*() \t]{4,}COMMENTS\s*$", re.M)
_CLEANEVAL_MARKER = re.compile(r"^\s*<[phl]>", re.M)
_CLEANEVAL_WRAPPER = re.compile(r"^\s*<text\b[^>]*>", re.I)


class DatasetError(ValueError):
    """A dataset that cannot be found or read."""


@dataclass(frozen=True)
class GoldPage:
    """A page with its gold text (public sets) or its own per-block labels (native format)."""

    page: Page
    dataset: str
    group: str  # pages of one group (site) never go to both sides of a split
    gold_content: str = ""
    gold_comments: str = ""
    native: bool = False  # labels come from the page itself, not from gold text
    kind: str = ""  # the dataset's page type, where it has one (wcxb: article, forum, product, ...)


def default_datasets_dir() -> Path:
    candidates = [os.environ.get("WINNOW_DATASETS"), Path.cwd().parent / "shared" / "datasets",
                  Path(__file__).resolve().parents[3] / "shared" / "datasets"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path.cwd().parent / "shared" / "datasets"


def cache_dir() -> Path:
    return Path(os.environ.get("WINNOW_CACHE") or Path.home() / ".cache" / "winnow")


def unpacked(name: str, datasets_dir: Path | None = None) -> Path:
    """The unpacked folder of public dataset `name`, unpacking its archive into the cache on first use."""
    target = cache_dir() / "datasets" / name
    if target.is_dir():
        return target
    archive = (datasets_dir or default_datasets_dir()) / name / f"{name}.tar.xz"
    if not archive.is_file():
        raise DatasetError(f"{name}: archive not found at {archive} (pass --datasets DIR or set WINNOW_DATASETS)")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}-"))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        (scratch / name).rename(target)  # atomic: a half-unpacked set is never seen
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def read_text_file(path: Path) -> str:
    """Gold text files come in UTF-8, UTF-16 with BOM and legacy single-byte encodings."""
    return decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")


def iter_dataset(spec: str, datasets_dir: Path | None = None) -> Iterator[GoldPage]:
    """Labeled pages of a dataset spec, in a stable order."""
    name, _, split = spec.partition(":")
    if name in PUBLIC_DATASETS:
        root = unpacked(name, datasets_dir)
        loader = {"dragnet": _dragnet, "wcxb-dev": _wcxb, "cleaneval": _cleaneval,
                  "cleanportaleval": _cleanportaleval, "chinese-wce": _chinese_wce}[name]
        if split and name != "dragnet":
            raise DatasetError(f"{spec}: only dragnet has named splits (dragnet:train, dragnet:test)")
        yield from loader(root, split) if name == "dragnet" else loader(root)
    elif Path(spec).exists():
        yield from _native(Path(spec))
    else:
        raise DatasetError(f"{spec}: not a dataset name ({', '.join(PUBLIC_DATASETS)}) nor an existing path")


def split_dragnet_gold(text: str) -> tuple[str, str]:
    """Article and comment parts of a dragnet gold file."""
    match = _COMMENT_SEPARATOR.search(text)
    if not match:
        return text, ""
    return text[:match.start()], text[match.end():]


def _dragnet(root: Path, split: str) -> Iterator[GoldPage]:
    splits = {"train": "training.txt", "training": "training.txt", "test": "test.txt"}
    if split and split not in splits:
        raise DatasetError(f"dragnet:{split}: unknown split (use dragnet:train or dragnet:test)")
    files = [splits[split]] if split else ["training.txt", "test.txt"]
    for list_file in files:
        for page_id in (root / list_file).read_text().split():
            html = read_bytes(root / "HTML" / f"{page_id}.html")
            content, comments = split_dragnet_gold(read_text_file(root / "Corrected" / f"{page_id}.html.corrected.txt"))
            yield GoldPage(page_from_bytes(html, f"dragnet/{page_id}", "html"), "dragnet", f"dragnet/{page_id}",
                           content, comments)


def _wcxb(root: Path) -> Iterator[GoldPage]:
    metadata = json.loads((root / "metadata.json").read_text())["files"]
    for gold_file in sorted((root / "ground-truth").glob("*.json")):
        page_id = gold_file.stem
        gold = json.loads(gold_file.read_text(encoding="utf-8")).get("ground_truth", {})
        content = gold.get("main_content") or ""
        if not content.strip():
            continue  # no usable gold: every block would come out as chrome
        html = read_bytes(root / "html" / f"{page_id}.html")
        about = metadata.get(page_id, {})
        yield GoldPage(page_from_bytes(html, f"wcxb-dev/{page_id}", "html"), "wcxb-dev",
                       about.get("domain", page_id), content, kind=about.get("page_type", ""))


def _cleaneval_gold(path: Path) -> str:
    text = read_text_file(path).lstrip("\ufeff")
    lines = [line for line in text.split("\n") if not line.startswith("URL:")]
    return _CLEANEVAL_MARKER.sub("\n", "\n".join(lines))


def _cleaneval_page(html: bytes, page_id: str, wrapper_charset: bool = False) -> tuple[Page, str]:
    """Strip the CleanEval `<text id=URL encoding=...>` wrapper line; its id is the page's URL. With
    `wrapper_charset`, its encoding (the crawler's HTTP charset) is the page's declared charset."""
    head = html[:2000].decode("latin-1")
    wrapper = _CLEANEVAL_WRAPPER.search(head)
    url, declared = "", None
    if wrapper:
        found = re.search(r'id="([^"]*)"', wrapper.group(0))
        url = found.group(1) if found else ""
        if wrapper_charset:
            found = re.search(r'encoding="([^"]*)"', wrapper.group(0))
            declared = found.group(1) if found else None
        html = html[len(wrapper.group(0).encode("latin-1")):]
    return page_from_bytes(html, page_id, "html", declared), urlparse(url).netloc or page_id


def _cleaneval_folder(root: Path, dataset: str, prefix: str) -> Iterator[GoldPage]:
    for gold_file in sorted((root / "GoldStandard").glob("*.txt"), key=lambda p: (len(p.stem), p.stem)):
        html_file = root / "input" / f"{gold_file.stem}.html"
        if not html_file.exists():
            continue
        page, site = _cleaneval_page(read_bytes(html_file), f"{prefix}{gold_file.stem}")
        yield GoldPage(page, dataset, site, _cleaneval_gold(gold_file))


def _cleaneval(root: Path) -> Iterator[GoldPage]:
    for page in _cleaneval_folder(root / "cleaneval-dev", "cleaneval", "cleaneval/dev/"):
        if page.page.id != "cleaneval/dev/60":  # byte-identical to final page 60, with different gold
            yield page
    yield from _cleaneval_folder(root / "cleaneval-final", "cleaneval", "cleaneval/final/")


def _cleanportaleval(root: Path) -> Iterator[GoldPage]:
    for page in _cleaneval_folder(root, "cleanportaleval", "cleanportaleval/"):
        site = page.page.id.split("/", 1)[1].rsplit("_", 1)[0]
        yield GoldPage(page.page, page.dataset, site, page.gold_content)


def _chinese_wce(root: Path) -> Iterator[GoldPage]:
    # Most pages carry CleanEval's wrapper line, some with the only statement of their charset (gb2312,
    # which `decode` reads as its superset gb18030). Pages without one are their own group.
    for gold_file in sorted((root / "cleaned").glob("*.txt")):
        html = read_bytes(root / "original" / f"{gold_file.stem}.html")
        page, site = _cleaneval_page(html, f"chinese-wce/{gold_file.stem}", wrapper_charset=True)
        yield GoldPage(page, "chinese-wce", site, read_text_file(gold_file))


def _native(path: Path) -> Iterator[GoldPage]:
    """Pages in the native labeled format: HTML with data-label attributes, or labeled text lines."""
    from winnow.pages import iter_page_paths, read_page

    paths = iter_page_paths([str(path)])
    if not paths:
        raise DatasetError(f"{path}: no pages (.html, .htm, .txt, .gz) found")
    for page_path in paths:
        page = read_page(page_path)
        yield GoldPage(page, "native", page_path, native=True)
