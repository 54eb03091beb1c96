"""Shared test set-up: xlwings' Office.js runtime (xlwings Server / Lite) as the add-in drives it."""
import asyncio
import json
import os
import shutil

# Before xlwings is first imported: its Office.js machinery under the free noncommercial
# key, for these tests only (commercial Server deployments need their own license).
os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
import xlwings  # noqa: E402
from xlwings.server import custom_functions_call  # noqa: E402

import udfs  # noqa: E402

settings.register_profile("thorough", max_examples=5000)  # pytest --hypothesis-profile=thorough

# LibreOffice prints PDF quotes; poppler's pdfinfo and pdftotext read them in the tests. A fresh
# machine may have neither: their tests skip there, saying what to install; CI (.ci/run)
# installs both and sets XLFUNCS_REQUIRE_PDF, which makes those tests run (and fail) regardless.
PDF_TOOLS = ("soffice", "pdfinfo", "pdftotext")
MISSING_PDF_TOOLS = [tool for tool in PDF_TOOLS if not shutil.which(tool)]
needs_pdf_tools = pytest.mark.skipif(
    bool(MISSING_PDF_TOOLS) and not os.environ.get("XLFUNCS_REQUIRE_PDF"),
    reason=f"needs {', '.join(MISSING_PDF_TOOLS)}: install LibreOffice and poppler "
           "(sudo apt-get install libreoffice-calc poppler-utils)")

NOTE_TERMS = [100.0, 3.0, 0.10, 0.23, 0.10]  # initial, participation, buffer, max_return, min_payment
SEED_WARRANT = [5907.55, 0.95, 0.75]  # initial, upper_strike, lower_strike


def cell_payload(arg):
    """One argument as the add-in sends it: a 2-D list, or null when omitted."""
    if arg is None or (isinstance(arg, list) and arg and isinstance(arg[0], list)):
        return arg
    if isinstance(arg, list):
        return [arg]
    return [[arg]]


def officejs(func_name, *args):
    """Call an Excel function through xlwings' Office.js entry point; the answer must be strict JSON."""
    data = {"func_name": func_name, "args": [cell_payload(a) for a in args],
            "version": xlwings.__version__, "client": "Office.js", "runtime": "1.4",
            "caller_address": "Sheet1!B2", "culture_info_name": "en-US", "date_format": "M/d/yyyy"}
    result = asyncio.run(custom_functions_call(data, udfs))
    json.dumps(result, allow_nan=False)
    return result


@pytest.fixture
def excel():
    return officejs


@pytest.fixture
def finer_grid(monkeypatch):
    """Call it to give the exact lookback engine a grid twice as fine with wider tails (10
    sigmas), its caches cleared; the grid and the caches are restored after the test."""
    from xlfuncs import lookback, valuation

    def clear():
        lookback.half_line_weights.cache_clear()
        valuation.exact_value.cache_clear()

    def switch():
        monkeypatch.setattr(lookback, "POINTS_PER_STDEV", 2 * lookback.POINTS_PER_STDEV)
        monkeypatch.setattr(lookback, "TAILS", 10.0)
        clear()
    yield switch
    clear()


def printed(text):
    """A number as the supplement prints it ('$1,150.00', '-5.000%', '92.272'): its value and half its last digit."""
    digits = text.replace("$", "").replace(",", "")
    is_percent = digits.endswith("%")
    digits = digits.rstrip("%")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value, half_digit = float(digits), 0.5 * 10.0 ** -decimals
    if is_percent:
        value, half_digit = value / 100, half_digit / 100
    return value, half_digit


def assert_printed(value, text):
    """`value` rounds to the supplement's printed `text`; N/A is a blank cell."""
    if text == "N/A":
        assert value in ("", None), f"expected a blank for N/A, got {value!r}"
        return
    expected, half_digit = printed(text)
    assert abs(value - expected) <= half_digit * (1 + 1e-9), f"{value!r} does not print as {text}"
