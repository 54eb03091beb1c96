"""Batch client quotes: a deal list in, one client workbook per deal out, frozen to values.

`xlfuncs quote DEALS --out DIR` reads deals (CSV, YAML or JSON), fills the product's template
with each deal's terms and market inputs, computes its Quote sheet with the formulas engine
(our Excel functions, so exactly what the live template would show) and writes that sheet,
frozen to values and with its payout chart, to DIR/<deal_id>.xlsx. Values, standard errors,
greeks and breakevens come from xlfuncs. A bad deal is reported with its row and reason and
every good deal is still produced. Every file is written to a temporary file in DIR and
renamed, and an unchanged deal whose workbook is up to date is skipped, so a run that was
killed can simply be run again.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, unescape

import yaml
from openpyxl import load_workbook
from tqdm import tqdm

from . import xlsx
from .engine import Calculation
from .excel import serial
from .market import Market
from .montecarlo import DEFAULT_SEED, MonteCarlo
from .payments import note_breakeven, warrant_breakeven
from .templates import NOTE_FILE, WARRANT_FILE
from .fields import TermError, finite
from .terms import BufferNote, PutWarrant
from .valuation import (LookbackSchedule, checked_spread, note_greeks, note_value, observed_lookback,
                        warrant_greeks, warrant_value)

IDENTITY = ("deal_id", "client", "product")
MARKET = ("spot", "as_of", "vol", "rate", "div_yield", "paths", "seed")
TERMS = {
    "note": ("initial", "participation", "buffer", "max_return", "min_payment", "principal", "final_date",
             "payment_date", "funding_spread"),
    "warrant": ("initial", "upper_strike", "lower_strike", "premium", "notional", "window_start", "window_end",
                "expiration", "settlement", "closes"),
}
KNOWN = (*IDENTITY, *MARKET, *TERMS["note"], *(c for c in TERMS["warrant"] if c not in TERMS["note"]))
OPTIONAL = {"principal", "notional", "closes", "paths", "seed"}
DATES = {"as_of", "final_date", "payment_date", "window_start", "window_end", "expiration", "settlement"}
TEMPLATES = {"note": NOTE_FILE, "warrant": WARRANT_FILE}
SUMMARY = "summary.csv"
SUMMARY_COLUMNS = ("row", "deal_id", "client", "product", "status", "value", "delta", "gamma", "vega",
                   "theta", "rho", "breakeven", "output", "message")
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}


class DealError(ValueError):
    """A deal that cannot be quoted; the message says why."""


class DealListError(ValueError):
    """A deal list or template that cannot be used at all."""


@dataclass(frozen=True)
class Deal:
    row: int
    deal_id: str
    client: str
    product: str
    terms: tuple  # sorted (column, value) pairs

    @property
    def values(self) -> dict:
        return dict(self.terms)

    @property
    def output_name(self) -> str:
        """A file name from the deal id: letters, digits, '.', '_' and '-' only."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", self.deal_id).strip("._-")
        if not stem:
            raise DealError("deal_id must contain a letter or digit to name the output file")
        return f"{stem}_.xlsx" if stem.upper() in WINDOWS_RESERVED else f"{stem}.xlsx"


# Reading and checking the deal list

def read_records(path: Path) -> list[tuple[int, dict]]:
    """(row, record) pairs: CSV rows numbered as in a spreadsheet (header is row 1), YAML or
    JSON records from 1. A CSV column nobody knows is an error for the whole list."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                unknown = [c for c in reader.fieldnames or [] if c not in KNOWN]
                if unknown:
                    raise DealListError(f"{path}: unknown column {', '.join(map(repr, unknown))}; "
                                        f"the columns are {', '.join(KNOWN)}")
                return [(number, record) for number, record in enumerate(reader, start=2)]
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            text = path.read_text(encoding="utf-8")
            records = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise DealListError(f"{path}: must hold a list of deals, each a mapping of column to value")
            return list(enumerate(records, start=1))
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError, yaml.YAMLError) as error:
        raise DealListError(f"{path}: cannot be read: {error}") from None
    raise DealListError(f"{path}: the deal list must be a .csv, .yaml, .yml or .json file")


def cell_text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def to_number(name: str, value) -> float:
    if isinstance(value, str):
        try:
            value = float(value.replace(",", ""))
        except ValueError:
            raise DealError(f"{name} must be a number, got {value!r}") from None
    try:
        return finite(name, value)
    except TermError as error:
        raise DealError(str(error)) from None


def to_date(name: str, value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DealError(f"{name} must be an ISO date like 2025-05-28, got {value!r}") from None


def to_closes(value) -> tuple:
    entries = value if isinstance(value, list) else str(value).split(";")
    return tuple(None if cell_text(entry) is None else to_number(f"closes entry {i}", entry)
                 for i, entry in enumerate(entries, start=1))


def parse_deal(row: int, record: dict) -> Deal:
    """A checked deal, or a DealError naming the first thing wrong with it."""
    unknown = [key for key in record if key not in KNOWN]
    if unknown:
        raise DealError(f"unknown column {unknown[0]!r}")
    deal_id, client, product = (cell_text(record.get(key)) for key in IDENTITY)
    for key, value in zip(IDENTITY, (deal_id, client, product)):
        if value is None:
            raise DealError(f"{key} is required")
    if product.lower() not in TERMS:
        raise DealError(f"product must be note or warrant, got {product!r}")
    product = product.lower()
    allowed = (*MARKET, *TERMS[product])
    for key in KNOWN:
        if key not in IDENTITY and key not in allowed and cell_text(record.get(key)) is not None:
            raise DealError(f"{key} is not a term of a {product}")
    values = {}
    for key in allowed:
        raw = record.get(key)
        if cell_text(raw) is None and not isinstance(raw, list):
            if key in OPTIONAL:
                continue
            raise DealError(f"{key} is required for a {product}")
        values[key] = (to_date(key, raw) if key in DATES else to_closes(raw) if key == "closes"
                       else to_number(key, raw))
    deal = Deal(row, deal_id, client, product, tuple(sorted(values.items())))
    deal.output_name  # noqa: B018  (a deal id that names no file is an error too)
    try:
        objects(deal)  # terms, dates, market and simulation settings checked by the objects that use them
    except TermError as error:
        raise DealError(str(error)) from None
    return deal


def read_deals(path: Path) -> tuple[list[Deal], list[dict]]:
    """Good deals, and a failure record for every bad row (duplicate ids fail on every row)."""
    deals, failures = [], []
    for row, record in read_records(path):
        try:
            deals.append(parse_deal(row, record))
        except DealError as error:
            failures.append(failure(row, record, str(error)))
    by_file: dict[str, list[Deal]] = {}
    for deal in deals:
        by_file.setdefault(deal.output_name.lower(), []).append(deal)
    for same in (group for group in by_file.values() if len(group) > 1):
        rows = ", ".join(str(deal.row) for deal in same)
        for deal in same:
            reason = ("duplicate deal_id" if len({d.deal_id for d in same}) == 1
                      else "deal_id names the same output file as another deal")
            failures.append({**record_of(deal), "status": "failed", "message": f"{reason} (rows {rows})"})
    bad = {record["row"] for record in failures}
    return [deal for deal in deals if deal.row not in bad], sorted(failures, key=lambda r: r["row"])


def failure(row: int, record: dict, message: str) -> dict:
    return {"row": row, **{key: cell_text(record.get(key)) or "" for key in IDENTITY},
            "status": "failed", "message": message}


# Valuation of one deal

def objects(deal: Deal) -> dict:
    """The deal as xlfuncs objects (every constructor checks its inputs)."""
    v = deal.values
    market = Market(v["spot"], v["as_of"], v["vol"], v["rate"], v["div_yield"])
    MonteCarlo(v.get("paths"), v.get("seed", DEFAULT_SEED))  # checked: they fill the template's Monte Carlo check
    if deal.product == "note":
        note = BufferNote(v["initial"], v["participation"], v["buffer"], v["max_return"], v["min_payment"],
                          v.get("principal", 1000.0))
        return dict(note=note, market=market, dates=(v["final_date"], v["payment_date"]),
                    spread=checked_spread(v["funding_spread"]))
    warrant = PutWarrant(v["initial"], v["upper_strike"], v["lower_strike"], v.get("notional", 1000.0))
    schedule = LookbackSchedule(v["window_start"], v["window_end"], v["expiration"], v["settlement"])
    closes = v.get("closes", ())
    observed_lookback(warrant, market.as_of, schedule, closes)  # checked as given, before padding
    closes = closes + (None,) * (len(schedule.window_days) - len(closes))  # as the Lookback sheet holds them
    return dict(warrant=warrant, market=market, schedule=schedule, closes=closes,
                premium=v["premium"])


def analyse(deal: Deal) -> dict:
    """Estimated value (closed form or exact), greeks and breakeven of a deal."""
    o = objects(deal)
    if deal.product == "note":
        args = (o["note"], o["market"], *o["dates"], o["spread"])
        value, greeks = note_value(*args), note_greeks(*args)
        breakeven = note_breakeven(o["note"], o["note"].principal)
    else:
        args = (o["warrant"], o["market"], o["schedule"], o["closes"])
        value, greeks = warrant_value(*args), warrant_greeks(*args)
        lookback = observed_lookback(o["warrant"], o["market"].as_of, o["schedule"], o["closes"])
        breakeven = warrant_breakeven(o["warrant"], lookback, o["premium"])
    return dict(value=value, breakeven=breakeven,
                **dict(zip(("delta", "gamma", "vega", "theta", "rho"), map(float, greeks))))


# Writing client workbooks

def code_digest() -> str:
    """A digest of this package's source: a quote made by other code is not up to date."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def fingerprint(deal: Deal, template_digest: str, code: str) -> str:
    data = json.dumps([deal.deal_id, deal.client, deal.product, deal.terms, template_digest, code],
                      default=str, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def stored_quote(path: Path) -> tuple[str | None, dict]:
    """The fingerprint and summary numbers stored in a client workbook, if it has them."""
    try:
        with zipfile.ZipFile(path) as package:
            core = package.read("docProps/core.xml").decode()
    except (OSError, KeyError, ValueError):
        return None, {}
    found = re.search(r"<dc:identifier>xlfuncs:([0-9a-f]{64})</dc:identifier>", core)
    numbers = re.search(r"<dc:description>(.*?)</dc:description>", core, flags=re.S)
    try:
        return (found[1] if found else None), (json.loads(unescape(numbers[1])) if numbers else {})
    except json.JSONDecodeError:
        return None, {}


class QuoteBook:
    """One product's template, loaded once per process: its engine model, names and the frozen
    one-sheet Quote workbook that each deal's values are written into."""

    def __init__(self, template: Path):
        self.template = Path(template)
        self.calculation = Calculation(self.template)
        wb = load_workbook(self.template)
        self.names = {name: [(sheet, ref.replace("$", "")) for sheet, ref in defined.destinations]
                      for name, defined in wb.defined_names.items()}
        with tempfile.TemporaryDirectory() as folder:
            skeleton = Path(folder) / "quote.xlsx"
            xlsx.frozen_sheet(self.template, "Quote", skeleton, plain=True)
            with zipfile.ZipFile(skeleton) as package:
                self.parts = {name: package.read(name) for name in package.namelist()}
                self.quote_part = xlsx.sheet_parts(package)["Quote"]

    def inputs(self, deal: Deal) -> dict:
        """The template's input cells set to the deal's terms, market inputs and client."""
        changes = {}
        for column, value in [*deal.terms, ("client", deal.client)]:
            name = "LookbackCloses" if column == "closes" else "".join(p.capitalize() for p in column.split("_"))
            cells = [(sheet, cell) for sheet, ref in self.names[name] for cell in xlsx.range_cells(ref)]
            values = list(value) if column == "closes" else [value]
            if len(values) > len(cells):
                raise DealError(f"{column} has {len(values)} entries but the template has room for {len(cells)}")
            for cell, item in zip(cells, values + [None] * (len(cells) - len(values))):
                changes[cell] = excel_value(item)
        return changes

    def write(self, deal: Deal, target: Path, summary: dict, stamp: str) -> None:
        values = self.calculation.calculate(self.inputs(deal), sheets=["Quote"])
        quote = {ref: value for (sheet, ref), value in values.items() if sheet == "QUOTE"}
        errors = sorted(ref for ref, value in quote.items() if isinstance(value, xlsx.ErrorValue))
        if errors:
            raise DealError(f"the quote computes {quote[errors[0]]} in cell {errors[0]}")
        parts = dict(self.parts)
        parts[self.quote_part] = xlsx.with_values(parts[self.quote_part], quote)
        description = escape(json.dumps(summary))
        parts["docProps/core.xml"] = parts["docProps/core.xml"].replace(
            b"</cp:coreProperties>",
            f"<dc:identifier>xlfuncs:{stamp}</dc:identifier><dc:description>{description}</dc:description>"
            f"</cp:coreProperties>".encode())
        xlsx.write_atomically(target, lambda handle: xlsx.write_package(handle, parts))


def excel_value(value):
    """A deal value as a cell holds it: dates as serials, text as text."""
    return serial(value) if isinstance(value, dt.date) else value


# The run

def check_template(path: Path) -> None:
    """A template is read with defused XML and must have a Quote sheet; else a DealListError
    saying why (the first cause, such as an XML entity defusedxml forbids)."""
    try:
        sheets = load_workbook(path, read_only=True).sheetnames
    except Exception as error:  # openpyxl wraps the cause; report the first one
        cause = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        raise DealListError(f"{path}: cannot be read safely: {type(cause).__name__}: {cause}") from None
    if "Quote" not in sheets:
        raise DealListError(f"{path}: a template needs a Quote sheet")


WORKER: dict = {}


def start_worker(templates: dict[str, str]) -> None:
    WORKER.clear()
    WORKER["templates"] = templates


def quote_one(deal: Deal, target: str, stamp: str) -> dict:
    """Write one deal's client workbook; returns its summary record."""
    books = WORKER.setdefault("books", {})
    try:
        if deal.product not in books:
            books[deal.product] = QuoteBook(WORKER["templates"][deal.product])
        summary = analyse(deal)
        books[deal.product].write(deal, Path(target), summary, stamp)
        return {**record_of(deal), "status": "written", **summary, "output": Path(target).name, "message": ""}
    except (DealError, TermError) as error:
        return {**record_of(deal), "status": "failed", "message": str(error)}


def record_of(deal: Deal) -> dict:
    return {"row": deal.row, "deal_id": deal.deal_id, "client": deal.client, "product": deal.product}


def safe_text(value):
    """Text that a spreadsheet opening the summary must not take for a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_summary(folder: Path, records: list[dict]) -> Path:
    path = folder / SUMMARY

    def write(handle):
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for record in sorted(records, key=lambda r: r["row"]):
            writer.writerow({key: safe_text(record.get(key, "")) for key in SUMMARY_COLUMNS})
        text.flush()
        text.detach()

    xlsx.write_atomically(path, write)
    return path


def run(deals_path: Path, out: Path, jobs: int = 1, force: bool = False,
        templates: dict[str, Path] | None = None) -> tuple[list[dict], Path]:
    """Quote every deal of `deals_path` into `out`; returns the summary records and the summary file."""
    root = Path(__file__).resolve().parent.parent / "workbooks"
    chosen = {product: Path((templates or {}).get(product, root / name)) for product, name in TEMPLATES.items()}
    for product, path in chosen.items():
        if not path.is_file():
            raise DealListError(f"{path}: no {product} template there")
    for path in chosen.values():
        check_template(path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.xlsx.*.tmp"):  # left by a run that was killed mid-write
        stale.unlink()
    deals, records = read_deals(deals_path)
    code = code_digest()
    digests = {product: hashlib.sha256(path.read_bytes()).hexdigest() for product, path in chosen.items()}
    todo = []
    for deal in deals:
        target = out / deal.output_name
        stamp = fingerprint(deal, digests[deal.product], code)
        stored, numbers = stored_quote(target) if target.exists() and not force else (None, {})
        if stored == stamp:
            records.append({**record_of(deal), "status": "skipped", **numbers, "output": target.name,
                            "message": "up to date"})
        else:
            todo.append((deal, str(target), stamp))
    bar = tqdm(total=len(todo), unit="deal", disable=None, file=sys.stderr)  # shown on a terminal only
    paths = {product: str(path) for product, path in chosen.items()}
    if jobs <= 1:
        start_worker(paths)
        for args in todo:
            records.append(quote_one(*args))
            bar.update()
    else:
        with ProcessPoolExecutor(jobs, initializer=start_worker, initargs=(paths,)) as pool:
            for future in as_completed([pool.submit(quote_one, *args) for args in todo]):
                records.append(future.result())
                bar.update()
    bar.close()
    return records, write_summary(out, records)


def main(deals: Path, out: Path, jobs: int, force: bool, templates: list[str]) -> int:
    started = time.perf_counter()
    try:
        chosen = {}
        for template in templates:
            product, given, path = template.partition("=")
            if not given or product not in TEMPLATES or not path:
                raise DealListError(f"--template takes note=PATH or warrant=PATH, got {template!r}")
            chosen[product] = Path(path)
        records, summary = run(deals, out, jobs, force, chosen)
    except (DealListError, TermError, OSError) as error:
        print(f"xlfuncs quote: {error}", file=sys.stderr)
        return 2
    counts = {status: sum(r["status"] == status for r in records) for status in ("written", "skipped", "failed")}
    for record in sorted((r for r in records if r["status"] == "failed"), key=lambda r: r["row"]):
        print(f"row {record['row']} ({record['deal_id'] or 'no deal_id'}): {record['message']}", file=sys.stderr)
    print(f"{len(records)} deals: {counts['written']} written, {counts['skipped']} up to date, "
          f"{counts['failed']} failed in {time.perf_counter() - started:.1f} s; summary in {summary}")
    return 1 if counts["failed"] else 0
