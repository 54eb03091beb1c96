"""Valuing a book's deals in partitions: in this process, in local worker processes (--jobs), or on
a Dask distributed cluster (--dask ADDRESS, or `local` for a LocalCluster here).

Deals are cut into partitions of about PARTITION positions, in order; the context (the
snapshots and the closes history) goes to each worker once; each partition's marks come back
and are written as a file in the run's staging folder, then read back in partition order. A
deal's marks depend on nothing but its terms and the context, so every way of running gives the
same digits.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..batch.cluster import Cluster
from .marks import Context, mark_deals

PARTITION = 1000  # positions a partition holds, about
WORKER: dict = {}


def partitions(weights: list[int], size: int = PARTITION) -> list[range]:
    """Consecutive deals holding about `size` positions each (`weights`: positions per deal)."""
    parts, start, held = [], 0, 0
    for index, weight in enumerate(weights):
        held += weight
        if held >= size:
            parts.append(range(start, index + 1))
            start, held = index + 1, 0
    if start < len(weights):
        parts.append(range(start, len(weights)))
    return parts


def start_worker(context: Context) -> None:
    WORKER["context"] = context


def mark_part(deals: list[tuple]) -> list[dict]:
    return mark_deals(deals, WORKER["context"])


def mark_all(deals: list[tuple], weights: list[int], context: Context, staging: Path, jobs: int = 1,
             cluster: Cluster | None = None) -> list[dict]:
    """Every deal's marks, in order, its partitions' results gathered as files in `staging`. A
    book too small to give each worker four partitions of PARTITION positions is cut finer."""
    workers = max(1, jobs)
    size = max(1, min(PARTITION, -(-sum(weights) // (4 * workers))))
    parts = [[deals[i] for i in part] for part in partitions(weights, size)]
    files = [staging / f"part-{number:05d}.json" for number in range(len(parts))]

    def keep(number: int, marks: list[dict]) -> None:
        files[number].write_text(json.dumps(marks), encoding="utf-8")

    if cluster is not None:
        cluster.run(mark_deals, parts, context, keep)
    elif jobs > 1 and len(parts) > 1:
        with ProcessPoolExecutor(min(jobs, os.cpu_count() or 1, len(parts)), initializer=start_worker,
                                 initargs=(context,)) as pool:
            for number, marks in enumerate(pool.map(mark_part, parts)):
                keep(number, marks)
    else:
        for number, part in enumerate(parts):
            keep(number, mark_deals(part, context))
    return [mark for path in files for mark in json.loads(path.read_text(encoding="utf-8"))]
