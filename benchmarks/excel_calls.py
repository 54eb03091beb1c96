"""Excel calls through xlwings' Office.js entry point (`custom_functions_call`, what xlwings Lite
and xlwings Server run per call) with the add-in's payload, each against a baseline measured
in the same run:

- a 100,000-cell NOTE_TABLE and BULL_NOTE_TABLE (400,000 cells back): udfs.py's raw arguments and
  results against the same functions registered with xlwings' own per-cell converters (ndim=2,
  err_to_str; what udfs.py did before); target: every call within 2 s;
- NOTE_PAYMENT on a 1,000-cell range in one call against 1,000 single-cell calls, directly and
  through Office.js;
- outside Pyodide, xlwings tries `from pyodide.ffi import JsNull` for every argument: with
  udfs.py's marker (pyodide missing, None in sys.modules) against no marker (an import-path search each time).
Prints the best of several repeats."""
import asyncio
import functools
import inspect
import os
import platform
import sys
import timeit
import types

os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import numpy as np  # noqa: E402
import xlwings as xw  # noqa: E402
from xlwings.server import custom_functions_call  # noqa: E402

import udfs  # noqa: E402
from xlfuncs.excel import functions as excel  # noqa: E402

CELLS, BIG = 1000, 100_000
TERMS = [[[100.0]], [[3.0]], [[0.10]], [[0.23]], [[0.10]], None]
finals = [[float(x)] for x in np.linspace(0.0, 250.0, CELLS)]
big_finals = [[float(x)] for x in np.linspace(0.0, 250.0, BIG)]
loop = asyncio.new_event_loop()  # a server's long-lived event loop


def per_cell_converters(func):
    """`func` registered as udfs.py did before: xlwings converting every argument cell (ndim=2,
    err_to_str) and every result cell."""
    @functools.wraps(func)
    def call(*args):
        return func(*args)

    for name in inspect.signature(func).parameters:
        call = xw.arg(name, ndim=2, err_to_str=True)(call)
    return xw.func(call)


BEFORE = types.SimpleNamespace(**{name: per_cell_converters(getattr(excel, name))
                                  for name in ("NOTE_TABLE", "BULL_NOTE_TABLE")})


def officejs(func_name, args, module=udfs):
    data = {"func_name": func_name, "args": args, "version": xw.__version__, "client": "Office.js", "runtime": "1.4"}
    return loop.run_until_complete(custom_functions_call(data, module))


def best(stmt, repeat=5):
    return min(timeit.repeat(stmt, number=1, repeat=repeat))


def main():
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}, xlwings {xw.__version__}")
    for name in ("NOTE_TABLE", "BULL_NOTE_TABLE"):
        args = [big_finals, *TERMS[:-1], None, None]
        after = best(lambda: officejs(name, args), 3)
        before = best(lambda: officejs(name, args, BEFORE), 3)
        direct = best(lambda: getattr(excel, name)(big_finals, *TERMS[:-1]), 3)
        print(f"{name} on {BIG:,} cells through Office.js: {after:.2f} s (before, xlwings' per-cell converters: "
              f"{before:.2f} s; {before / after:.1f}x); the function alone {direct:.2f} s")
    direct_range = best(lambda: udfs.NOTE_PAYMENT(finals, *TERMS[:-1]))
    direct_cells = best(lambda: [udfs.NOTE_PAYMENT([cell], *TERMS[:-1]) for cell in finals])
    server_range = best(lambda: officejs("NOTE_PAYMENT", [finals, *TERMS]))
    server_cells = best(lambda: [officejs("NOTE_PAYMENT", [[cell], *TERMS]) for cell in finals], 3)
    marker = sys.modules.pop("pyodide")  # before: every argument's import searches the path
    probed_cells = best(lambda: [officejs("NOTE_PAYMENT", [[cell], *TERMS]) for cell in finals], 3)
    sys.modules["pyodide"] = marker
    for label, one, many in [("udfs.NOTE_PAYMENT called directly", direct_range, direct_cells),
                             ("Office.js custom_functions_call", server_range, server_cells)]:
        print(f"{label}: one call on a {CELLS}-cell range {one * 1e3:.1f} ms, {CELLS} single-cell calls "
              f"{many * 1e3:.0f} ms ({many / CELLS * 1e6:.0f} us per call; the range is {many / one:.0f}x faster)")
    print(f"{CELLS} single-cell Office.js calls without udfs.py's pyodide marker: {probed_cells * 1e3:.0f} ms "
          f"({probed_cells / server_cells:.1f}x the time with it)")


if __name__ == "__main__":
    main()
