"""Deal lists: reading them, their columns (from the product descriptions) and each deal's
objects, built by the same code an Excel call uses (Contract.of, Market.of, MonteCarlo.of).

A deal list is CSV, YAML or JSON, one deal per row: deal_id, client, product (a product's
key) and that product's fields by name. A bad deal is reported with its row and reason.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
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
XML_CHARACTER = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # what XML 1.0 can hold
MAX_CELL_TEXT = 32767
MAX_NAME = 120  # output file names stay far below every file system's limit, temporary names included
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
    def stem(self) -> str:
        return file_stem(self.deal_id)

    def objects(self):
        """The deal's contract, market and simulation settings (each checks its inputs)."""
        values = self.values
        return BY_KEY[self.product].contract.of(values), Market.of(values), MonteCarlo.of(values)


def file_stem(deal_id: str) -> str:
    """The name of a deal's files without extension, from its id: letters, digits, '.', '_'
    and '-' only, short enough for any file system, never a Windows device name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", deal_id).strip("._-")
    if not stem:
        raise DealError("deal_id must contain a letter or digit to name the output file")
    if len(stem) > MAX_NAME:
        raise DealError(f"deal_id must name a file of at most {MAX_NAME} characters, got {len(stem)} "
                        f"({stem[:20]}...)")
    return f"{stem}_" if stem.upper() in WINDOWS_RESERVED else stem


def read_records(path: Path, notes: list | None = None) -> list[tuple[int, dict]]:
    """(line, record) pairs: CSV records numbered by the file line they start on (the header is
    line 1), YAML records by their line, JSON records from 1. Blank CSV rows are skipped. Every
    value is text (or a list, or None), so each is converted as a cell of its field. Remarks on
    how the file was read (an encoding other than UTF-8) are appended to `notes`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml", ".json"):
        raise DealListError(f"{path}: the deal list must be a .csv, .yaml, .yml or .json file")
    try:
        text = decoded(path.read_bytes(), path, notes if notes is not None else [])
        if suffix == ".csv":
            return csv_records(text, path)
        if suffix == ".json":
            records = json.loads(text, parse_int=str, parse_float=str, parse_constant=str,  # ids stay text
                                 object_pairs_hook=mapping)
            lines = range(1, len(records) + 1) if isinstance(records, list) else []
        else:
            loader = TextLoader(text)
            try:
                node = loader.get_single_node()
                records = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
            lines = [item.start_mark.line + 1 for item in node.value] if isinstance(records, list) else []
    except (OSError, csv.Error, json.JSONDecodeError, yaml.YAMLError, RecursionError) as error:
        raise DealListError(f"{path}: cannot be read: {error}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DealListError(f"{path}: must hold a list of deals, each a mapping of column to value")
    return [(line, mapping(record.items())) for line, record in zip(lines, records)]


def mapping(pairs) -> dict:
    """A record's columns by name (without case or surrounding spaces); a name given twice is
    that deal's error (UNNAMED), never one value silently winning."""
    record = {}
    for key, value in pairs:
        name = str(key).strip().lower()
        if name in record:
            record[UNNAMED] = f"column {name!r} is given more than once"
        record[name] = value
    return record


def decoded(data: bytes, path: Path, notes: list) -> str:
    """A deal list's text: UTF-8 (with or without a byte order mark) or UTF-16 with its mark,
    else Windows-1252 (as Excel saves "CSV" on Windows), with a note saying so."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise DealListError(f"{path}: is neither UTF-8 nor Windows-1252 text ({error}); save it as "
                            f"CSV UTF-8") from None
    notes.append(f"{path}: not UTF-8; read as Windows-1252 (save as CSV UTF-8 to be sure of accented text)")
    return text


DELIMITERS = (",", ";", "\t")


def csv_records(text: str, path: Path) -> list[tuple[int, dict]]:
    """The records of a CSV text whose delimiter is the one (comma, semicolon or tab) that splits
    its header into known columns. With semicolons, numbers may have decimal commas."""
    first, *rest = re.split(r"\r\n|\r|\n", text, maxsplit=1)
    hint = re.fullmatch(r"\s*sep=(.)\s*", first)  # Excel's "sep=;" first line
    if hint:
        text = rest[0] if rest else ""
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = hint[1] if hint else max(DELIMITERS, key=lambda d: sum(
        c.strip().lower() in KNOWN for c in next(csv.reader([header_line], delimiter=d))))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, records, line, offset = None, [], 1, 1 if hint else 0
    for values in reader:
        start, line = line + offset, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue  # a blank row, as spreadsheets save them (",,,,") or an empty line
        if header is None:
            header = [value.strip().lower() for value in values]
            unknown = [c for c in header if c and c not in KNOWN]
            if unknown:
                raise DealListError(f"{path}: unknown column {', '.join(map(repr, unknown))}; "
                                    f"the columns are {', '.join(KNOWN)}")
            repeated = sorted({c for c in header if c and header.count(c) > 1})
            if repeated:
                raise DealListError(f"{path}: column {', '.join(map(repr, repeated))} appears more than once")
            continue
        record = {}
        for number, value in enumerate(values):
            column = header[number] if number < len(header) else ""
            if column:
                record[column] = value if delimiter != ";" else DecimalComma(value)
            elif value.strip():
                record[UNNAMED] = f"column {number + 1} has no header but holds {value.strip()!r}"
        records.append((start, record))
    if header is None:
        raise DealListError(f"{path}: has no header row (deal_id, client, product, ...)")
    return records


UNNAMED = "\x00unnamed"  # a record's marker for a value under no header (reported as that deal's error)


class DecimalComma(str):
    """A value from a semicolon-separated list, where a comma may be the decimal separator."""


class TextLoader(yaml.SafeLoader):
    """YAML with every scalar kept as text (0123 stays "0123", 2025-05-28 is converted as a
    cell) except null, as a CSV cell is; no aliases (a deal list needs none, and nested ones
    expand without bound); a key given twice is that deal's error."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name, <<: *name) are not allowed in a deal list",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        return mapping((self.construct_object(key, deep=deep), self.construct_object(value, deep=deep))
                       for key, value in node.value)


TextLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def cell_text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


MAX_VALUE = 100  # characters of a number or date cell: more is no number, and not repeated in messages
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # as a spreadsheet writes one: no separators
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+([eE][+-]?[0-9]+)?")
GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")  # 1,234 or 1.234: a thousands group or a decimal?
SEPARATED = re.compile(r"[+-]?[0-9][0-9.,' ]*[0-9]")


def cell(field: Field, value):
    """A deal-list value as the cell Excel would pass: text holding a number becomes the number
    and an ISO date (2025-05-28) the date; other text stays text (and is refused as Excel refuses
    it). In a semicolon-separated list a decimal comma is read ("4550,58"), and a value that
    could be a thousands group or a decimal ("1,234", "1.234") is refused, never guessed."""
    if isinstance(value, (list, dict)):
        raise DealError(f"{field.name} must be one value, got a {type(value).__name__}")
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) > MAX_VALUE:
        raise DealError(f"{field.name} must be a number or a date, got {len(text):,} characters")
    if field.unit == "date" and ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    if isinstance(value, DecimalComma) and GROUPED.fullmatch(text):
        raise DealError(f"{field.name} {text!r} is ambiguous in a semicolon-separated list: a thousands separator "
                        f"or a decimal comma? Write it without thousands separators and with one decimal "
                        f"separator, e.g. {text.replace(',', '').replace('.', '')} or "
                        f"{text.replace(',', '.')} (or {text.replace('.', ',')})")
    if NUMBER.fullmatch(text):
        return float(text)
    if isinstance(value, DecimalComma) and DECIMAL_COMMA.fullmatch(text):
        return float(text.replace(",", "."))
    if field.unit == "date":
        raise DealError(f"{field.name} must be an ISO date like 2025-05-28, got {value!r}")
    if field.unit != "text" and SEPARATED.fullmatch(text):
        raise DealError(f"{field.name} must be a plain number, without thousands separators and with a decimal "
                        f"point (a decimal comma only in a semicolon-separated list), got {text!r}")
    return text


def converted(field: Field, value):
    """A deal value converted as an Excel cell of that field is (excel.converted): a date, a
    number held to its rule, or a list ('a;b;;c', a blank a skipped day; a list in YAML or JSON)."""
    if field.shape == "list":
        entries = value if isinstance(value, list) else [type(value)(entry) for entry in str(value).split(";")]
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
    if UNNAMED in record:
        raise DealError(record[UNNAMED])
    unknown = [key for key in record if key not in KNOWN]
    if unknown:
        raise DealError(f"unknown column {unknown[0]!r}")
    for name in IDENTITY:
        if isinstance(record.get(name), (list, dict)):
            raise DealError(f"{name} must be one value, got a {type(record[name]).__name__}")
    deal_id, client, key = (cell_text(record.get(name)) for name in IDENTITY)
    for name, value in zip(IDENTITY, (deal_id, client, key)):
        if value is None:
            raise DealError(f"{name} is required")
    for name, text in (("deal_id", deal_id), ("client", client)):
        bad = next((char for char in text if not XML_CHARACTER.fullmatch(char)), None)
        if bad is not None:
            raise DealError(f"{name} holds the character U+{ord(bad):04X}, which a workbook cannot hold; remove it")
    if len(client) > MAX_CELL_TEXT:
        raise DealError(f"client must be at most {MAX_CELL_TEXT} characters (an Excel cell's limit), "
                        f"got {len(client)}")
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
    file_stem(deal_id)  # a deal id that names no file is an error too
    try:
        deal.objects()  # terms, dates, market and simulation settings checked by the objects that use them
    except TermError as error:
        raise DealError(str(error)) from None
    return deal


def read_deals(path: Path, notes: list | None = None) -> tuple[list[Deal], list[dict]]:
    """Good deals, and a failure record for every bad row. Rows whose ids name the same file,
    good or bad, all fail: no row's quote may stand for another's."""
    deals, failures = [], []
    for row, record in read_records(path, notes):
        try:
            deals.append(parse_deal(row, record))
        except DealError as error:
            failures.append(failure(row, record, str(error)))
    by_file: dict[str, list[dict]] = {}
    for record in [*map(record_of, deals), *failures]:
        try:
            record["stem"] = file_stem(record["deal_id"])
        except DealError:
            continue
        by_file.setdefault(record["stem"].lower(), []).append(record)
    for same in (group for group in by_file.values() if len(group) > 1):
        rows = ", ".join(str(record["row"]) for record in sorted(same, key=lambda r: r["row"]))
        reason = ("duplicate deal_id" if len({record["deal_id"] for record in same}) == 1
                  else "deal_id names the same output file as another deal")
        for record in same:
            record.update(status="failed", message=f"{reason} (rows {rows})")
    failed = {record["row"]: record for group in by_file.values() if len(group) > 1 for record in group}
    failed.update({record["row"]: record for record in failures})
    return [deal for deal in deals if deal.row not in failed], sorted(failed.values(), key=lambda r: r["row"])


def failure(row: int, record: dict, message: str) -> dict:
    return {"row": row, **{key: cell_text(record.get(key)) or "" for key in IDENTITY},
            "status": "failed", "message": message}


def record_of(deal: Deal) -> dict:
    return {"row": deal.row, "deal_id": deal.deal_id, "client": deal.client, "product": deal.product,
            "stem": deal.stem}
