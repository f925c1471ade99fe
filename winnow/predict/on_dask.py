"""The same batch on a Dask cluster: sources split into partitions, one output file per partition.

    from dask.distributed import Client
    from winnow import load_model
    from winnow.predict.on_dask import run_on_dask

    summary = run_on_dask(Client("tcp://scheduler:8786"), load_model(), ["/shared/crawl/*.warc.gz"], "out/")

The model is scattered to every worker once; each task reads its sources (from storage the workers
can see), classifies them in its worker and writes `out/part-NNNNN.jsonl` whole or not at all. The
parts, read in order, hold exactly what one local run writes. With `resume`, parts already written
are not done again.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from winnow.model import WinnowModel
from winnow.predict.batch import BatchOptions, BatchSummary, run
from winnow.predict.formats import Formatter, formatter_for
from winnow.predict.output import open_output
from winnow.predict.sources import is_archive

PAGES_PER_PARTITION = 256  # page files per task; each archive is a task of its own


def partition_sources(sources: list[str], size: int = PAGES_PER_PARTITION) -> list[list[str]]:
    """Consecutive page files in groups of `size`; every archive alone. Order is kept."""
    partitions: list[list[str]] = []
    for source in sources:
        if is_archive(source) or not partitions or len(partitions[-1]) >= size or is_archive(partitions[-1][0]):
            partitions.append([source])
        else:
            partitions[-1].append(source)
    return partitions


def run_partition(model: WinnowModel, formatter: Formatter, options: BatchOptions, sources: list[str],
                  path: str) -> BatchSummary:
    """One task: classify `sources` in this worker and write them to `path` (whole or not at all)."""
    with open_output(path) as out:
        return run(model, sources, formatter, out, replace(options, jobs=1, progress=False))


def run_on_dask(scheduler, model: WinnowModel, sources: list[str], output_dir: str, task: str = "predict",
                output_format: str = "json", options: BatchOptions = BatchOptions(), resume: bool = False,
                pages_per_partition: int = PAGES_PER_PARTITION) -> BatchSummary:
    """Run `task` ("predict" or "extract") over `sources` on a Dask cluster.

    scheduler: a dask.distributed Client, a scheduler address ("tcp://host:8786"), or "local" for a
    LocalCluster with one single-threaded worker process per core.
    """
    import time

    from dask.distributed import Client, LocalCluster

    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    owned = []  # what this call started, and so closes
    if isinstance(scheduler, Client):
        client = scheduler
    else:
        if scheduler == "local":
            scheduler = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True)
            owned.append(scheduler)
        client = Client(scheduler)
        owned.insert(0, client)
    try:
        # Once per worker, not once per task; a fresh key, as an earlier run's copy may be being released.
        model_on_workers = client.scatter(model, broadcast=True, hash=False)
        formatter = formatter_for(model, task, output_format)
        futures = []
        for number, part in enumerate(partition_sources(sources, pages_per_partition)):
            path = folder / f"part-{number:05d}.jsonl"
            if resume and path.exists():
                continue
            futures.append(client.submit(run_partition, model_on_workers, formatter, options, part, str(path),
                                         key=f"winnow-{task}-{folder.resolve()}-{number}", pure=False))
        summaries = client.gather(futures)
    finally:
        for thing in owned:
            thing.close()
    total = BatchSummary(seconds=time.perf_counter() - started)
    for summary in summaries:
        total.pages += summary.pages
        total.blocks += summary.blocks
        total.failures.extend(summary.failures)
        total.cut.extend(summary.cut)
    return total
