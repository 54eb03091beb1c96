"""Curves and a volatility surface: reading a snapshot's ranges, NOTE_VALUE per Excel call with
them against the flat inputs (ratio measured in the same run), and the supplements' deals valued
on the bundled hypothetical snapshots (workbooks/market/) against their flat inputs."""
import datetime as dt
import json
import os
import platform
import time
import timeit
from pathlib import Path

import numpy as np

import udfs
from xlfuncs.batch.snapshot import read_snapshot
from xlfuncs.core import cells, market
from xlfuncs.products import lookback_warrant

EPOCH = dt.date(1899, 12, 30)
SNAPSHOTS = Path(__file__).resolve().parent.parent / "workbooks" / "market"


def serial(day: str) -> int:
    return (dt.date.fromisoformat(day) - EPOCH).days


def ranges(name: str) -> dict:
    """A snapshot's ranges as Excel hands them over: dates as serials, one list per row."""
    snapshot = json.loads((SNAPSHOTS / f"{name}.json").read_text())
    as_cells = [[serial(cell) if isinstance(cell, str) else cell for cell in row]
                for row in snapshot["vol"]]
    curve = lambda rows: [[serial(day), zero] for day, zero in rows]  # noqa: E731
    return dict(spot=snapshot["spot"], as_of=serial(snapshot["as_of"]), vol=as_cells, rate=curve(snapshot["rate"]),
                div_yield=curve(snapshot["div_yield"]))


def per_call(func, args, calls=5000):
    return min(timeit.repeat(lambda: func(*args), number=calls, repeat=5)) / calls


def main():
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    start = time.perf_counter()
    read_snapshot(SNAPSHOTS / "2023-11-29.json")
    print(f"reading the 2023-11-29 snapshot file (every cell to its rule, the market built and checked for "
          f"arbitrage): {(time.perf_counter() - start) * 1e3:.0f} ms")
    cells.quotes_of.cache_clear()
    market.market_data.cache_clear()
    note_market = ranges("2023-11-29")
    terms = [serial("2024-12-02"), serial("2024-12-05")]
    flat_note = [4550.58, serial("2023-11-29"), *terms, 0.15, 0.053, 0.015, 0.01, 4550.58, 3.0, 0.10, 0.23, 0.10]
    surface_note = [note_market["spot"], note_market["as_of"], *terms, note_market["vol"], note_market["rate"],
                    note_market["div_yield"], *flat_note[7:]]
    grid = note_market["vol"]
    start = time.perf_counter()
    udfs.NOTE_VALUE(*surface_note)
    first = time.perf_counter() - start
    print(f"first call with the snapshot (a {len(grid) - 1} x {len(grid[0]) - 1} surface and two curves read and "
          f"checked for arbitrage): {first * 1e3:.0f} ms")
    flat, surfaced = per_call(udfs.NOTE_VALUE, flat_note), per_call(udfs.NOTE_VALUE, surface_note)
    print(f"NOTE_VALUE per Excel call: flat {flat * 1e6:.1f} us, surface and curves {surfaced * 1e6:.1f} us "
          f"({surfaced / flat:.2f}x flat); the range cache holds {cells.quotes_of.cache_info().currsize} readings")
    [[flat_value]], [[surface_value]] = udfs.NOTE_VALUE(*flat_note), udfs.NOTE_VALUE(*surface_note)
    print(f"Bearish Buffer Securities on 2023-11-29: flat (15%, 5.3%, 1.5%) {flat_value:.4f}, on the snapshot "
          f"{surface_value:.4f} ({surface_value / flat_value - 1:+.2%})")

    warrant_market = ranges("2025-05-28")
    terms = [5907.55, 0.95, 0.75, serial("2025-05-21"), serial("2025-06-20"), serial("2025-10-10"),
             serial("2025-10-17")]
    closes = [[5907.55]] * 5
    flat_warrant = [5907.55, serial("2025-05-28"), *terms, 0.167, 0.043, 0.013, closes]
    surface_warrant = [warrant_market["spot"], warrant_market["as_of"], *terms, warrant_market["vol"],
                       warrant_market["rate"], warrant_market["div_yield"], closes]
    [[exact]] = udfs.WARRANT_VALUE(*flat_warrant)

    def uncached(function, *args):
        """One call with every engine cache emptied (a cell recomputed after an edit); its seconds."""
        lookback_warrant.engine_value.cache_clear()
        lookback_warrant.warrant_mc_value.cache_clear()
        start = time.perf_counter()
        [result] = function(*args)
        return result, time.perf_counter() - start

    [flat_again], flat_seconds = uncached(udfs.WARRANT_VALUE, *flat_warrant)
    [local], local_seconds = uncached(udfs.WARRANT_VALUE, *surface_warrant)
    print(f"Bearish Put Warrants on 2025-05-28: flat (16.7%, 4.3%, 1.3%) {exact:.4f} (exact engine, "
          f"{flat_seconds * 1e3:.1f} ms); under the snapshot's smile {local:.4f} ({local / exact - 1:+.1%}; local-vol "
          f"finite differences, {local_seconds * 1e3:.0f} ms, {local_seconds / flat_seconds:.0f}x the flat engine)")
    greeks, greeks_seconds = uncached(udfs.WARRANT_GREEKS, *surface_warrant)
    print(f"WARRANT_GREEKS under the smile: {', '.join(f'{g:.6g}' for g in greeks)} in {greeks_seconds:.2f} s")
    (value, stderr), seconds = uncached(udfs.WARRANT_MC_VALUE, *surface_warrant)
    print(f"WARRANT_MC_VALUE under the smile (local-vol Euler paths, default paths): {value:.4f} +/- {stderr:.4f} in "
          f"{seconds:.1f} s; the finite differences are {(local - value) / stderr:+.2f} standard errors from it")
    [shift], seconds = uncached(udfs.WARRANT_SURFACE_SHIFT, 22.80, *surface_warrant)
    print(f"WARRANT_SURFACE_SHIFT of the disclosed $22.80 against the snapshot's surface: {shift * 100:+.4f} vol "
          f"points in {seconds:.1f} s")
    [shift], seconds = uncached(udfs.WARRANT_SURFACE_SHIFT, 22.80, *flat_warrant)
    print(f"... against the flat 16.7%: {shift * 100:+.4f} vol points in {seconds:.2f} s")

if __name__ == "__main__":
    main()
