"""Client quote workbooks: a product's template filled with a deal, its Quote sheet computed
(quote_sheet.py: our Excel functions and the layout's twins, so exactly what the live template
would show) and written as a one-page client document of values with its payout chart; and the
run's summary.csv, written as a stream. Every file is written to a temporary file beside its
place, checked, and renamed.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from ..products.layout import CLIENT, MARKET_NAMES
from ..products.product import Product
from ..workbooks import xlsx
from ..workbooks.sheets import CHART_DATA, column_chars, print_ranges, printed, range_cells
from .deals import NOT_XML, Deal, DealError, DealListError
from .quote_sheet import QUOTE, QuoteSheet, excel_value

SUMMARY = "summary.csv"
GREEKS = ("delta", "gamma", "vega", "theta", "rho")
NUMBERS = ("value", *GREEKS, "breakeven")  # a deal's numbers in the summary
SUMMARY_COLUMNS = ("row", "deal_id", "client", "product", "status", *NUMBERS, "output", "pdf", "message")


def code_digest() -> str:
    """A digest of this package's source: a quote made by other code is not up to date."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).resolve().parent.parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def fingerprint(deal: Deal, template_digest: str, code: str, properties: "Properties") -> str:
    """An opaque digest of everything a quote is made from: a quote holding it is up to date."""
    data = json.dumps([deal.deal_id, deal.client, deal.product, deal.terms, template_digest, code,
                       properties.author, properties.company], default=str, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


CORE_PART = "docProps/core.xml"


def content_digest(parts: dict[str, bytes]) -> str:
    """A digest of a package's parts but its core properties (which hold it)."""
    digest = hashlib.sha256()
    for name in sorted(parts):
        if name != CORE_PART:
            digest.update(f"{name}\0{len(parts[name])}\0".encode())
            digest.update(parts[name])
    return digest.hexdigest()


def stored_stamp(path: Path) -> str | None:
    """The "fingerprint:content digest" a client workbook was written with, if it is a file of
    ours (not a link) that reopens whole and unchanged since (a corrupted or edited quote has
    none, so it is made again)."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None
    try:
        parts = xlsx.verify_package(path)
    except ValueError:
        return None
    core = parts.get(CORE_PART, b"").decode(errors="replace")
    found = re.search(r"<dc:identifier>xlfuncs:([0-9a-f]{64}):([0-9a-f]{64})</dc:identifier>", core)
    return f"{found[1]}:{found[2]}" if found and found[2] == content_digest(parts) else None


@dataclass(frozen=True)
class Properties:
    """What a client file says about itself: the product's title, the author and company chosen
    for the run (none if not given); never the desk's numbers."""

    author: str = ""
    company: str = ""

    def __post_init__(self):
        for name, text in (("--author", self.author), ("--company", self.company)):
            bad = NOT_XML.search(text)
            if bad is not None or len(text) > 255:
                reason = f"holds the character U+{ord(bad[0]):04X}" if bad is not None else f"is {len(text)} characters"
                raise DealListError(f"{name} {reason}; a document property is at most 255 characters a "
                                    f"workbook can hold")

    def core(self, title: str, stamp: str, now: dt.datetime) -> bytes:
        """The core properties: `stamp` is the fingerprint, a colon and the content digest."""
        when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        author = f"<dc:creator>{escape(self.author)}</dc:creator><cp:lastModifiedBy>{escape(self.author)}" \
                 f"</cp:lastModifiedBy>" if self.author else ""
        return (f'<cp:coreProperties xmlns:cp="{CORE}" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                f'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<dc:title>{escape(title)}</dc:title>{author}<dc:identifier>xlfuncs:{stamp}</dc:identifier>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
                f"</cp:coreProperties>").encode()

    def app(self) -> bytes:
        company = f"<Company>{escape(self.company)}</Company>" if self.company else ""
        return (f'<Properties xmlns="{APP}"><Application>xlfuncs</Application>{company}</Properties>').encode()


CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
APP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


def check_market_room(snapshot: dict, templates: dict[str, Path]) -> None:
    """Refuse (DealListError) a snapshot whose curves or surface do not fit a template's Market
    sheet ranges: no deal of that product could be quoted, so the run stops before anything is
    written."""
    for path in templates.values():
        book = load_workbook(path, read_only=True)
        names = book.defined_names
        book.close()
        for field_name, name in MARKET_NAMES.items():
            destinations = list(names[name].destinations) if name in names else []
            if len(destinations) != 1:
                continue  # a template without the name is refused by QuoteBook
            try:
                range_rows(snapshot[field_name], range_cells(destinations[0][1].replace("$", "")), name,
                           f"the market snapshot's {field_name}")
            except DealError as error:
                raise DealListError(f"{path.name}: {error}; enlarge the range or use a template with room") from None


def range_rows(value, refs: list[str], name: str, source: str) -> list[list]:
    """A market input (`source`, for the message) as the rows of the template's range of cells
    `refs`: a curve's or a surface's rows, or one number in the first cell; blank past them."""
    rows = value.cells() if hasattr(value, "cells") else [[value]]
    columns = sorted({column_index_from_string(re.match(r"[A-Z]+", ref)[0]) for ref in refs})
    height, width = len(refs) // len(columns), len(columns)
    if len(rows) > height or any(len(row) > width for row in rows):
        raise DealError(f"its Market sheet's {name} range holds {height} rows of {width} cells, too small for "
                        f"{source} ({len(rows)} rows of {max(map(len, rows))})")
    return [[excel_value(cell) for cell in [*row, *[None] * (width - len(row))]]
            for row in [*rows, *[[]] * (height - len(rows))]]


class QuoteBook:
    """One product's template, loaded once per process: its Quote sheet's computation, its
    names, and the client page that each deal's values are written into."""

    def __init__(self, template: Path, product: Product):
        self.product, self.template = product, Path(template)
        self.sheet = QuoteSheet(self.template, product)
        self.fields = {field.defined_name: field for field in product.deal_fields.values()}
        missing = sorted(set(self.fields) - set(self.sheet.names))
        if missing:
            raise DealListError(f"{template}: names {', '.join(missing)} must each refer to one cell or column")
        missing = sorted(set(MARKET_NAMES.values()) - set(self.sheet.names))
        if missing:
            raise DealListError(f"{template}: names {', '.join(missing)} must each refer to a range of its Market "
                                "sheet")
        with tempfile.TemporaryDirectory() as folder:
            page = Path(folder) / "quote.xlsx"
            charted = xlsx.frozen_sheet(self.template, QUOTE, page, client=True)
            with zipfile.ZipFile(page) as package:
                self.parts = {name: package.read(name) for name in package.namelist()}
                sheet_parts = xlsx.sheet_parts(package)
            client_sheet = load_workbook(page)[QUOTE]
        inputs_here = [ref for name in [*self.fields, CLIENT] for sheet, refs in [self.sheet.names[name]]
                       if sheet == QUOTE for ref in refs]
        refs = dict.fromkeys([*inputs_here, *(ref for _, refs in self.sheet.outputs for ref in refs)])
        shown = [ref for ref in refs if printed(client_sheet, client_sheet[ref])]
        occupied = {cell.coordinate for row in client_sheet.iter_rows() for cell in row if cell.value is not None}
        self.room = {ref: Room.of(client_sheet, ref, occupied | set(shown)) for ref in shown}
        self.slots = {sheet_parts[QUOTE]: xlsx.Slots(self.parts[sheet_parts[QUOTE]], shown)}
        if charted & set(refs):  # a chart's source beside the page: on the hidden chart-data sheet
            self.slots[sheet_parts[CHART_DATA]] = xlsx.Slots(self.parts[sheet_parts[CHART_DATA]],
                                                             [ref for ref in refs if ref in charted])

    def inputs(self, deal: Deal) -> dict:
        """{defined name: Excel value} of every input a deal fills: its terms, market inputs and
        settings (a term not given: its default, or blank), and the client. The Market sheet's
        ranges take the deal's curves and surface (a number: in the range's first cell), the
        flat inputs beside them their numbers, or the flat market of its curves and surface."""
        values, named = deal.values, {}
        contract, market, _ = deal.objects()
        flat = contract.flat_market(market)
        for field_name, name in MARKET_NAMES.items():
            named[name] = range_rows(values[field_name], self.sheet.names[name][1], name, f"the deal's {field_name}")
        for name, field in self.fields.items():
            value = getattr(flat, field.name) if field.name in MARKET_NAMES else values.get(field.name, field.default)
            cells = self.sheet.names[name][1]
            if field.shape == "list":
                entries = list(value or ())
                if len(entries) > len(cells):
                    raise DealError(f"{field.name} has {len(entries)} entries but the template has room for "
                                    f"{len(cells)}")
                named[name] = [[entry] for entry in entries + [None] * (len(cells) - len(entries))]
            else:
                named[name] = excel_value(value)
        return named

    def values(self, deal: Deal) -> dict[str, object]:
        """{A1: value} of the deal's Quote sheet cells that differ from the template's."""
        contract, market, _ = deal.objects()
        values = self.sheet.values(self.inputs(deal), deal.client, contract, market)
        errors = sorted(ref for ref, value in values.items() if isinstance(value, xlsx.ErrorValue))
        if errors:
            raise DealError(f"the quote computes {values[errors[0]]} in cell {errors[0]}")
        return values

    def write(self, deal: Deal, target: Path, stamp: str, properties: Properties, summary: dict) -> str:
        """The deal's client workbook at `target`, checked to show the estimated value and
        breakeven of its `summary`, every value in full, and to reopen before it is put in place.
        Returns its stamp: the fingerprint and the digest of its content."""
        parts = dict(self.parts)
        values = self.values(deal)
        for name, number in (("EstimatedValue", summary["value"]), ("Breakeven", summary["breakeven"])):
            for ref in self.sheet.key_cells[name]:
                shown = values.get(ref)
                if number is not None and not (isinstance(shown, Real) and not isinstance(shown, bool)
                                               and math.isclose(shown, number, rel_tol=1e-12)):
                    raise DealError(f"the template's Quote!{ref} shows {shown!r} as {name} where the summary "
                                    f"reports {number:,.6g}; its formulas compute something else")
        for ref, room in self.room.items():
            if problem := room.problem(values.get(ref)):
                raise DealError(f"the quote's cell {ref} is too narrow for {problem}")
        parts.update({part: slots.filled(values) for part, slots in self.slots.items()})
        parts["docProps/app.xml"] = properties.app()
        now = dt.datetime.now(dt.timezone.utc)
        full_stamp = f"{stamp}:{content_digest(parts)}"
        parts[CORE_PART] = properties.core(self.product.title, full_stamp, now)
        local = now.astimezone().timetuple()[:6]
        xlsx.write_atomically(target, lambda handle: xlsx.write_package(handle, parts, local),
                              check=xlsx.verify_package)
        return full_stamp


@dataclass(frozen=True)
class Room:
    """What a printed cell of the client page holds: digits of the default font (Calibri 11) in
    its width (a merged cell: its columns'), and, for text that does not wrap, in the empty cells
    beside it up to the page's edge, where Excel lets text run on; `lines` a wrapping cell's row
    holds (None: the row grows)."""

    number_format: str
    width: float
    spill: float
    scale: float
    wrap: bool
    lines: int | None

    @classmethod
    def of(cls, ws, ref: str, occupied: set[str]) -> "Room":
        cell = ws[ref]
        width, last = room(ws, ref)
        edge = max((high for _, _, high, _ in print_ranges(ws)), default=last)
        spill, column = 0.0, last + 1
        while column <= edge and f"{get_column_letter(column)}{cell.row}" not in occupied:
            spill += column_chars(ws, column)
            column += 1
        height = ws.row_dimensions[cell.row].height
        size = float(cell.font.sz or 11) if cell.font else 11.0
        wrap = bool(cell.alignment and cell.alignment.wrap_text)
        width -= INDENT_CHARS * float(cell.alignment.indent or 0) if cell.alignment else 0.0
        return cls(cell.number_format, width, spill, font_scale(cell), wrap,
                   None if height is None else max(1, int(height // (size * 1.25))))

    def problem(self, value) -> str | None:
        """What of `value` would not show in full here (### or cut-off text), or None. Text is
        measured with TEXT_MARGIN to spare: a viewer without Calibri sets it in a wider font."""
        if isinstance(value, str):
            lines = value.splitlines() or [""]
            widest = max(text_width(line) for line in lines) * self.scale * TEXT_MARGIN
            if self.wrap:
                needed = sum(max(1, math.ceil(text_width(line) * self.scale * TEXT_MARGIN / self.width))
                             for line in lines)
                if self.lines is None or needed <= self.lines:
                    return None
                return f"{value[:40]!r}: it needs {needed} lines and its row holds {self.lines}; shorten it"
            if len(lines) > 1:
                return (f"{value[:40]!r}: a line break in a cell that does not wrap would print over the next row; "
                        "remove it")
            if widest <= self.width + self.spill:
                return None
            return (f"{value[:40]!r}{'...' if len(value) > 40 else ''} (about {widest:.0f} characters wide, room for "
                    f"{self.width + self.spill:.0f}): the page would cut it off; shorten it")
        text = shown_number(value, self.number_format)
        if text is not None and text_width(text) * self.scale > self.width:
            shows = "round it to fit" if self.number_format == "General" else "show ###"
            return f"{text} (the page would {shows}): amounts this large do not fit the template"
        return None


def room(ws, ref: str) -> tuple[float, int]:
    """The digits of the default font a cell's column holds (a merged cell: its columns'), and its last column."""
    columns = [column_index_from_string(ref.rstrip("0123456789"))]
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            columns = range(merged.min_col, merged.max_col + 1)
    return sum(column_chars(ws, index) for index in columns), columns[-1]


def font_scale(cell) -> float:
    """How much wider than the default font (Calibri 11) a cell's digits are: size, bold."""
    size = float(cell.font.sz or 11) if cell.font else 11.0
    return size / 11 * (1.1 if cell.font and cell.font.b else 1.0)


INDENT_CHARS = 1.5  # digits of the default font an indent level takes (Excel indents by about 10 pixels)
TEXT_MARGIN = 1.25  # DejaVu Sans, which LibreOffice sets where Calibri is missing, is about a fifth wider


def text_width(text: str) -> float:
    """A text's width in digits of its font (Calibri's proportions, rounded up): separators and
    narrow letters about half a digit, capitals and wide letters more, wide scripts two; a
    letter made of others (Ǆ, ﬃ) as those."""
    return sum(character_width(part) for part in unicodedata.normalize("NFKD", text)
               if not unicodedata.combining(part))


NARROW, WIDE = set(" .,;:'!|()[]{}ijlftrI-"), set("mwMW%@&")


def character_width(character: str) -> float:
    if character in NARROW:
        return 0.5
    if character in WIDE:
        return 1.5
    if character.isdigit() or character.islower():
        return 1.0
    if character.isupper() or not character.isascii():
        return 2.0 if unicodedata.east_asian_width(character) in "WF" else 1.25
    return 1.0


NUMBER_SECTION = re.compile(r'^(?P<currency>"\$")?-?(?P<grouped>#,##)?0(?:\.(?P<decimals>0+))?(?P<percent>%)?$')


def shown_number(value, number_format: str) -> str | None:
    """A number as a plain number format (#,##0.00, "$"#,##0.00, 0.00%) shows it, the minus
    included; under General the narrowest it may show, to the cent (General rounds a number to
    its column: 977.72 in four digits shows 978); None for anything else (text, dates, other
    formats), which is never cut to ###."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return None
    if number_format == "General":
        return f"{value:.2f}"
    sections = number_format.split(";")
    section = sections[1] if value < 0 and len(sections) > 1 else sections[0]
    match = NUMBER_SECTION.match(section.replace('-"$"', '"$"').lstrip("-"))
    if number_format == "General" or not match:
        return None
    number = abs(value) * (100 if match["percent"] else 1)
    digits = f"{number:{',' if match['grouped'] else ''}.{len(match['decimals'] or '')}f}"
    return f"{'-' if value < 0 else ''}{'$' if match['currency'] else ''}{digits}{match['percent'] or ''}"


def safe_text(value):
    """Text that a spreadsheet opening the summary must not take for a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class Summary:
    """A summary.csv being written, a row per deal as it is final, into a binary handle (a
    temporary file that xlsx.atomic_file puts in place): UTF-8 with a byte order mark, which
    Excel reads."""

    def __init__(self, handle):
        self.text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="backslashreplace", newline="")
        self.writer = csv.DictWriter(self.text, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        self.writer.writeheader()

    def add(self, record: dict) -> None:
        self.writer.writerow({key: safe_text(record.get(key, "")) for key in SUMMARY_COLUMNS})

    def finish(self) -> None:
        self.text.flush()
        self.text.detach()


def write_summary(folder: Path, records) -> Path:
    """A whole summary.csv from `records` (any iterable), put in place atomically."""
    path = Path(folder) / SUMMARY
    with xlsx.atomic_file(path) as handle:
        summary = Summary(handle)
        for record in records:
            summary.add(record)
        summary.finish()
    return path
