#!/usr/bin/env python
"""How fast winnow labels pages, side by side with trafilatura and the bare lxml parse, in one run.

    pip install '.[peers]'
    python benchmarks/speed.py [--data dragnet:test] [--limit N] [--rounds 3] [--worker-pages 2000]
                               [--memory-pages 10000] [--train]

1. One core: each tool over the same decoded pages, one after another, `--rounds` times in turn; the
   best round of each counts (the least disturbed by other work on a shared machine), and the lowest, median
   and highest of the rounds' own winnow / trafilatura and winnow / parse ratios show how noisy the machine
   was. winnow runs its batch path (segment, features and classifier for 64 pages a call, then the
   `predict` JSON lines). Also winnow's stages alone: segmentation, features, classifier.
2. Workers: `winnow predict DIR --jobs N` end to end (reading files, writing JSON Lines) for N = 1 and
   N = all cores, in subprocesses, over `--worker-pages` files (the pages repeated as hard links): on a
   few hundred pages the workers' start-up (each imports winnow and receives the model) hides their gain.
   Each is also run over the pages once; the extra pages over the extra time give the rate past the
   start-up, what a long batch runs at.
3. Memory: peak RSS of `winnow predict` over `--memory-pages` page files (the pages repeated as hard
   links) against a tenth as many: flat memory means streaming works.
4. Training: the model card's fitting times; with `--train`, `winnow train --preset default` is run
   and its wall time and peak RSS measured.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from threadpoolctl import threadpool_limits

WINNOW = [sys.executable, "-m", "winnow"]


def load_pages(spec: str, limit: int | None) -> list:
    from winnow.train.datasets import iter_dataset

    pages = []
    for item in iter_dataset(spec):
        if item.page.kind == "html":
            pages.append(item.page)
        if limit and len(pages) >= limit:
            break
    return pages


def tools(model) -> dict[str, Callable[[list], object]]:
    """name -> function over all pages. A peer that is not installed is left out."""
    import re

    import lxml.html

    from winnow.predict.batch import CHUNK_PAGES, BatchOptions, process_chunk
    from winnow.predict.formats import formatter_for

    declaration = re.compile(r"^\s*<\?xml[^>]*>")
    formatter = formatter_for(model, "predict")

    def parse_only(pages):
        for page in pages:
            lxml.html.document_fromstring(declaration.sub("", page.text, count=1))

    def winnow(pages):
        for start in range(0, len(pages), CHUNK_PAGES):
            process_chunk(model, formatter, BatchOptions(page_seconds=0), pages[start:start + CHUNK_PAGES])

    found = {"lxml parse (floor)": parse_only, "winnow predict": winnow}
    try:
        import trafilatura

        found["trafilatura"] = lambda pages: [trafilatura.extract(page.text) for page in pages]
    except ImportError:
        print("trafilatura is not installed (pip install '.[peers]'): no baseline", file=sys.stderr)
    try:
        from resiliparse.extract.html2text import extract_plain_text

        found["resiliparse"] = lambda pages: [extract_plain_text(page.text, main_content=True) for page in pages]
    except ImportError:
        pass
    return found


def one_core(model, pages: list, rounds: int) -> list[dict[str, float]]:
    """Pages/s of each tool in each of `rounds` turns, one thread."""
    runs = tools(model)
    turns = []
    with threadpool_limits(1):
        for function in runs.values():
            function(pages[:3])  # warm-up: imports and caches
        for _ in range(rounds):
            turns.append({})
            for name, function in runs.items():
                gc.collect()
                started = time.perf_counter()
                function(pages)
                turns[-1][name] = len(pages) / (time.perf_counter() - started)
    return turns


def round_ratios(turns: list[dict[str, float]], name: str, baseline: str) -> str:
    """How far apart the rounds put two tools: the lowest, median and highest ratio of one round's rates."""
    ratios = sorted(turn[name] / turn[baseline] for turn in turns)
    return f"{ratios[0]:.2f}x / {ratios[len(ratios) // 2]:.2f}x / {ratios[-1]:.2f}x"


def stages(model, pages: list) -> dict[str, float]:
    """Seconds per stage of winnow over all pages, one thread, in the batch's chunks of pages."""
    from winnow.model import EARLY_STOP
    from winnow.predict.batch import CHUNK_PAGES
    from winnow.segment import blocks_table, segment_rows

    features, classifier = model.pipeline.named_steps["features"], model.pipeline.named_steps["classifier"]
    classifier = model._compiled_trees(classifier) or classifier  # as WinnowModel predicts
    spent = {"segment": 0.0, "features": 0.0, "classifier": 0.0, "blocks": 0}
    with threadpool_limits(1):
        for start in range(0, len(pages), CHUNK_PAGES):
            chunk = pages[start:start + CHUNK_PAGES]
            started = time.perf_counter()
            blocks = blocks_table(list(range(len(chunk))), [segment_rows(page)[0] for page in chunk])
            segmented = time.perf_counter()
            matrix = features.transform(blocks)
            featured = time.perf_counter()
            classifier.predict_proba(matrix, **EARLY_STOP)
            spent["classifier"] += time.perf_counter() - featured
            spent["features"] += featured - segmented
            spent["segment"] += segmented - started
            spent["blocks"] += len(blocks)
    return spent


def past_start_up(pages: int, seconds: float, fewer_pages: int, fewer_seconds: float) -> float | None:
    """Pages/s of a batch once it runs: the pages it took beyond a shorter batch, over the extra time
    (None where the two do not differ)."""
    if pages <= fewer_pages or seconds <= fewer_seconds:
        return None
    return (pages - fewer_pages) / (seconds - fewer_seconds)


def write_pages(pages: list, folder: Path, count: int) -> Path:
    """`count` page files in `folder`: the pages written once, then repeated as hard links."""
    folder.mkdir(parents=True, exist_ok=True)
    originals = []
    for n, page in enumerate(pages):
        path = folder / f"p{n:06d}.html"
        path.write_text(page.text, encoding="utf-8")
        originals.append(path)
    for n in range(len(pages), count):
        os.link(originals[n % len(originals)], folder / f"p{n:06d}.html")
    return folder


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def peak_rss(command: list[str]) -> float | None:
    """Peak RSS in MB of one command, as GNU time measures it (None without /usr/bin/time)."""
    if not Path("/usr/bin/time").exists():
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return None
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], check=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def _mb(value: float | None) -> str:
    return "unknown (no /usr/bin/time)" if value is None else f"{value:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="dragnet:test", help="dataset spec of the pages (default dragnet:test)")
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--model", help="winnow model file (default: the shipped one)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the one-core comparison; the best counts")
    parser.add_argument("--worker-pages", type=int, default=2_000, help="pages of the --jobs comparison")
    parser.add_argument("--memory-pages", type=int, default=10_000, help="pages of the memory run (0: skip it)")
    parser.add_argument("--train", action="store_true", help="also time `winnow train --preset default`")
    args = parser.parse_args(argv)

    from winnow.model import load_model

    model = load_model(args.model)
    pages = load_pages(args.data, args.limit)
    from winnow.compiled import unbuilt

    built = f"without {', '.join(unbuilt())}" if unbuilt() else "all compiled modules built"
    print(f"{len(pages)} pages of {args.data}; {os.cpu_count()} cores; best of {args.rounds} rounds; {built}\n")

    turns = one_core(model, pages, args.rounds)
    speeds = {name: max(turn[name] for turn in turns) for name in turns[0]}
    baseline, floor = speeds.get("trafilatura"), speeds["lxml parse (floor)"]
    print(f"{'one core':<22}{'pages/s':>10}{'vs trafilatura':>16}{'vs lxml parse':>15}")
    for name, rate in sorted(speeds.items(), key=lambda item: -item[1]):
        versus = f"{rate / baseline:.2f}x" if baseline else ""
        print(f"{name:<22}{rate:>10.1f}{versus:>16}{rate / floor:>14.2f}x")
    # The best rounds of two tools may be different rounds: how far the rounds' own ratios spread shows the noise.
    if baseline:
        print(f"winnow / trafilatura within each round (lowest / median / highest): "
              f"{round_ratios(turns, 'winnow predict', 'trafilatura')}")
    print(f"winnow / lxml parse within each round: {round_ratios(turns, 'winnow predict', 'lxml parse (floor)')}")
    parts = stages(model, pages)
    total = parts["segment"] + parts["features"] + parts["classifier"]
    print(f"\nwinnow stages over {parts['blocks']:,} blocks: " + ", ".join(
        f"{name} {parts[name]:.2f} s ({parts[name] / total:.0%})" for name in ("segment", "features", "classifier")))

    model_args = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as scratch:
        count = max(args.worker_pages, len(pages))
        folder = write_pages(pages, Path(scratch) / "pages", count)
        print(f"\nend to end, `winnow predict DIR -o FILE --jobs N` over {count:,} pages (reading files, writing "
              f"JSON Lines):")
        # The same command over the pages once more shows what the workers' start-up costs a batch.
        few = write_pages(pages, Path(scratch) / "few", len(pages))
        rates, steady = {}, {}
        for jobs in sorted({1, os.cpu_count() or 1}):
            walls = [wall_seconds([*WINNOW, "predict", str(pages_in), "-q", "-o", str(Path(scratch) / "out.jsonl"),
                                   "--jobs", str(jobs), *model_args]) for pages_in in (folder, few)]
            rates[jobs] = count / walls[0]
            steady[jobs] = past_start_up(count, walls[0], len(pages), walls[1])
            beyond = (f"; {steady[jobs]:.1f} pages/s past the start-up, {steady[jobs] / steady[1]:.2f}x"
                      if steady[jobs] and steady[1] else "")
            print(f"  --jobs {jobs}: {rates[jobs]:.1f} pages/s ({walls[0]:.1f} s with start-up), "
                  f"{rates[jobs] / rates[1]:.2f}x --jobs 1{beyond}")

        if args.memory_pages:
            print("\npeak memory of `winnow predict DIR -o FILE --jobs 1`:")
            for count in (args.memory_pages // 10, args.memory_pages):
                many = write_pages(pages, Path(scratch) / f"many{count}", count)
                rss = peak_rss([*WINNOW, "predict", str(many), "-q", "-o", str(Path(scratch) / "many.jsonl"),
                                "--jobs", "1", *model_args])
                print(f"  {count:>7,} pages: {_mb(rss)}")

    card = model.card
    print(f"\ntraining (model card): HTML model {card.get('training_seconds', '?')} s, text model "
          f"{(card.get('text_model') or {}).get('training_seconds', '?')} s of fitting")
    if args.train:
        with tempfile.TemporaryDirectory() as scratch:
            command = [*WINNOW, "train", "--preset", "default", "-o", str(Path(scratch) / "m.joblib")]
            started = time.perf_counter()
            rss = peak_rss(command)
            print(f"`winnow train --preset default`: {time.perf_counter() - started:.0f} s wall, peak {_mb(rss)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
