"""Turn labeled pages into the labeled blocks table that fitting and evaluation read.

`load_corpus(specs)` gives two tables:
  blocks  one row per block (segment.BLOCK_COLUMNS) plus label, dataset, group
  pages   one row per page: gold text and alignment coverage, so bad alignments are visible

Segmenting and aligning thousands of pages takes a while, so a dataset's tables are cached on disk,
keyed by the spec, CORPUS_VERSION (bump it when segmentation or alignment changes) and a hash of the
labeling code, so that a cache written by an edit between two bumps is not read as current.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from dataclasses import replace
from pathlib import Path

import joblib
import pandas as pd

from winnow.render import as_labeled_text_page
from winnow.segment import LABELS, segment
from winnow.train.align import align_labels, coverage
from winnow.train.datasets import PUBLIC_DATASETS, DatasetError, GoldPage, cache_dir, iter_dataset

CORPUS_VERSION = 5
# "dragnet:test@text": the pages rendered to plain text; "dragnet:train@text2": rendered a second time,
# each page in another random style (page ids end in "#2"), for more variety to train on.
_TEXT_SPEC = re.compile(r"(?P<base>.*)@text(?P<rendering>\d*)")


# The modules whose code decides a dataset's labeled blocks; the compiled walk (setup.py) where it is built,
# since segment.py hands it the walking.
LABELING_MODULES = ("winnow.pages", "winnow.segment", "winnow.render", "winnow.tokens", "winnow.train.align",
                    "winnow.train.datasets", "winnow.train.corpus")
COMPILED_LABELING_MODULES = ("winnow._walk",)


def labeling_fingerprint() -> str:
    """A hash of the labeling code (LABELING_MODULES' source, the built COMPILED_LABELING_MODULES' binaries), for the
    label cache's file names."""
    digest = hashlib.sha1()
    for name in LABELING_MODULES + COMPILED_LABELING_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            if name in COMPILED_LABELING_MODULES:  # not built: segment.py's own walk, hashed above, labels
                continue
            raise
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def split_text_spec(spec: str) -> tuple[str, int]:
    """("dragnet:test", 0) for "dragnet:test", 1 for "dragnet:test@text", n for "dragnet:test@textN"."""
    match = _TEXT_SPEC.fullmatch(spec)
    return (match["base"], int(match["rendering"] or 1)) if match else (spec, 0)


def _native_labels(page_id: str, blocks: pd.DataFrame) -> list[str]:
    unknown = sorted(set(blocks["gold"]) - set(LABELS) - {""})
    if unknown:
        raise DatasetError(f"{page_id}: unknown labels {unknown} (use {', '.join(LABELS)})")
    return blocks["gold"].where(blocks["gold"] != "", "chrome").tolist()


def label_page(gold: GoldPage, rendering: int = 0) -> tuple[pd.DataFrame, dict]:
    """The labeled blocks of one page and its alignment report.

    With `rendering` n >= 1, an HTML page is first labeled, then rendered to text with its labels kept per
    line: training and test data for the text model. The n-th rendering (n > 1) draws its style for the
    page id with "#n" added, and its blocks carry that id.
    """
    as_text = rendering > 0
    if rendering > 1:
        gold = replace(gold, page=replace(gold.page, id=f"{gold.page.id}#{rendering}"))
    blocks = segment(gold.page, images=as_text)
    texts = blocks["text"].tolist()
    if gold.native:
        labels = _native_labels(gold.page.id, blocks)
        # The gold text of a natively labeled page is the text of its labeled blocks.
        gold = GoldPage(gold.page, gold.dataset, gold.group, *(
            "\n".join(t for t, lab in zip(texts, labels) if lab == part) for part in ("content", "comment")), native=True)
    else:
        labels = align_labels(texts, gold.gold_content, gold.gold_comments)
    if as_text and gold.page.kind == "html":
        blocks = segment(as_labeled_text_page(gold.page.id, blocks.assign(label=labels)))
        texts, labels = blocks["text"].tolist(), _native_labels(gold.page.id, blocks)
    blocks = blocks.assign(label=labels, dataset=gold.dataset, group=gold.group)
    report = {
        "page": gold.page.id, "dataset": gold.dataset, "group": gold.group, "blocks": len(blocks),
        "native": gold.native, "gold_content": gold.gold_content, "gold_comments": gold.gold_comments,
        "content_coverage": coverage(texts, labels, gold.gold_content),
        "comment_coverage": coverage(texts, labels, gold.gold_comments, "comment") if gold.gold_comments else float("nan"),
    }
    return blocks, report


def _label_all(golds: list[GoldPage], jobs: int, rendering: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    results = joblib.Parallel(n_jobs=jobs, batch_size=16)(joblib.delayed(label_page)(g, rendering) for g in golds)
    blocks = pd.concat([b for b, _ in results], ignore_index=True) if results else pd.DataFrame()
    return blocks, pd.DataFrame([r for _, r in results])


def load_dataset(spec: str, datasets_dir: Path | None = None, jobs: int | None = None,
                 use_cache: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labeled blocks and page reports of one dataset spec (cached for public sets).

    A spec ending in `@text` gives the pages rendered to plain text (see winnow.render), `@text2` (3, ...)
    the same pages rendered again in other styles.
    """
    jobs = jobs or os.cpu_count() or 1
    base, rendering = split_text_spec(spec)
    cacheable = use_cache and base.partition(":")[0] in PUBLIC_DATASETS
    name = spec.replace(":", "-")
    cached = cache_dir() / "corpus" / f"{name}-v{CORPUS_VERSION}-{labeling_fingerprint()}.joblib"
    if cacheable and cached.exists():
        return joblib.load(cached)
    tables = _label_all(list(iter_dataset(base, datasets_dir)), jobs, rendering)
    if cacheable:
        cached.parent.mkdir(parents=True, exist_ok=True)
        scratch = cached.with_suffix(".tmp")
        joblib.dump(tables, scratch)
        scratch.replace(cached)
        for stale in cached.parent.glob(f"{name}-v*.joblib"):  # written by other labeling code: never read again
            if stale != cached:
                stale.unlink(missing_ok=True)
    return tables


def load_corpus(specs: list[str], datasets_dir: Path | None = None,
                jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labeled blocks and page reports of several dataset specs, concatenated."""
    loaded = [load_dataset(spec, datasets_dir, jobs) for spec in specs]
    blocks = pd.concat([b for b, _ in loaded], ignore_index=True)
    pages = pd.concat([p for _, p in loaded], ignore_index=True)
    twice = pages["page"][pages["page"].duplicated()]
    if len(twice):  # their blocks would be scored as one page, or fitted twice
        raise DatasetError(f"{' '.join(specs)}: {twice.nunique():,} pages come twice (e.g. {twice.iloc[0]}), as "
                           "with a set and its @text rendering or a set and one of its splits; pass them in "
                           "separate runs")
    return blocks, pages
