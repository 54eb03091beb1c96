"""Client quote workbooks: a product's template filled with a deal, its Quote sheet computed
by the formulas engine (our Excel functions, so exactly what the live template would show)
and written frozen to values with its payout chart; and the run's summary.csv. Every file is
written to a temporary file beside its place and renamed.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, unescape

from openpyxl import load_workbook

from . import xlsx
from .deals import Deal, DealError
from .engine import Calculation
from .excel import serial
from .layout import CLIENT
from .products import BY_KEY

SUMMARY = "summary.csv"
SUMMARY_COLUMNS = ("row", "deal_id", "client", "product", "status", "value", "delta", "gamma", "vega",
                   "theta", "rho", "breakeven", "output", "message")


def code_digest() -> str:
    """A digest of this package's source: a quote made by other code is not up to date."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.rglob("*.py")):
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
        fields = BY_KEY[deal.product].deal_fields
        for column, value in [*deal.terms, ("client", deal.client)]:
            name = fields[column].defined_name if column in fields else CLIENT
            cells = [(sheet, cell) for sheet, ref in self.names[name] for cell in xlsx.range_cells(ref)]
            values = list(value) if isinstance(value, tuple) else [value]
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
