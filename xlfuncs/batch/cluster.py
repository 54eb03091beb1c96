"""Partitions of a run on a Dask distributed cluster (`--dask ADDRESS`, or `local` for a
LocalCluster here): what `xlfuncs quote` and `xlfuncs book` share when a list outgrows one machine.

A run opens one client, sends what every partition needs once to every worker (scatter), submits
one task per partition (never one per deal) and hands each result back as it arrives. The
workers import the same xlfuncs (install it with its [dask] extra on every machine); a run that
writes files from its workers (quotes) needs its output folder on storage they all see.
"""
from __future__ import annotations

import os


class ClusterError(RuntimeError):
    """The cluster cannot be used (Dask missing, an address that does not answer)."""


class Cluster:
    """A Dask client on `address`, or on a LocalCluster of `workers` processes for "local"."""

    def __init__(self, address: str, workers: int):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ClusterError("--dask needs Dask distributed: python3 -m pip install 'xlfuncs[dask]'") from None
        self.address, self.local = address, None
        try:
            if address == "local":
                self.local = LocalCluster(n_workers=max(1, min(workers, os.cpu_count() or 1)), threads_per_worker=1,
                                          processes=True, dashboard_address=None)
            self.client = Client(self.local or address, timeout="30s")
        except (OSError, TimeoutError, ValueError) as error:
            if self.local is not None:
                self.local.close()
            raise ClusterError(f"--dask {address}: the cluster cannot be reached: {error}") from None

    def run(self, task, parts: list, shared, keep, check=lambda: None) -> None:
        """task(part, shared) for every part on the cluster, `shared` sent once to each worker;
        keep(number, result) as each finishes; `check()` between waits may raise to stop the run
        (the tasks not finished are cancelled)."""
        from dask.distributed import wait
        on_workers = self.client.scatter(shared, broadcast=True)
        futures = {self.client.submit(task, part, on_workers, pure=False): number for number, part in enumerate(parts)}
        pending = set(futures)
        try:
            while pending:
                check()
                try:
                    done = wait(pending, timeout=0.2, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    continue
                for future in done:
                    keep(futures[future], future.result())
                pending -= done
        finally:
            self.client.cancel(list(pending))

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()
