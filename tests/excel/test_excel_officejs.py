"""Office.js runtimes (xlwings Lite / Server, Excel on Mac and the web): the metadata the add-in registers."""
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from xlwings.server import custom_functions_meta

import udfs
from xlfuncs.excel import functions as excel

from helpers import SIGNATURES


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


PROBES = """
import importlib.util, json, sys
def outcome(probe):
    try:
        return repr(probe())
    except Exception as error:
        return type(error).__name__
print(json.dumps([outcome(lambda: importlib.util.find_spec("pyodide")),
                  outcome(lambda: importlib.util.find_spec("pyodide.ffi")),
                  outcome(lambda: __import__("pyodide.ffi")), "pyodide.ffi" in sys.modules]))
"""


def test_outside_pyodide_other_libraries_see_pyodide_missing_as_before():
    """Was: after `import udfs`, find_spec("pyodide.ffi") raised ValueError (a stand-in module
    without a spec), breaking any library in the process that probes for Pyodide. Now every
    probe answers as in a process without udfs: pyodide is simply not installed."""
    def probes(first):
        result = subprocess.run([sys.executable, "-c", first + PROBES], capture_output=True, text=True,
                                cwd=Path(udfs.__file__).parent)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert probes("import udfs\n") == probes("") == ["None", "ModuleNotFoundError", "ModuleNotFoundError", False]


def test_xlwings_pyodide_probe_searches_nothing_and_cells_are_not_probed(monkeypatch, excel):
    """xlwings' Office.js code tries `from pyodide.ffi import JsNull` per argument (and, with its
    own conversion, per cell): each failed import used to search the whole import path. Now no
    finder is asked, and cells are converted by udfs.py without xlwings' per-cell probe."""
    import xlwings.utils

    asked = []

    class Recorder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            asked.append(name)
            return None

    monkeypatch.setattr(sys, "meta_path", [Recorder, *sys.meta_path])
    with pytest.raises(ModuleNotFoundError):
        from pyodide.ffi import JsNull  # noqa: F401
    assert asked == []
    probed = []
    monkeypatch.setattr(xlwings.utils, "is_jsnull", lambda value: probed.append(value) or False)
    assert excel("NOTE_PAYMENT", [[95.0], [None], [""]], 100.0, 3.0, 0.1, 0.23, 0.1) == [[1150.0], [""], [""]]
    assert probed == []
