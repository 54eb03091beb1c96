"""What the tests share to run the product as its users do: the checkout's paths, the batch's
command line and deal lists, a template's defined names and computed Quote sheet, processes,
PDF tools, and the Office.js call path (xlwings Server / Lite)."""
import asyncio
import csv
import datetime as dt
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings
from xlwings.server import custom_functions_call

import udfs
from xlfuncs.core import calendar
from xlfuncs.core.market import Market
from xlfuncs.engines import lookback
from xlfuncs.excel import functions as excel
from xlfuncs.products import PRODUCTS
from xlfuncs.products.layout import CLIENT

ROOT = Path(__file__).resolve().parent.parent


EXAMPLES = ROOT / "examples" / "deals.csv"


HEADER = list(csv.DictReader(EXAMPLES.open()).fieldnames)


def cli(*args, **kwargs):
    return command("quote", *args, **kwargs)


def command(*args, **kwargs):
    """`python -m xlfuncs ARGS` run from the repository's folder (or `cwd`)."""
    return subprocess.run([sys.executable, "-m", "xlfuncs", *map(str, args)], capture_output=True, text=True,
                          **{"cwd": ROOT, **kwargs})


def example_rows():
    return list(csv.DictReader(EXAMPLES.open(newline="")))


def example(deal_id):
    """The example list's row of a deal."""
    return next(row for row in example_rows() if row["deal_id"] == deal_id)


def write_deals(path, rows):
    """A deal list: the example list's columns, then any other column a row has."""
    extra = [name for row in rows for name in row if name not in HEADER]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER + list(dict.fromkeys(extra)))
        writer.writeheader()
        writer.writerows(rows)
    return path


def summary(folder):
    return {row["deal_id"]: row for row in summary_rows(folder)}


def summary_rows(folder):
    """summary.csv's rows (UTF-8 with a byte order mark, so Excel reads accented names)."""
    with (folder / "summary.csv").open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def listing(folder):
    """The files a run leaves in its folder; besides them, only its lock file (hidden)."""
    names = sorted(p.name for p in folder.iterdir())
    assert [name for name in names if name.startswith(".")] == [".xlfuncs-quote.lock"]
    return [name for name in names if not name.startswith(".")]


NOTE_TEMPLATE = ROOT / "workbooks" / "bearish_buffer_note.xlsx"


def run_with(tmp_path, template, product="note", deal="N-101"):
    rows = [r for r in example_rows() if r["deal_id"] == deal]
    result = cli(write_deals(tmp_path / "deals.csv", rows), "--out", tmp_path / "out", "--template",
                 f"{product}={template}")
    assert "Traceback" not in result.stderr, result.stderr
    return result


def repacked(source, target, change):
    """A copy of the xlsx `source` with change(name, data) -> data (None drops) and extra parts."""
    with zipfile.ZipFile(source) as inner, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as outer:
        for name in inner.namelist():
            data = change(name, inner.read(name))
            if data is not None:
                outer.writestr(name, data)
        for name, data in change.extra.items() if hasattr(change, "extra") else ():
            outer.writestr(name, data)
    return target


def engine_values(engine, book, deal) -> dict:
    """The deal's Quote sheet cells as the formulas engine computes the template itself: the
    independent oracle of QuoteBook.values."""
    changes = {}
    for name, value in [*book.inputs(deal).items(), (CLIENT, deal.client)]:
        sheet, refs = book.sheet.names[name]
        flat = [cell for row in value for cell in row] if isinstance(value, list) else [value]
        changes.update({(sheet, ref): item for ref, item in zip(refs, flat)})
    computed = engine.calculate(changes, sheets=["Quote"])
    values = {ref: value for (sheet, ref), value in computed.items() if sheet == "QUOTE"}
    values.update({ref: value for (sheet, ref), value in changes.items() if sheet == "Quote"})
    return values


def running_children(pid):
    """The processes whose parent is `pid` (from /proc, so no procps needed)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0]
    return state != "Z"


def start_big_run(tmp_path, *extra):
    rows = [{**row, "deal_id": f"S-{n:03d}-{row['deal_id']}"} for n in range(40) for row in example_rows()]
    deals = write_deals(tmp_path / "deals.csv", rows)
    process = subprocess.Popen([sys.executable, "-m", "xlfuncs", "quote", str(deals), "--out", str(tmp_path / "out"),
                                "--jobs", "2", *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while len(list((tmp_path / "out").glob("*.xlsx"))) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    return process, rows


def names(path):
    """Workbook-level defined names: {name: [(sheet, A1), ...]} for every cell they cover."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for name, defined in wb.defined_names.items():
        for sheet, ref in defined.destinations:
            min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(ref.replace("$", ""))
            out[name] = [(sheet, f"{openpyxl.utils.get_column_letter(c)}{r}")
                         for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]
    return out


# LibreOffice prints PDF quotes; poppler's pdfinfo and pdftotext read them in the tests. A fresh
# machine may have neither: their tests skip there, saying what to install; CI (.ci/run)
# installs both and sets XLFUNCS_REQUIRE_PDF, which makes those tests run (and fail) regardless.
PDF_TOOLS = ("soffice", "pdfinfo", "pdftotext")


MISSING_PDF_TOOLS = [tool for tool in PDF_TOOLS if not shutil.which(tool)]


needs_pdf_tools = pytest.mark.skipif(
    bool(MISSING_PDF_TOOLS) and not os.environ.get("XLFUNCS_REQUIRE_PDF"),
    reason=f"needs {', '.join(MISSING_PDF_TOOLS)}: install LibreOffice and poppler "
           "(sudo apt-get install libreoffice-calc poppler-utils)")


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


# Excel calls: good arguments for every registered function, from the registry

EPOCH = dt.date(1899, 12, 30)


def serial(day):
    """An ISO date (or a date) as the Excel serial a cell holds."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return (day - EPOCH).days


FUNCTIONS = {func.__name__: func for func in excel.FUNCTIONS}
PRODUCT_OF = {function.name: product for product in PRODUCTS for function in product.functions}

# The supplements' states for the products the tests were written with (their product tests
# rely on them); any other product's functions get their template's example deal.
NOTE = dict(initial=4550.58, participation=3.0, buffer=0.1, max_return=0.23, min_payment=0.1, principal=1000.0)
NOTE_MARKET = dict(spot=4550.58, as_of=serial("2023-11-29"), final_date=serial("2024-12-02"),
                   payment_date=serial("2024-12-05"), vol=0.15, rate=0.053, div_yield=0.015, funding_spread=0.01)
WARRANT = dict(initial=5907.55, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728)
WARRANT_MARKET = dict(spot=5907.55, as_of=serial("2025-05-28"), window_start=serial("2025-05-21"),
                      window_end=serial("2025-06-20"), expiration=serial("2025-10-10"),
                      settlement=serial("2025-10-17"), vol=0.167, rate=0.043, div_yield=0.013,
                      closes=[[5907.55]] * 5)
SUPPLEMENT_STATES = {
    "note": {**NOTE, **NOTE_MARKET, "final": 4000.0, "finals": [[4000.0], [5000.0]], "price": 1100.0,
             "target_value": 965.0},
    "bullish_note": {**NOTE, **NOTE_MARKET, "final": 4000.0, "finals": [[4000.0], [5000.0]], "price": 1100.0,
                     "target_value": 965.0},
    "warrant": {**WARRANT, **WARRANT_MARKET, "final": 4000.0, "finals": [[4000.0], [5000.0]], "lookback": 6000.0,
                "price": 22.8}}
SETTINGS = {"paths": 2000, "seed": 1, "columns": None}
CALENDAR = {"first_day": serial("2025-05-21"), "last_day": serial("2025-06-20"), "holidays": None}


def closed_days(values: dict) -> int:
    """How many of the window's trading days have closed by as_of (cells as serials)."""
    day = lambda name: EPOCH + dt.timedelta(values[name])  # noqa: E731
    return len(calendar.trading_days(day("window_start"), min(day("as_of"), day("window_end"))))


def template_example(product) -> dict:
    """The inputs of the product's template (its example deal) as cells: dates as serials; the
    window's closes so far at the initial value (none before the window); final values and a
    lookback at and around it; a price and a target value at the deal's value."""
    by_name = {field.defined_name: field.name for field in product.fields.values()}
    values = {by_name[row.name]: serial(row.value) if isinstance(row.value, dt.date) else row.value
              for row in product.layout().rows() if row.entry and row.name in by_name}
    initial = values["initial"]
    values.update(SETTINGS, final=0.9 * initial, finals=[[0.9 * initial], [1.1 * initial]], lookback=initial)
    if "window_start" in values:
        values["closes"] = [[initial]] * closed_days(values) or None
    value = FUNCTIONS[f"{product.prefix}_VALUE"]
    values["price"] = values["target_value"] = value(*arguments(value.__name__, values).values())
    return values


def arguments(name, values: dict) -> dict:
    """The function's arguments from `values` by parameter name, in order; a function that needs
    closes (a lookback value) gets one at the initial value when there are none so far."""
    func = FUNCTIONS[name]
    args = {p: values[p] for p in inspect.signature(func).parameters}
    if args.get("closes", 0) is None and func.fields["closes"].required:
        args["closes"] = [[values["initial"]]]
    return args


def good_args(name):
    """Arguments the function answers with numbers, by parameter name, in order."""
    product = PRODUCT_OF.get(name)
    own = CALENDAR if product is None else {**SETTINGS, **(SUPPLEMENT_STATES.get(product.key)
                                                          or template_example(product))}
    return arguments(name, own)


def is_number(value):
    return isinstance(value, float) and math.isfinite(value)


def check_outcome(name, argument, call, errors=(udfs.ExcelInputError,)):
    """A clear error naming the argument, or finite numbers (a blank only where a table has N/A).
    A solver's errors may name what it solves for (its first argument) instead."""
    try:
        result = call()
    except errors as error:
        solver = name.endswith(("_IMPLIED_VOL", "_SURFACE_SHIFT")) or "_SOLVE_" in name
        solved_for = next(iter(good_args(name))) if solver else None
        named = argument in str(error) or (solved_for and str(error).startswith(solved_for))
        assert named, f"{name}({argument}=...): {error}"
        return
    cells = result if isinstance(result, list) else [[result]]
    values = [v for row in cells for v in row]
    if name == "TRADING_DAYS":
        assert values and all(isinstance(v, (dt.date, float, int)) or v.get("type") == "FormattedNumber"
                              for v in values)
        return
    blanks_allowed = name.endswith(("_TABLE", "_PAYMENT"))  # a blank scenario gives a blank row
    assert all(is_number(v) or (blanks_allowed and v in (None, "")) for v in values), (name, argument, result)
    assert any(is_number(v) for v in values) or blanks_allowed, (name, argument, result)


def vba_signature(func) -> str:
    """The VBA argument list xlwings should declare for a registered function: its fields in
    order, the optional ones marked Optional."""
    return ", ".join(("" if field.required else "Optional ") + name for name, field in func.fields.items())


SIGNATURES = {name: vba_signature(func) for name, func in FUNCTIONS.items()}


def lookback_engine(warrant, lookback_so_far, spot, times, t_expiry, t_settle, vol, rate, div_yield):
    """The exact lookback engine on a warrant's spread, a state and the window's remaining times."""
    market = Market(spot, EPOCH, vol, rate, div_yield)  # the engine reads times, not dates
    return lookback.exact_value(warrant.spread, lookback_so_far, market, times, t_expiry, t_settle)


def example_deal(product, deal_id: str) -> dict:
    """The product's template example as a deal list's row (the example list may have none)."""
    row = {"deal_id": deal_id, "client": "Template example", "product": product.key}
    example = template_example(product)
    for name, field in product.deal_fields.items():
        value = example.get(name)
        if field.unit == "date":
            value = (EPOCH + dt.timedelta(value)).isoformat()
        elif field.shape == "list":
            value = ";".join(str(cell) for [cell] in value or [])
        row[name] = "" if value is None else str(value)
    return row


# Market data as a desk types it: an S&P 500-like skew sampled from SSVI (Gatheral and Jacquier's
# surface, free of arbitrage for these parameters), as a grid range or as the SVI rows it is.

def ssvi_variance(k, t, atm_vol=0.16, variance_slope=0.02, eta=0.8, rho=-0.7):
    """Total implied variance of SSVI at log forward moneyness k and t years."""
    theta = (atm_vol ** 2 + variance_slope * t) * t
    phi = eta / math.sqrt(theta)
    return theta / 2 * (1 + rho * phi * k + ((phi * k + rho) ** 2 + 1 - rho ** 2) ** 0.5)


def surface_grid(spot, as_of, days=(30, 91, 182, 365, 730), moneyness=(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0,
                 1.05, 1.1, 1.2, 1.3, 1.5), rate=0.043, div_yield=0.013, **ssvi):
    """A vol range (top-left blank, strikes across, expiry dates down) sampled from SSVI with
    flat rate and dividend yield forwards; Python floats as Excel hands them over."""
    strikes = [round(spot * m, 2) for m in moneyness]
    rows = [[None, *strikes]]
    for day in days:
        t = day / 365
        forward = spot * math.exp((rate - div_yield) * t)
        rows.append([as_of + dt.timedelta(days=day),
                     *(math.sqrt(ssvi_variance(math.log(k / forward), t, **ssvi) / t) for k in strikes)])
    return rows


def svi_rows(as_of, days=(30, 91, 182, 365, 730), atm_vol=0.16, variance_slope=0.02, eta=0.8, rho=-0.7):
    """The same SSVI surface as raw SVI rows (SSVI is SVI with a = theta (1 - rho^2) / 2,
    b = theta phi / 2, m = -rho / phi, sigma = sqrt(1 - rho^2) / phi)."""
    rows = [["expiry", "a", "b", "rho", "m", "sigma"]]
    for day in days:
        t = day / 365
        theta = (atm_vol ** 2 + variance_slope * t) * t
        phi = eta / math.sqrt(theta)
        rows.append([as_of + dt.timedelta(days=day), theta * (1 - rho ** 2) / 2, theta * phi / 2, rho, -rho / phi,
                     math.sqrt(1 - rho ** 2) / phi])
    return rows
