#!/usr/bin/env python
"""Compare winnow with rule-based main-text extractors on the same labeled pages, in one run.

    pip install '.[peers]'
    python benchmarks/compare_peers.py --data dragnet:test [--limit N] [--model M] [--json OUT] [--markdown]

Every tool gets the same decoded HTML of every page and returns the page's article text. Each is scored
against the gold article text with the metrics of `winnow evaluate` (content token precision / recall /
F1, macro over pages with gold text, and micro) and with per-page 4-gram shingle F1, and timed alone,
one tool after another, in this process, limited to one thread. A peer that is not installed is listed
as such and skipped; a peer that raises on a page scores that page as empty text and counts an error.
See benchmarks/README.md for what each column means.

The metric helpers (`shingles`, `shingle_counts`, `shingle_prf`, `score_pages`) can be imported from this
file (benchmarks/ is not a package): load it with importlib.util.spec_from_file_location("compare_peers", path),
and put the module in sys.modules before exec_module (its dataclasses need that).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable

from winnow.train.corpus import split_text_spec
from winnow.train.metrics import SHINGLE_SIZE, prf, shingle_counts, shingles  # noqa: F401 (shingles: re-exported)
BASELINE = "trafilatura"  # the "speed vs" column divides by this tool's pages/s
PARSE_FLOOR = "lxml parse (floor)"
MAX_ERROR_EXAMPLES = 5

# Block-level tags after which readability's article HTML gets a line break when turned into text, so
# words of adjacent paragraphs are not glued together.
_BLOCK_TAGS = frozenset("address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4 "
                        "h5 h6 header hr li main nav ol p pre section table td th tr ul".split())


# ---------------------------------------------------------------------------------------------------------
# Metrics


def shingle_prf(predicted_text: str, gold_text: str, size: int = SHINGLE_SIZE) -> tuple[float, float, float]:
    """Per-page shingle precision, recall and F1 (both texts empty scores 1, as winnow's `prf` does)."""
    return prf(*shingle_counts(predicted_text, gold_text, size))


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values)) if values else float("nan")


def score_pages(predicted: list[str], gold: list[str]) -> dict:
    """Token scores (macro over pages with gold tokens, and micro), macro shingle scores, and each page's
    token F1 (None without gold tokens) of one tool."""
    from winnow.train.metrics import token_counts

    token_rows, shingle_rows, page_f1, totals = [], [], [], [0, 0, 0]
    for predicted_text, gold_text in zip(predicted, gold, strict=True):
        counts = token_counts(predicted_text, gold_text)
        totals = [t + c for t, c in zip(totals, counts)]
        if counts[2] == 0:
            page_f1.append(None)
            continue  # no gold text: left out of the macro averages (still counted in micro)
        token_rows.append(prf(*counts))
        page_f1.append(token_rows[-1][2])
        shingle_rows.append(shingle_prf(predicted_text, gold_text))
    micro = prf(*totals)
    return {
        "tokens": {"pages": len(token_rows), **{name: _mean([row[i] for row in token_rows])
                                                for i, name in enumerate(("precision", "recall", "f1"))},
                   "micro_precision": micro[0], "micro_recall": micro[1], "micro_f1": micro[2]},
        "shingles": {"size": SHINGLE_SIZE, "pages": len(shingle_rows),
                     **{name: _mean([row[i] for row in shingle_rows])
                        for i, name in enumerate(("precision", "recall", "f1"))}},
        "page_token_f1": page_f1,
    }


def scores_by_kind(kinds: list[str], results: list) -> dict:
    """kind -> {"pages": n, tool: macro token F1 over that kind's pages with gold}, for sets with page types."""
    table: dict = {}
    for kind in sorted(set(kinds) - {""}):
        rows = [i for i, k in enumerate(kinds) if k == kind]
        table[kind] = {"pages": len(rows)}
        for result in results:
            if result.scores:
                values = [f for f in (result.scores["page_token_f1"][i] for i in rows) if f is not None]
                table[kind][result.name] = _mean(values)
    return table


def page_scores(ids: list[str], kinds: list[str], results: list) -> list[dict]:
    """Each page's token F1 by tool (None: no gold tokens), with its type where the set has types: where
    each tool wins and loses, page by page."""
    scored = [result for result in results if result.scores]
    return [{"page": page_id, "type": kind or None,
             "token_f1": {result.name: result.scores["page_token_f1"][n] for result in scored}}
            for n, (page_id, kind) in enumerate(zip(ids, kinds or [""] * len(ids), strict=True))]


# ---------------------------------------------------------------------------------------------------------
# Tools: each factory returns a function html(str) -> article text, or raises ImportError if not installed.


def html_to_text(markup: str) -> str:
    """Text of an HTML fragment, with a line break after every block-level element."""
    import lxml.html

    if not markup.strip():
        return ""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    return root.text_content()


def _trafilatura() -> Callable[[str], str]:
    import trafilatura

    return lambda html: trafilatura.extract(html, include_comments=False) or ""


def _readability() -> Callable[[str], str]:
    from readability import Document

    return lambda html: html_to_text(Document(html).summary(html_partial=True))


def _justext() -> Callable[[str], str]:
    import justext

    stoplist = justext.get_stoplist("English")
    return lambda html: "\n\n".join(p.text for p in justext.justext(html, stoplist) if not p.is_boilerplate)


def _boilerpy3() -> Callable[[str], str]:
    from boilerpy3 import extractors

    extractor = extractors.ArticleExtractor()
    return lambda html: extractor.get_content(html)


def _resiliparse() -> Callable[[str], str]:
    from resiliparse.extract.html2text import extract_plain_text

    return lambda html: extract_plain_text(html, main_content=True, comments=False)


def _parse_only() -> Callable[[str], str]:
    import re

    import lxml.html

    declaration = re.compile(r"^\s*<\?xml[^>]*>")  # lxml refuses str input carrying an encoding declaration

    def parse(html: str) -> str:
        lxml.html.document_fromstring(declaration.sub("", html, count=1))
        return ""
    return parse


@dataclass(frozen=True)
class Peer:
    name: str
    distribution: str  # the PyPI name, for the version column
    factory: Callable[[], Callable[[str], str]]
    call: str  # how it is called, for the README and the JSON


PEERS = {peer.name: peer for peer in (
    Peer("trafilatura", "trafilatura", _trafilatura, "trafilatura.extract(html, include_comments=False)"),
    Peer("readability", "readability-lxml", _readability,
         "readability.Document(html).summary(html_partial=True), as text"),
    Peer("justext", "jusText", _justext, "justext.justext(html, get_stoplist('English')), non-boilerplate paragraphs"),
    Peer("boilerpy3", "boilerpy3", _boilerpy3, "boilerpy3.extractors.ArticleExtractor().get_content(html)"),
    Peer("resiliparse", "Resiliparse", _resiliparse,
         "resiliparse extract_plain_text(html, main_content=True, comments=False)"),
)}
TOOLS = ("winnow", *PEERS)


@dataclass
class Result:
    """One tool's run: texts per page, errors, timing, scores."""

    name: str
    version: str = ""
    status: str = "ok"  # "ok", "not installed", or why it did not run
    call: str = ""
    texts: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = float("nan")
    cpu_seconds: float = float("nan")
    scores: dict = field(default_factory=dict)

    def pages_per_second(self) -> float:
        return len(self.texts) / self.seconds if self.texts and self.seconds > 0 else float("nan")

    def as_dict(self, baseline_pps: float) -> dict:
        pps = self.pages_per_second()
        return {
            "name": self.name, "version": self.version, "status": self.status, "call": self.call,
            "pages": len(self.texts), "errors": len(self.errors),
            "error_examples": [{"page": p, "error": e} for p, e in self.errors[:MAX_ERROR_EXAMPLES]],
            "empty_outputs": sum(1 for t in self.texts if not t.strip()) if self.name != PARSE_FLOOR else None,
            "seconds": _finite(self.seconds), "cpu_seconds": _finite(self.cpu_seconds),
            "pages_per_second": _finite(pps),
            "cpu_pages_per_second": _finite(len(self.texts) / self.cpu_seconds
                                            if self.texts and self.cpu_seconds > 0 else float("nan")),
            f"speed_vs_{BASELINE}": _finite(pps / baseline_pps if baseline_pps > 0 else float("nan")),
            **{key: {k: _finite(v) for k, v in value.items()} for key, value in self.scores.items()
               if key != "page_token_f1"},
        }


def _finite(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


class _Quiet:
    """Silence the peers' log messages and warnings (boilerpy3 logs about bad markup, for one) while they run."""

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        return self

    def __exit__(self, *exc):
        logging.disable(logging.NOTSET)
        self._warnings.__exit__(*exc)
        return False


def _describe(error: Exception) -> str:
    """The error's type and message, and its cause's when it has none of its own (boilerpy3 wraps parser crashes)."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    if not str(error) and cause is not None:
        text += f"from {type(cause).__name__}: {cause}"
    return text[:300]


def _timed(result: Result, run: Callable[[], list[str]]) -> None:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result.texts = run()
    result.seconds, result.cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu


def run_function(extract: Callable[[str], str], pages: list, result: Result) -> Result:
    """Time `extract` over all pages (after one untimed warm-up call); a page it fails on is empty text."""
    def run() -> list[str]:
        texts = []
        for page in pages:
            try:
                texts.append(extract(page.text) or "")
            except Exception as error:  # noqa: BLE001 - a peer failing on a page is scored, not fatal
                result.errors.append((page.id, _describe(error)))
                texts.append("")
        return texts

    if pages:
        try:
            extract(pages[0].text)  # warm-up: lazy imports and caches are not what we time
        except Exception:  # noqa: BLE001 - counted in the timed run
            pass
    _timed(result, run)
    return result


def run_peer(peer: Peer, pages: list) -> Result:
    result = Result(peer.name, _version(peer.distribution), call=peer.call)
    try:
        extract = peer.factory()
    except ImportError:
        result.status, result.version = "not installed", ""
        return result
    return run_function(extract, pages, result)


def winnow_text(record: dict) -> str:
    """winnow's article text: the headline (given apart as `title`) and the body, like the peers output."""
    return "\n\n".join(part for part in (record["title"], record["text"]) if part)


def run_winnow(model, pages: list, chunk_pages: int | None = None) -> Result:
    """Batch path: segment and label a chunk of pages with one classifier call, then assemble each page."""
    from winnow.predict.batch import CHUNK_PAGES, classify_pages
    from winnow.predict.extract import assemble

    size = chunk_pages or CHUNK_PAGES
    result = Result("winnow", _version("winnow"), call=f"classify_pages + assemble, {size} pages a chunk; "
                                                         "title + text")

    def classify(chunk: list) -> list[str]:
        return [winnow_text(assemble(page.id, blocks, title)) for page, blocks, title in classify_pages(model, chunk)]

    def chunk_texts(chunk: list) -> list[str]:
        try:
            return classify(chunk)
        except Exception:  # noqa: BLE001 - retry page by page so only the bad page is lost
            texts = []
            for page in chunk:
                try:
                    texts.extend(classify([page]))
                except Exception as error:  # noqa: BLE001
                    result.errors.append((page.id, _describe(error)))
                    texts.append("")
            return texts

    def run() -> list[str]:
        texts = []
        for start in range(0, len(pages), size):
            texts.extend(chunk_texts(pages[start:start + size]))
        return texts

    if pages:
        chunk_texts(pages[:1])  # warm-up (a failure here is counted again in the timed run)
        result.errors.clear()
    _timed(result, run)
    return result


def run_winnow_cv(pages: list, spec: str, k: int, datasets_dir: Path | None, add: list[str] = (),
                  log=lambda message: None) -> Result:
    """winnow on a set it was never trained on: K models, each fitted (as `winnow train --preset default`
    fits its HTML model) on the other folds' pages, plus every page of the `add` specs, and run on its
    fold, folds grouped by site (winnow.train.crossval.fold_pages). Times are the sum of the folds'
    extraction times."""
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from winnow.model import WinnowModel
    from winnow.train.corpus import load_corpus
    from winnow.train.crossval import fold_pages
    from winnow.train.fit import fit_blocks, recipe_params

    blocks, corpus_pages = load_corpus([spec], datasets_dir)
    position = {page.id: n for n, page in enumerate(pages)}
    corpus_pages = corpus_pages[corpus_pages["page"].isin(position)].reset_index(drop=True)
    blocks = blocks[blocks["page"].isin(position)]  # with --limit, no page of a held-out site hides beyond it
    added = load_corpus(list(add), datasets_dir)[0] if add else blocks.iloc[:0]
    texts: list[str] = [""] * len(pages)
    total = Result("winnow", _version("winnow"), call=f"{k} fold models (grouped by site), each run on its fold")
    total.seconds = total.cpu_seconds = 0.0
    for n, held_out in enumerate(fold_pages(corpus_pages, k, "domain"), start=1):
        test_ids = set(corpus_pages["page"].iloc[held_out])
        train = pd.concat([blocks[~blocks["page"].isin(test_ids)], added], ignore_index=True)
        log(f"winnow fold {n}/{k}: fitting on {len(train):,} blocks, extracting {len(test_ids)} pages")
        with threadpool_limits(limits=os.cpu_count()):  # fitting is not what is timed: all cores
            model = WinnowModel(fit_blocks(train, **recipe_params(html=True), log=lambda message: None)[0])
        fold = [page for page in pages if page.id in test_ids]
        result = run_winnow(model, fold)
        total.errors.extend(result.errors)
        total.seconds += result.seconds
        total.cpu_seconds += result.cpu_seconds
        for page, text in zip(fold, result.texts):
            texts[position[page.id]] = text
    total.texts = texts
    return total


# ---------------------------------------------------------------------------------------------------------
# Pages, overlap with the model's training data, the run


def load_pages(spec: str, limit: int | None, datasets_dir: Path | None) -> tuple[list, list[str], list[str], int]:
    """HTML pages of a dataset spec (first `limit`), their gold article texts, their page types ("" where the
    set has none), and how many text pages were skipped."""
    from winnow.train.datasets import iter_dataset

    golds = iter_dataset(spec, datasets_dir)
    pages, gold, kinds, skipped = [], [], [], 0
    for item in golds:
        if item.page.kind != "html":
            skipped += 1  # the peers read HTML only
            continue
        if item.native:
            raise SystemExit(f"{spec}: natively labeled pages have no gold text to compare extractors with; "
                             "use a public dataset (dragnet:test, wcxb-dev, cleaneval, cleanportaleval)")
        pages.append(item.page)
        gold.append(item.gold_content)
        kinds.append(item.kind)
        if limit is not None and len(pages) >= limit:
            break
    return pages, gold, kinds, skipped


def trained_on(spec: str, training_specs: Iterable[str]) -> list[str]:
    """The model's training specs that hold pages of `spec` (dragnet:train does not overlap dragnet:test)."""
    name, _, split = spec.partition(":")
    overlapping = []
    for trained in training_specs:
        if split_text_spec(trained)[1]:  # text renderings are not the HTML pages being benchmarked
            continue
        trained_name, _, trained_split = trained.partition(":")
        if trained_name == name and (not split or not trained_split or split == trained_split
                                     or {split, trained_split} == {"train", "training"}):
            overlapping.append(trained)
    return overlapping


def benchmark(pages: list, gold: list[str], tools: list[str], model=None, chunk_pages: int | None = None,
              log: Callable[[str], None] = lambda message: None, cv: tuple[str, int, Path | None, list[str]] | None = None
              ) -> list[Result]:
    """Run the parse floor and the chosen tools one after another, on one thread; score each."""
    from threadpoolctl import threadpool_limits

    results = []
    with threadpool_limits(limits=1), _Quiet():
        log(f"{PARSE_FLOOR}: parsing {len(pages)} pages")
        floor = run_function(_parse_only(), pages,
                             Result(PARSE_FLOOR, _version("lxml"), call="lxml.html.document_fromstring(html)"))
        results.append(floor)
        for name in tools:
            log(f"{name}: extracting {len(pages)} pages")
            if name == "winnow" and cv:
                result = run_winnow_cv(pages, *cv, log=log)
            elif name == "winnow":
                result = run_winnow(model, pages, chunk_pages)
            else:
                result = run_peer(PEERS[name], pages)
            if result.status == "ok":
                result.scores = score_pages(result.texts, gold)
            elif result.status == "not installed":
                log(f"{name}: not installed, skipped (pip install '.[peers]')")
            results.append(result)
    return results


# ---------------------------------------------------------------------------------------------------------
# Output

_COLUMNS = ("tool", "version", "token P", "token R", "token F1", "micro F1", "shingle F1", "errors", "pages/s",
            f"speed vs {BASELINE}")


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}f}"


def _speed(value) -> str:
    if value is None:
        return ""
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for tool in report["tools"]:
        if tool["status"] != "ok":
            rows.append([tool["name"], tool["version"], tool["status"], *[""] * (len(_COLUMNS) - 3)])
            continue
        tokens, shingle = tool.get("tokens", {}), tool.get("shingles", {})
        pps = tool["pages_per_second"]
        rows.append([tool["name"], tool["version"], _fmt(tokens.get("precision")), _fmt(tokens.get("recall")),
                     _fmt(tokens.get("f1")), _fmt(tokens.get("micro_f1")), _fmt(shingle.get("f1")),
                     str(tool["errors"]) if tool["name"] != PARSE_FLOOR else "",
                     "" if pps is None else (f"{pps:.1f}" if pps < 100 else f"{pps:.0f}"),
                     _speed(tool[f"speed_vs_{BASELINE}"])])
    return rows


def _caption(report: dict) -> str:
    lines = [f"{report['data']}: {report['pages']} pages ({report['pages_with_gold']} with gold text, macro averages "
             f"over those); winnow model {report['model'] or '-'}; timed on one thread, tools run one after another"]
    lines += [f"warning: {w}" for w in report["warnings"]]
    return "\n".join(lines)


def markdown_table(report: dict) -> str:
    rule = "|".join("---" if i < 2 else "---:" for i in range(len(_COLUMNS)))
    out = ["| " + " | ".join(_COLUMNS) + " |", f"|{rule}|"]
    out += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    return "\n".join(out) + "\n\n" + "\n\n".join(_caption(report).splitlines()) + "\n" + _kinds_markdown(report)


def _kind_rows(report: dict) -> list[list[str]]:
    """Header and rows of the per-page-type token F1 table; empty for sets without page types."""
    by_kind = report.get("token_f1_by_page_type") or {}
    if not by_kind:
        return []
    tools = [t["name"] for t in report["tools"] if t["name"] != PARSE_FLOOR and t["status"] == "ok"]
    rows = [["page type", "pages", *tools]]
    for kind, row in by_kind.items():
        rows.append([kind, str(row["pages"]), *(f"{row[t]:.3f}" if _finite(row.get(t)) is not None else ""
                                               for t in tools)])
    return rows


def _kinds_markdown(report: dict) -> str:
    rows = _kind_rows(report)
    if not rows:
        return ""
    out = ["", "token F1 by page type:", "", "| " + " | ".join(rows[0]) + " |", "|---|" + "---:|" * (len(rows[0]) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n"


def print_table(report: dict, console) -> None:
    from rich.table import Table

    table = Table(title=f"winnow vs peers on {report['data']}", caption=_caption(report), caption_justify="left")
    for i, column in enumerate(_COLUMNS):
        table.add_column(column, justify="left" if i < 2 else "right", no_wrap=True)
    for row in table_rows(report):
        style = "dim" if row[0] == PARSE_FLOOR or row[2] == "not installed" else None
        table.add_row(*row, style=style)
    console.print(table)
    by_kind = _kind_rows(report)
    if by_kind:
        kinds = Table(title="token F1 by page type")
        for i, column in enumerate(by_kind[0]):
            kinds.add_column(column, justify="left" if i == 0 else "right")
        for row in by_kind[1:]:
            kinds.add_row(*row)
        console.print(kinds)


def build_report(spec: str, pages: list, gold: list[str], results: list[Result], model_path: str | None,
                 warnings_: list[str], kinds: list[str] | None = None) -> dict:
    baseline = next((r for r in results if r.name == BASELINE and r.status == "ok"), None)
    baseline_pps = baseline.pages_per_second() if baseline else float("nan")
    return {
        "data": spec, "pages": len(pages), "pages_with_gold": sum(1 for g in gold if g.strip()),
        "model": model_path, "warnings": warnings_, "shingle_size": SHINGLE_SIZE, "baseline": BASELINE,
        "environment": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(), "threads": 1},
        "tools": [r.as_dict(baseline_pps) for r in results],
        # Macro token F1 per page type, for sets that have types (wcxb): where each tool wins and loses.
        "token_f1_by_page_type": scores_by_kind(kinds or [], results),
        "page_scores": page_scores([page.id for page in pages], kinds or [], results),
    }


def _write_json(path: str, report: dict) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(target)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Columns and caveats: benchmarks/README.md")
    parser.add_argument("--data", default="dragnet:test",
                        help="dataset spec (dragnet:test, dragnet, wcxb-dev, cleaneval, cleanportaleval); default "
                             "dragnet:test. The default model was trained on wcxb-dev and cleaneval: score those with "
                             "a --model trained without them")
    parser.add_argument("--limit", type=int, help="only the first N pages (a quick run)")
    parser.add_argument("--model", help="winnow model file (default: the shipped winnow/models/default.joblib)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated tools to run (default: all: {','.join(TOOLS)})")
    parser.add_argument("--datasets", type=Path,
                        help="folder of the public dataset archives (default: $WINNOW_DATASETS or ../shared/datasets)")
    parser.add_argument("--chunk-pages", type=int, help="pages per winnow classifier call (default: as winnow batch)")
    parser.add_argument("--json", metavar="OUT", help="write the raw numbers as JSON to OUT ('-' for stdout)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table instead of the rich table")
    parser.add_argument("--cv", type=int, metavar="K", help="score winnow by K-fold cross-validation grouped by site "
                        "on --data itself (a model per fold, never run on pages it was fitted on) instead of --model")
    parser.add_argument("--cv-add", metavar="SPECS", default="",
                        help="with --cv: comma-separated dataset specs added whole to every fold's training pages, "
                             "as the default recipe adds them (e.g. dragnet:train,cleaneval)")
    args = parser.parse_args(argv)
    args.cv_add = [spec.strip() for spec in args.cv_add.split(",") if spec.strip()]
    if args.cv_add and not args.cv:
        parser.error("--cv-add needs --cv")
    if any(spec.split(":")[0] == args.data.split(":")[0] for spec in args.cv_add):
        parser.error(f"--cv-add must not hold pages of --data {args.data}")
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tools {', '.join(unknown)} (choose from {', '.join(TOOLS)})")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rich.console import Console

    err = Console(stderr=True)
    from winnow.train.datasets import DatasetError

    model, model_path, notes = None, None, []
    if "winnow" in args.tools and args.cv:
        model_path = f"{args.cv}-fold cross-validation on {args.data}, grouped by site"
        if args.cv_add:
            model_path += f"; every fold model also fitted on {', '.join(args.cv_add)}"
    elif "winnow" in args.tools:
        import winnow
        from winnow.model import ModelError, default_model_path

        model_path = str(args.model or default_model_path())
        try:
            model = winnow.load_model(args.model)
        except ModelError as error:
            err.print(f"[red]error:[/red] {error}; pass --model, or leave winnow out with --tools")
            return 2
        overlap = trained_on(args.data, model.card.get("training_data", {}).get("specs", []))
        if overlap:
            notes.append(f"the winnow model was trained on {', '.join(overlap)}, which holds the evaluated pages: "
                         "its scores here are training-set scores. Pass --model with a model trained without them "
                         f"(e.g. `winnow train dragnet:train cleaneval -o no-wcxb.joblib` for wcxb-dev)")
    try:
        pages, gold, kinds, skipped = load_pages(args.data, args.limit, args.datasets)
    except DatasetError as error:
        err.print(f"[red]error:[/red] {error}")
        return 2
    if skipped:
        notes.append(f"{skipped} plain-text pages skipped: the peers read HTML only")
    if not pages:
        err.print(f"[red]error:[/red] {args.data}: no HTML pages")
        return 2
    for note in notes:
        err.print(f"[yellow]warning:[/yellow] {note}")
    cv = (args.data, args.cv, args.datasets, args.cv_add) if args.cv else None
    results = benchmark(pages, gold, args.tools, model, args.chunk_pages, log=lambda m: err.print(m, style="dim"), cv=cv)
    report = build_report(args.data, pages, gold, results, model_path, notes, kinds)
    if args.json:
        _write_json(args.json, report)
    if args.markdown:
        sys.stdout.write(markdown_table(report))
    elif args.json != "-":
        # Not a terminal (a pipe, a file): wide enough that no column is cut.
        print_table(report, Console() if sys.stdout.isatty() else Console(width=160))
    return 0


if __name__ == "__main__":
    sys.exit(main())
