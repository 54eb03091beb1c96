"""The parent's peak memory in `xlfuncs quote` against the length of the deal list: 1,000 deals
and 100,000 (variations of the bundled deals, half notes, half warrants), each with --jobs 2.
The list and the summary are streamed, so the target is a peak at 100,000 deals of at most 1.5x
the peak at 1,000. Prints each run's time and the parent's own peak (its workers not counted).
The 100,000-deal run quotes every deal: about a quarter of an hour on 2 cores.
Usage: python3 benchmarks/batch_memory.py [DEALS ...]   (default: 1000 100000)"""
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_quotes import deal_list

# The command line in a process that reports its own peak resident memory (not its children's).
PARENT = ("import resource, sys; from xlfuncs.cli import main; code = main(sys.argv[1:]); "
          "print('parent peak kB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")


def parent_peak(deals: int, folder: Path) -> tuple[float, float, str]:
    """Seconds, the parent's peak memory in MB, and the run's last line, for a list of `deals`."""
    path = folder / f"deals-{deals}.csv"
    deal_list(path, deals)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", PARENT, "quote", str(path), "--out", str(folder / f"out-{deals}"),
                          "--jobs", "2"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = run.stdout.strip().splitlines()
    peak = next(int(line.split()[-1]) for line in lines if line.startswith("parent peak kB")) / 1024
    return seconds, peak, next(line for line in lines if " deals: " in line)


def main():
    sizes = [int(arg) for arg in sys.argv[1:]] or [1000, 100_000]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    peaks = {}
    with tempfile.TemporaryDirectory() as folder:
        for deals in sizes:
            seconds, peaks[deals], summary = parent_peak(deals, Path(folder))
            print(f"{deals:>7,} deals, --jobs 2: {seconds:7.1f} s, parent's peak memory {peaks[deals]:6.1f} MB  "
                  f"({summary.split(';')[0]})")
    low, high = min(sizes), max(sizes)
    if low != high:
        print(f"peak at {high:,} / peak at {low:,}: {peaks[high] / peaks[low]:.2f} (target: at most 1.5)")


if __name__ == "__main__":
    main()
