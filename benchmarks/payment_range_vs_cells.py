"""NOTE_PAYMENT on a 1,000-cell range in one call versus 1,000 single-cell calls.

Measured twice: calling the xlwings function directly (our conversion and math only), and
through xlwings' Office.js entry point `custom_functions_call` with the add-in's payload
(what xlwings Lite / Server run per call). Prints the best of several repeats.
Outside Pyodide, xlwings' Office.js engine retries `from pyodide.ffi import JsNull` for
every argument cell; udfs.py installs a stand-in module so that import succeeds at once. The
Office.js figures are measured with the stand-in and, in the same run, without it (before).
"""
import sys
import asyncio
import os
import platform
import timeit

os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import numpy as np  # noqa: E402
import xlwings  # noqa: E402
from xlwings.server import custom_functions_call  # noqa: E402

import udfs  # noqa: E402

CELLS = 1000
TERMS = [[[100.0]], [[3.0]], [[0.10]], [[0.23]], [[0.10]], None]
finals = [[float(x)] for x in np.linspace(0.0, 250.0, CELLS)]


loop = asyncio.new_event_loop()  # a server's long-lived event loop


def officejs(func_name, args):
    data = {"func_name": func_name, "args": args, "version": xlwings.__version__,
            "client": "Office.js", "runtime": "1.4"}
    return loop.run_until_complete(custom_functions_call(data, udfs))


def best(stmt, repeat=7):
    return min(timeit.repeat(stmt, number=1, repeat=repeat))


def main():
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}, xlwings {xlwings.__version__}")
    direct_range = best(lambda: udfs.NOTE_PAYMENT(finals, *TERMS[:-1]))
    direct_cells = best(lambda: [udfs.NOTE_PAYMENT([cell], *TERMS[:-1]) for cell in finals])
    server_range = best(lambda: officejs("NOTE_PAYMENT", [finals, *TERMS]))
    server_cells = best(lambda: [officejs("NOTE_PAYMENT", [[cell], *TERMS]) for cell in finals], 3)
    stand_in = sys.modules.pop("pyodide.ffi")  # before: every cell's import fails
    probed_range = best(lambda: officejs("NOTE_PAYMENT", [finals, *TERMS]))
    probed_cells = best(lambda: [officejs("NOTE_PAYMENT", [[cell], *TERMS]) for cell in finals], 3)
    sys.modules["pyodide.ffi"] = stand_in
    for label, one, many in [("udfs.NOTE_PAYMENT called directly", direct_range, direct_cells),
                             ("Office.js custom_functions_call", server_range, server_cells),
                             ("Office.js, without the pyodide.ffi stand-in", probed_range, probed_cells)]:
        print(f"{label}:")
        print(f"  one call on a {CELLS}-cell range: {one * 1e3:8.3f} ms")
        print(f"  {CELLS} single-cell calls:      {many * 1e3:8.3f} ms "
              f"({many / CELLS * 1e6:.1f} us per call)")
        print(f"  the range is {many / one:.0f}x faster")


if __name__ == "__main__":
    main()
