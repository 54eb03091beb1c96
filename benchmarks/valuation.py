"""Valuation speed and memory: NOTE_VALUE per call; WARRANT_VALUE (time, error against a run on a
grid twice as fine with wider tails), WARRANT_GREEKS and WARRANT_IMPLIED_VOL on the exact engine,
and the default Monte Carlo against the exact value, for the warrant supplement's pricing-date case. Caches are cleared
before every timed run (values and scrambled Sobol engines), so each figure is a full
computation as on a first call."""
import datetime as dt
import os
import platform
import resource
import time
import timeit
import tracemalloc

import numpy as np

import udfs
from xlfuncs.core.market import Market
from xlfuncs.engines import lookback, montecarlo
from xlfuncs.excel import functions as excel
from xlfuncs.products import buffer_note, lookback_warrant
from xlfuncs.products.bearish_note import BearishBufferNote
from xlfuncs.products.put_warrant import PutWarrant

EPOCH = dt.date(1899, 12, 30)


def serial(day):
    return (dt.date.fromisoformat(day) - EPOCH).days


NOTE = [4550.58, serial("2023-11-29"), serial("2024-12-02"), serial("2024-12-05"), 0.15, 0.053, 0.015,
        0.01, 4550.58, 3.0, 0.10, 0.23, 0.10]
# Pricing date May 28 2025: spot at the initial value, the window's first five closes not above it.
WARRANT = [5907.55, serial("2025-05-28"), 5907.55, 0.95, 0.75, serial("2025-05-21"), serial("2025-06-20"),
           serial("2025-10-10"), serial("2025-10-17"), 0.167, 0.043, 0.013, [[5907.55]] * 5]


def cold(func, *args):
    """Seconds for one uncached call (best of 5) and its result."""
    best = float("inf")
    for _ in range(5):
        lookback_warrant.warrant_mc_value.cache_clear()
        lookback_warrant.engine_value.cache_clear()
        buffer_note.note_mc_value.cache_clear()
        montecarlo.scrambled_sobol.cache_clear()
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    given = excel.NOTE_VALUE.convert(*NOTE)
    note, market = BearishBufferNote.of(given), Market.of(given)
    calls = 20_000
    core = min(timeit.repeat(lambda: buffer_note.note_value(note, market), number=calls, repeat=5)) / calls
    cell = min(timeit.repeat(lambda: udfs.NOTE_VALUE(*NOTE), number=calls, repeat=5)) / calls
    print(f"NOTE_VALUE: {cell * 1e6:.1f} us per Excel call ({core * 1e6:.1f} us in buffer_note.note_value)")

    given = excel.WARRANT_VALUE.convert(*WARRANT)
    model = PutWarrant.of(given), Market.of(given)
    seconds, [[exact]] = cold(udfs.WARRANT_VALUE, *WARRANT)
    lookback.POINTS_PER_STDEV, lookback.TAILS = 2 * lookback.POINTS_PER_STDEV, 10.0
    lookback_warrant.engine_value.cache_clear()
    fine = lookback_warrant.engine_value(*model)
    lookback.POINTS_PER_STDEV, lookback.TAILS = lookback.POINTS_PER_STDEV / 2, 7.5
    print(f"WARRANT_VALUE: {exact:.8f} in {seconds * 1e3:.2f} ms; against a grid twice as fine with wider "
          f"tails: {abs(exact - fine):.1e}")
    mc_seconds, [[value, stderr]] = cold(udfs.WARRANT_MC_VALUE, *WARRANT)
    paths = lookback_warrant.warrant_mc_value(*model, montecarlo.MonteCarlo()).paths
    tracemalloc.start()
    lookback_warrant.warrant_mc_value.cache_clear()
    udfs.WARRANT_MC_VALUE(*WARRANT)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"WARRANT_MC_VALUE (default settings): value {value:.4f}, standard error {stderr:.4f}, {paths} paths, "
          f"{mc_seconds * 1e3:.1f} ms ({mc_seconds / seconds:.0f}x WARRANT_VALUE), peak allocations "
          f"{traced_peak / 2**20:.1f} MB; exact minus Monte Carlo {exact - value:+.4f} "
          f"({(exact - value) / stderr:+.1f} standard errors)")

    seconds, [greeks] = cold(udfs.WARRANT_GREEKS, *WARRANT)
    print("WARRANT_GREEKS: {:.0f} ms (delta {:.5f}, gamma {:.2e}, vega {:.4f}, theta {:.4f}, rho {:.4f})"
          .format(seconds * 1e3, *greeks))
    no_vol = WARRANT[:9] + WARRANT[10:]
    seconds, [[vol]] = cold(udfs.WARRANT_IMPLIED_VOL, 22.80, *no_vol)
    print(f"WARRANT_IMPLIED_VOL of the disclosed $22.80: {vol:.4%} in {seconds * 1e3:.0f} ms")
    print(f"process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
