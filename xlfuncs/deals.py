"""Deal lists: reading them, their columns (from the product descriptions) and each deal's
objects, built by the same code an Excel call uses (Contract.of, Market.of, MonteCarlo.of).

A deal list is CSV, YAML or JSON, one deal per row: deal_id, client, product (a product's
key) and that product's fields by name. A bad deal is reported with its row and reason.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from . import excel
from .fields import Field, TermError
from .market import Market
from .montecarlo import MonteCarlo
from .products import BY_KEY, PRODUCTS

IDENTITY = ("deal_id", "client", "product")
KNOWN = tuple(dict.fromkeys([*IDENTITY, *(name for product in PRODUCTS for name in product.deal_fields)]))
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

    def objects(self):
        """The deal's contract, market and simulation settings (each checks its inputs)."""
        values = self.values
        return BY_KEY[self.product].contract.of(values), Market.of(values), MonteCarlo.of(values)


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


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # as a spreadsheet writes one: no separators


def cell(field: Field, value):
    """A deal-list value as the cell Excel would pass: text holding a number becomes the number
    and an ISO date (2025-05-28) the date; other text stays text (and is refused as Excel refuses
    it: "4550,58" is not a number). YAML and JSON numbers and dates stay as they are."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if field.unit == "date" and ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    if NUMBER.fullmatch(text):
        return float(text)
    if field.unit == "date":
        raise DealError(f"{field.name} must be an ISO date like 2025-05-28, got {value!r}")
    return text


def converted(field: Field, value):
    """A deal value converted as an Excel cell of that field is (excel.converted): a date, a
    number held to its rule, or a list ('a;b;;c', a blank a skipped day; a list in YAML or JSON)."""
    if field.shape == "list":
        entries = value if isinstance(value, list) else str(value).split(";")
        if not entries:  # an empty list in YAML or JSON: no closes yet
            return ()
        value = [[None if cell_text(entry) is None else cell(field, entry)] for entry in entries]
    else:
        value = cell(field, value)
    try:
        result = excel.converted(field, value)
    except TermError as error:
        raise DealError(str(error)) from None
    if field.shape == "list":
        return tuple(None if np.isnan(entry) else float(entry) for entry in result)
    return result


def parse_deal(row: int, record: dict) -> Deal:
    """A checked deal, or a DealError naming the first thing wrong with it."""
    unknown = [key for key in record if key not in KNOWN]
    if unknown:
        raise DealError(f"unknown column {unknown[0]!r}")
    deal_id, client, key = (cell_text(record.get(name)) for name in IDENTITY)
    for name, value in zip(IDENTITY, (deal_id, client, key)):
        if value is None:
            raise DealError(f"{name} is required")
    product = BY_KEY.get(key.lower())
    if product is None:
        keys = [product.key for product in PRODUCTS]
        raise DealError(f"product must be {', '.join(keys[:-1])} or {keys[-1]}, got {key!r}")
    fields = product.deal_fields
    for name in KNOWN:
        if name not in IDENTITY and name not in fields and cell_text(record.get(name)) is not None:
            raise DealError(f"{name} is not a term of a {product.key}")
    values = {}
    for name, field in fields.items():
        raw = record.get(name)
        if cell_text(raw) is None and not isinstance(raw, list):
            if not field.required:
                continue
            raise DealError(f"{name} is required for a {product.key}")
        values[name] = converted(field, raw)
    deal = Deal(row, deal_id, client, product.key, tuple(sorted(values.items())))
    deal.output_name  # noqa: B018  (a deal id that names no file is an error too)
    try:
        deal.objects()  # terms, dates, market and simulation settings checked by the objects that use them
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


def record_of(deal: Deal) -> dict:
    return {"row": deal.row, "deal_id": deal.deal_id, "client": deal.client, "product": deal.product}
