"""Office.js runtimes (xlwings Lite / Server, Excel on Mac and the web): the metadata the add-in registers."""
import inspect
import json

from xlwings.server import custom_functions_meta

import udfs
from xlfuncs import excel
from test_excel_classic import SIGNATURES


def test_metadata_registers_every_function_with_its_help():
    meta = custom_functions_meta(udfs)
    json.dumps(meta, allow_nan=False)
    functions = {f["name"]: f for f in meta["functions"]}
    assert set(functions) == set(SIGNATURES)
    for name, spec in functions.items():
        func = getattr(udfs, name)
        assert spec["id"] == name
        assert spec["description"] == func.__doc__
        assert spec["result"] == {"dimensionality": "matrix", "type": "any"}
        params = inspect.signature(func).parameters
        assert [p["name"] for p in spec["parameters"]] == list(params)
        for p in spec["parameters"]:
            assert p["description"] == getattr(excel, name).fields[p["name"]].help
            assert p["dimensionality"] == "matrix"
            has_default = params[p["name"]].default is not inspect.Parameter.empty
            assert p.get("optional", False) == has_default
    assert [p["name"] for p in functions["NOTE_PAYMENT"]["parameters"] if p.get("optional")] == ["principal"]
    assert [p["name"] for p in functions["WARRANT_TABLE"]["parameters"] if p.get("optional")] == ["notional", "columns"]


def test_errors_do_not_allow_retries():
    """xlwings Server answers an XlwingsError with 400, which the add-in does not retry."""
    import xlwings
    assert issubclass(udfs.ExcelInputError, xlwings.XlwingsError)


def test_the_pyodide_stand_in_answers_xlwings_probe_and_nothing_else():
    """udfs.py gives xlwings' per-cell `from pyodide.ffi import JsNull` an answer outside Pyodide
    (benchmarks/payment_range_vs_cells.py: 5x faster 1,000-cell calls); no `pyodide` package
    appears, so nothing takes the process for Pyodide."""
    import importlib.util
    import sys

    from pyodide.ffi import JsNull
    assert sys.platform != "emscripten" and "pyodide" not in sys.modules
    assert importlib.util.find_spec("pyodide") is None
    assert not isinstance(None, JsNull)
