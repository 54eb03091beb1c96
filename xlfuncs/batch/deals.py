"""Deal lists: reading them, their columns (from the product descriptions) and each deal's
objects, built by the same code an Excel call uses (Contract.of, Market.of, the settings' of).

A deal list is CSV, YAML or JSON, one deal per row: deal_id, client, product (a product's
key) and that product's fields by name. A bad deal is reported with its row and reason.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import json
import re
import unicodedata
import zipfile
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import yaml
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ..core import cells
from ..core.fields import Field, TermError
from ..core.market import Market
from ..products import BY_KEY, PRODUCTS

IDENTITY = ("deal_id", "client", "product")
KNOWN = tuple(dict.fromkeys([*IDENTITY, *(name for product in PRODUCTS for name in product.deal_fields)]))
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # what XML 1.0 cannot hold
MAX_CELL_TEXT = 32767
MAX_LIST = 1000  # entries of a list (closes): a two-year lookback window has about 504 trading days
MAX_NAME = 120  # bytes of an output file's name: far below every file system's limit, temporary names included
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL",
                    *(f"{port}{i}" for port in ("COM", "LPT") for i in (*"123456789", "¹", "²", "³"))}


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
        """The deal's contract, market and valuation settings (None for a product without any);
        each checks its inputs."""
        values, product = self.values, BY_KEY[self.product]
        return product.contract.of(values), Market.of(values), product.settings and product.settings.of(values)


def file_stem(deal_id: str) -> str:
    """The name of a deal's files without extension, from its id: letters, digits and marks of
    any script, '.', '_' and '-' only (the id in Unicode's composed form, so one id names one file
    on every system), short enough for any file system, never a Windows device name."""
    composed = unicodedata.normalize("NFC", deal_id[:4 * MAX_NAME + 1])
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" or ch in "._-" else " " for ch in composed)
    stem = re.sub(r"\s+", "_", kept.strip()).strip("._-")
    if not stem:
        raise DealError("deal_id must contain a letter or digit to name the output file")
    if len(stem.encode()) > MAX_NAME:
        raise DealError(f"deal_id must name a file of at most {MAX_NAME} bytes in UTF-8, got "
                        f"{len(stem.encode())} ({stem[:20]}...)")
    device = stem.split(".")[0].upper()
    if device in WINDOWS_RESERVED:
        raise DealError(f"deal_id {deal_id!r} would name the file {stem}.xlsx, which names the Windows device "
                        f"{device}: choose another id")
    return stem


def same_file(stem: str) -> str:
    """A key two stems share when they name the same file on a case-insensitive file system."""
    return stem.casefold()


class DealList:
    """A deal list on disk: its format and text encoding found once, its records read as a
    stream (as often as a run needs), never all at once.

    Records are (line, record) pairs: CSV records numbered by the file line they start on (the
    header is line 1), YAML records by their line, JSON records from 1. Blank CSV rows are
    skipped. Every value is text (or a list, or None), so each is converted as a cell of its
    field. Remarks on how the file was read (an encoding other than UTF-8) go to `notes`."""

    def __init__(self, path: Path, notes: list | None = None, columns: tuple[str, ...] = KNOWN):
        self.path, self.columns = Path(path), columns
        self.suffix = self.path.suffix.lower()
        if self.suffix not in (".csv", ".yaml", ".yml", ".json", ".xlsx"):
            raise DealListError(f"{self.path}: the deal list must be a .csv, .xlsx, .yaml, .yml or .json file")
        try:
            self.encoding = None if self.suffix == ".xlsx" else text_encoding(self.path, notes if notes is not None
                                                                              else [])
        except OSError as error:
            raise DealListError(f"{self.path}: cannot be read: {error}") from None

    def records(self) -> Iterator[tuple[int, dict]]:
        try:
            if self.suffix == ".xlsx":
                yield from xlsx_records(self.path, self.columns)
                return
            with self.path.open(encoding=self.encoding, newline="") as handle:
                if self.suffix == ".csv":
                    yield from csv_records(handle, self.path, self.columns)
                elif self.suffix == ".json":
                    yield from json_records(handle, self.path)
                else:
                    yield from yaml_records(handle, self.path)
        except DealListError:
            raise
        except (OSError, UnicodeError, csv.Error, json.JSONDecodeError, yaml.YAMLError, RecursionError, KeyError,
                zipfile.BadZipFile, InvalidFileException) as error:
            raise DealListError(f"{self.path}: cannot be read: {error}") from None


def not_a_list(path: Path) -> DealListError:
    return DealListError(f"{path}: must hold a list of deals, each a mapping of column to value")


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


BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
WIDE = (("utf-32-le", 4, b"\x00\x00\x00", 1), ("utf-32-be", 4, b"\x00\x00\x00", 0),  # encoding, unit,
        ("utf-16-le", 2, b"\x00", 1), ("utf-16-be", 2, b"\x00", 0))                   # zeros, where they are


def text_encoding(path: Path, notes: list) -> str:
    """A deal list's encoding: by its byte order mark (UTF-8, UTF-16, UTF-32); UTF-16 or UTF-32
    without one, told by where the zero bytes of its characters fall (with a note); else UTF-8,
    or Windows-1252 (as Excel saves "CSV" on Windows) with a note. The whole file must decode."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    encoding = next((name for bom, name in BOMS if head.startswith(bom)), None)
    if encoding is None and b"\x00" in head:
        encoding = wide_encoding(head)
        if encoding is None:
            raise DealListError(f"{path}: holds zero bytes, so it is no text in UTF-8, UTF-16, UTF-32 or "
                                f"Windows-1252; save it as CSV UTF-8")
        notes.append(f"{path}: no byte order mark; read as {encoding.upper()} (save as CSV UTF-8 to be sure)")
    if encoding is not None:
        if decodes(path, encoding):
            return encoding
        raise DealListError(f"{path}: is not {encoding.upper()} text, as its first bytes say; save it as CSV UTF-8")
    if decodes(path, "utf-8"):
        return "utf-8"
    if decodes(path, "cp1252"):
        notes.append(f"{path}: not UTF-8; read as Windows-1252 (save as CSV UTF-8 to be sure of accented text)")
        return "cp1252"
    raise DealListError(f"{path}: is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8")


def wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte order mark, from the zero bytes most characters of a
    deal list (ASCII) carry in their units; None if no pattern holds for nine units in ten."""
    for encoding, unit, zeros, where in WIDE:
        units = [head[i:i + unit] for i in range(0, len(head) - unit + 1, unit)]
        matching = sum(u[where:where + len(zeros)] == zeros and u.strip(b"\x00") != b"" for u in units)
        if units and matching >= 0.9 * len(units):
            return encoding
    return None


def decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as `encoding` (read in blocks, never held at once)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


DELIMITERS = (",", ";", "\t")
RECORD_TEXT = 1 << 22  # characters of one deal (a CSV line or cell, a JSON record): more is no deal list
csv.field_size_limit(RECORD_TEXT)
SEP_LINE = re.compile(r'\s*"?sep=(.)"?[,;\t]*\s*')  # Excel's "sep=;" line, quoted and padded as programs save it


def csv_records(handle, path: Path, columns: tuple[str, ...] = KNOWN) -> Iterator[tuple[int, dict]]:
    """The records of a CSV file whose delimiter is the one (comma, semicolon or tab) that splits
    its header into known columns. With semicolons, numbers may have decimal commas."""
    first = handle.readline()
    hint = SEP_LINE.fullmatch(first.rstrip("\r\n"))
    lines = [] if hint else [first]
    while not any(line.strip() for line in lines) and (line := handle.readline()):
        lines.append(line)  # blank lines before the header
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = hint[1] if hint else max(DELIMITERS, key=lambda d: sum(
        c.strip().lower() in columns for c in next(csv.reader([header_line], delimiter=d), [])))
    reader = csv.reader(bounded(itertools.chain(lines, handle), path, 1 if hint else 0), delimiter=delimiter)
    header, line, offset = None, 1, 1 if hint else 0
    while True:
        start = line + offset
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise DealListError(f"{path}: line {start} starts a cell longer than {RECORD_TEXT:,} characters; no "
                                    "deal list holds one") from None
            raise
        line = reader.line_num + 1
        if not any(value.strip() for value in values):
            continue  # a blank row, as spreadsheets save them (",,,,") or an empty line
        if header is None:
            header = checked_header(values, path, columns)
            continue
        record = {}
        for number, value in enumerate(values):
            column = header[number] if number < len(header) else ""
            if column:
                record[column] = value if delimiter != ";" else DecimalComma(value)
            elif value.strip():
                record[UNNAMED] = f"column {number + 1} has no header but holds {value.strip()[:40]!r}"
        yield start, record
    if header is None:
        raise DealListError(f"{path}: has no header row (deal_id, client, product, ...)")


def checked_header(values: list, path: Path, columns: tuple[str, ...]) -> list[str]:
    """A header row's column names (lower case), each known and given once."""
    header = ["" if value is None else str(value).strip().lower() for value in values]
    unknown = [c for c in header if c and c not in columns]
    if unknown:
        raise DealListError(f"{path}: unknown column {', '.join(map(repr, unknown[:5]))}; "
                            f"the columns are {', '.join(columns)}")
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise DealListError(f"{path}: column {', '.join(map(repr, repeated))} appears more than once")
    return header


def xlsx_records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """The records of a workbook's first sheet, numbered by their row (the header is the first
    row that is not blank), each cell's value as Excel holds it (a number, a date, text)."""
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        header = None
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if not any(cell_text(value) is not None for value in values):
                continue
            if header is None:
                header = checked_header(list(values), path, columns)
                continue
            record = {}
            for index, value in enumerate(values):
                column = header[index] if index < len(header) else ""
                if column:
                    record[column] = None if isinstance(value, str) and not value.strip() else value
                elif cell_text(value) is not None:
                    record[UNNAMED] = f"column {index + 1} has no header but holds {cell_text(value)[:40]!r}"
            yield number, record
        if header is None:
            raise DealListError(f"{path}: has no header row (deal_id, client, product, ...)")
    finally:
        book.close()


def bounded(lines, path: Path, skipped: int):
    """The lines of a CSV file, refusing one too long for any deal list before the CSV reader
    splits it into cells (millions of empty cells take hundreds of megabytes)."""
    for number, line in enumerate(lines, start=1 + skipped):
        if len(line) > RECORD_TEXT:
            raise DealListError(f"{path}: line {number} is longer than {RECORD_TEXT:,} characters; no deal list "
                                "holds one")
        yield line


def json_records(handle, path: Path) -> Iterator[tuple[int, dict]]:
    """The records of a JSON list, decoded one at a time from a window of the file; every
    number and literal stays text, as written (ids such as 0123, true). A record longer than
    RECORD_TEXT is passed over unread, and its deal fails."""
    decoder = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=str, object_pairs_hook=mapping)
    window, at, ended = "", 0, False

    def next_character() -> str:
        """The next character that is not white space (more of the file read as needed); "" at the end."""
        nonlocal window, at, ended
        while True:
            while at < len(window) and window[at] in " \t\r\n":
                at += 1
            if at < len(window) or ended:
                return window[at:at + 1]
            more = handle.read(1 << 16)
            window, at, ended = window[at:] + more, 0, not more

    if next_character() != "[":
        raise not_a_list(path)
    at += 1
    number = 0
    while (character := next_character()) != "]":
        if number and character != ",":
            raise DealListError(f"{path}: cannot be read: expected ',' or ']' after deal {number}")
        if number:
            at += 1
            if next_character() == "]":
                raise DealListError(f"{path}: cannot be read: a comma after the last deal ({number})")
        while True:
            try:
                record, end = decoder.raw_decode(window, at)
                break
            except json.JSONDecodeError as error:
                if ended:
                    raise DealListError(f"{path}: cannot be read: deal {number + 1}: {error.msg}") from None
                if len(window) - at > RECORD_TEXT:  # no deal is that long: passed over, never decoded
                    window, at, ended = skip_json_value(window, at, handle, path)
                    record, end = {UNNAMED: f"the deal is longer than {RECORD_TEXT:,} characters of JSON"}, at
                    break
                more = handle.read(max(1 << 16, len(window) - at))  # a large value: read on, doubling
                window, at, ended = window[at:] + more, 0, not more
        if not isinstance(record, dict):
            raise not_a_list(path)
        number, at = number + 1, end
        yield number, {key: json_literal(value) for key, value in record.items()}
    at += 1
    if next_character():
        raise DealListError(f"{path}: cannot be read: text after the list of deals")


def json_literal(value):
    """A JSON true, false or null as written (null: no value), other values as they are."""
    return {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value


JSON_STRUCTURE, JSON_STRING = re.compile(r'["{}\[\]]'), re.compile(r'["\\\\]')


def skip_json_value(window: str, at: int, handle, path: Path) -> tuple[str, int, bool]:
    """Read past the JSON value starting at `at` without building it, keeping only a bounded
    window: (the window, the position after the value, whether the file has ended)."""
    depth, in_string, ended, position = 0, False, False, at
    while True:
        match = (JSON_STRING if in_string else JSON_STRUCTURE).search(window, position)
        if match is None or match.end() > len(window) - 1 and match[0] == "\\":
            if ended:
                raise DealListError(f"{path}: cannot be read: the file ends inside a deal")
            rest = window[match.start():] if match is not None else ""  # an escape cut at the window's edge
            more = handle.read(1 << 16)
            window, position, ended = rest + more, 0, not more
            continue
        char, position = match[0], match.end()
        if char == "\\":
            position += 1  # the escaped character belongs to the string
        elif in_string or char == '"':
            in_string = not in_string
        else:
            depth += 1 if char in "{[" else -1
            if depth == 0:
                return window[position:], 0, ended


def yaml_records(handle, path: Path) -> Iterator[tuple[int, dict]]:
    """The records of a YAML list, composed one at a time."""
    loader = TextLoader(handle)
    try:
        loader.get_event()  # the stream's start
        if loader.check_event(yaml.events.StreamEndEvent):
            raise not_a_list(path)
        loader.get_event()  # the document's start
        if not loader.check_event(yaml.events.SequenceStartEvent):
            raise not_a_list(path)
        loader.get_event()
        while not loader.check_event(yaml.events.SequenceEndEvent):
            line, level = loader.peek_event().start_mark.line + 1, loader.depth
            loader.nodes = 0
            try:
                record = loader.construct_document(loader.compose_node(None, None))
            except TooLarge:
                while loader.depth > level:  # the rest of the deal, passed over unread
                    loader.get_event()
                record = {UNNAMED: f"the deal holds more than {MAX_NODES:,} values"}
            if not isinstance(record, dict):
                raise not_a_list(path)
            yield line, record
        loader.get_event()
        loader.get_event()  # the document's end
        if not loader.check_event(yaml.events.StreamEndEvent):
            raise DealListError(f"{path}: must hold one list of deals, not several documents")
    finally:
        loader.dispose()


UNNAMED = "\x00unnamed"  # a record's marker for a value under no header (reported as that deal's error)


class DecimalComma(str):
    """A value from a semicolon-separated list, where a comma may be the decimal separator."""


MAX_NODES = 2 * MAX_LIST + 100  # values of one deal in YAML: its columns and a longest list twice over


class TooLarge(Exception):
    """A YAML deal with more values than any deal holds."""


class TextLoader(yaml.SafeLoader):
    """YAML with every scalar kept as text (0123 stays "0123", 2025-05-28 is converted as a
    cell) except null, as a CSV cell is; no aliases (a deal list needs none, and nested ones
    expand without bound); a key given twice is that deal's error; a deal of more than
    MAX_NODES values stops being composed (TooLarge). `depth` counts the open collections."""

    depth = nodes = 0

    def get_event(self):
        event = super().get_event()
        if isinstance(event, (yaml.events.MappingStartEvent, yaml.events.SequenceStartEvent)):
            self.depth += 1
        elif isinstance(event, (yaml.events.MappingEndEvent, yaml.events.SequenceEndEvent)):
            self.depth -= 1
        return event

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name, <<: *name) are not allowed in a deal list",
                                              self.peek_event().start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooLarge()
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
    """A deal value converted as an Excel cell of that field is (core/cells.py, converted): a date, a
    number held to its rule, or a list ('a;b;;c', a blank a skipped day; a list in YAML or JSON).
    A value too large for its field is refused before anything is converted."""
    if field.shape == "list":
        count = len(value) if isinstance(value, list) else str(value).count(";") + 1
        if count > MAX_LIST:
            raise DealError(f"{field.name} must have at most {MAX_LIST:,} entries, got {count:,}")
        entries = value if isinstance(value, list) else [type(value)(entry) for entry in str(value).split(";")]
        if not entries:  # an empty list in YAML or JSON: no closes yet
            return ()
        value = [[None if cell_text(entry) is None else cell(field, entry)] for entry in entries]
    else:
        value = cell(field, value)
    try:
        result = cells.converted(field, value)
    except TermError as error:
        raise DealError(str(error)) from None
    if field.shape == "list":
        return tuple(None if np.isnan(entry) else float(entry) for entry in result)
    return result


def parse_deal(row: int, record: dict, market: dict | None = None) -> Deal:
    """A checked deal, or a DealError naming the first thing wrong with it; a market input the
    deal leaves blank is the snapshot's (`market`, by field name), when given."""
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
        if len(value) > MAX_CELL_TEXT:
            raise DealError(f"{name} must be at most {MAX_CELL_TEXT} characters (an Excel cell's limit), "
                            f"got {len(value):,}")
    for name, text in (("deal_id", deal_id), ("client", client)):
        if bad := NOT_XML.search(text):
            raise DealError(f"{name} holds the character U+{ord(bad[0]):04X}, which a workbook cannot hold; "
                            "remove it")
    product = BY_KEY.get(key.lower())
    if product is None:
        keys = [product.key for product in PRODUCTS]
        raise DealError(f"product must be {', '.join(keys[:-1])} or {keys[-1]}, got {key[:40]!r}")
    fields = product.deal_fields
    for name in KNOWN:
        if name not in IDENTITY and name not in fields and cell_text(record.get(name)) is not None:
            raise DealError(f"{name} is not a term of a {product.key}")
    values, taken = {}, []
    for name, field in fields.items():
        raw = record.get(name)
        if cell_text(raw) is None and not isinstance(raw, list):
            if market and name in market:
                values[name] = market[name]
                taken.append(name)
                continue
            if not field.required:
                continue
            raise DealError(f"{name} is required for a {product.key}")
        values[name] = converted(field, raw)
    if taken and "as_of" not in taken and values["as_of"] != market["as_of"]:
        own = [name for name in ("spot", "vol", "rate", "div_yield") if name in taken]
        raise DealError(f"as_of {values['as_of'].isoformat()} is not the market snapshot's "
                        f"({market['as_of'].isoformat()}), whose {', '.join(own)} it would take: give the deal's own "
                        f"{', '.join(own)}, or quote it with a snapshot of its date")
    deal = Deal(row, deal_id, client, product.key, tuple(sorted(values.items())))
    file_stem(deal_id)  # a deal id that names no file is an error too
    try:
        deal.objects()  # terms, dates, market and simulation settings checked by the objects that use them
    except TermError as error:
        raise DealError(str(error)) from None
    return deal


def identity(row: int, record: dict) -> dict:
    """What a summary row says of a deal before its terms are read: its row, deal_id, client and
    product as written (cut at an Excel cell's length), and `stem`, its files' name (None if
    its id names no file)."""
    info = {"row": row, **{key: (cell_text(record.get(key)) or "")[:MAX_CELL_TEXT] for key in IDENTITY}}
    try:
        info["stem"] = file_stem(info["deal_id"])
    except DealError:
        info["stem"] = None
    return info


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class SameFiles:
    """Which rows of a deal list name the same output file, from one pass over their ids kept
    as 8-byte digests (a few bytes a deal, however long the list): no row's quote may stand for
    another's, so every such row fails."""

    def __init__(self):
        self.rows, self.files, self.ids = array("Q"), array("Q"), array("Q")
        self.clashes: dict[int, str] = {}
        self.count = 0  # rows of the list

    def add(self, info: dict) -> None:
        self.count += 1
        if info["stem"] is not None:
            self.rows.append(info["row"])
            self.files.append(digest(same_file(info["stem"])))
            self.ids.append(digest(info["deal_id"]))

    def finish(self) -> None:
        """Find the clashes, once every row has been added."""
        files = np.frombuffer(self.files, dtype=np.uint64)
        self.listed = np.unique(files)
        shared = set(self.listed[np.unique(files, return_counts=True)[1] > 1].tolist())
        groups: dict[int, list[int]] = {}
        for index in (i for i, file in enumerate(files.tolist()) if file in shared):
            groups.setdefault(int(files[index]), []).append(index)
        for file, indexes in groups.items():
            rows = ", ".join(str(self.rows[i]) for i in indexes)
            reason = ("duplicate deal_id" if len({self.ids[i] for i in indexes}) == 1
                      else "deal_id names the same output file as another deal")
            self.clashes[file] = f"{reason} (rows {rows})"

    def clash(self, info: dict) -> str | None:
        """Why this row's deal cannot be quoted, if its file is named by another row too."""
        return None if info["stem"] is None else self.clashes.get(digest(same_file(info["stem"])))

    def names(self, stem: str) -> bool:
        """Whether some row of the list names the file `stem`."""
        key = np.uint64(digest(same_file(stem)))
        at = int(np.searchsorted(self.listed, key))
        return at < len(self.listed) and self.listed[at] == key


def read_deals(path: Path, notes: list | None = None) -> tuple[list[Deal], list[dict]]:
    """All the good deals of a list, and a failure record for every bad row (for a list that fits in memory)."""
    deal_list, same = DealList(path, notes), SameFiles()
    for row, record in deal_list.records():
        same.add(identity(row, record))
    same.finish()
    deals, failures = [], []
    for row, record in deal_list.records():
        info = identity(row, record)
        try:
            if clash := same.clash(info):
                raise DealError(clash)
            deals.append(parse_deal(row, record))
        except DealError as error:
            failures.append({**info, "status": "failed", "message": str(error)})
    return deals, failures


def record_of(deal: Deal) -> dict:
    return {"row": deal.row, "deal_id": deal.deal_id, "client": deal.client, "product": deal.product,
            "stem": deal.stem}
