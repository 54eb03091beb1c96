"""xlsx package edits openpyxl does not offer: cached formula values, stable timestamps, atomic writes.

A formula cell in an xlsx file may carry the value it last computed. Storing the engine's
results there lets any viewer (LibreOffice, a previewer, Excel before it recalculates) show
the numbers. Rewriting the package with fixed timestamps makes a rebuild byte-for-byte equal.
"""
from __future__ import annotations

import io
import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from contextlib import contextmanager
from numbers import Real
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string

from .sheets import client_document, range_cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
FIXED_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_STAMP = "2025-01-01T00:00:00Z"


class ErrorValue(str):
    """An Excel error value such as #N/A, as opposed to text that happens to start with #."""


def q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its XML part name."""
    targets = {rel.get("Id"): rel.get("Target") for rel in
               safe_xml.fromstring(package.read("xl/_rels/workbook.xml.rels"))}
    sheets = safe_xml.fromstring(package.read("xl/workbook.xml")).find(q("sheets"))
    return {sheet.get("name"): "xl/" + targets[sheet.get(f"{{{REL}}}id")].lstrip("/").removeprefix("xl/")
            for sheet in sheets}


def split_ref(ref: str) -> tuple[int, int]:
    letters = re.match(r"[A-Z]+", ref).group()
    return int(ref[len(letters):]), column_index_from_string(letters)


class SheetXml:
    """A worksheet part, parsed with defused XML, whose cells can be found, added and set."""

    def __init__(self, xml: bytes):
        for prefix, uri in (node for _, node in safe_xml.iterparse(io.BytesIO(xml), events=["start-ns"])):
            ET.register_namespace(prefix, uri)
        self.root = safe_xml.fromstring(xml)
        self.data = self.root.find(q("sheetData"))
        self.rows = {int(row.get("r")): row for row in self.data}
        self.cells = {cell.get("r"): cell for row in self.data for cell in row}

    def cell(self, ref: str) -> ET.Element:
        """The cell at `ref`, added in row and column order if the part has none."""
        if ref not in self.cells:
            row_number, column = split_ref(ref)
            if row_number not in self.rows:
                self.rows[row_number] = ET.Element(q("row"), r=str(row_number))
                self.data[:] = [self.rows[r] for r in sorted(self.rows)]
            row = self.rows[row_number]
            self.cells[ref] = ET.Element(q("c"), r=ref)
            row[:] = sorted([*row, self.cells[ref]], key=lambda c: split_ref(c.get("r"))[1])
        return self.cells[ref]

    def computed_refs(self) -> list[str]:
        """Formula cells and every cell of an array formula's range."""
        refs = [ref for ref, cell in self.cells.items() if cell.find(q("f")) is not None]
        for formula in self.root.iter(q("f")):
            if formula.get("t") == "array":
                refs += range_cells(formula.get("ref"))
        return list(dict.fromkeys(refs))

    def bytes(self) -> bytes:
        return ET.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def set_value(cell: ET.Element, value, formula: bool) -> None:
    """Store `value` in `cell`: a formula's cached result, or a plain value (text is always
    an inline string, so text from outside can never become a formula)."""
    for old in [*cell.findall(q("v")), *cell.findall(q("is"))]:
        cell.remove(old)
    cell.attrib.pop("t", None)
    if value is None or (value == "" and not formula):
        return
    if isinstance(value, ErrorValue):
        cell.set("t", "e")
        ET.SubElement(cell, q("v")).text = str(value)
    elif isinstance(value, bool):
        cell.set("t", "b")
        ET.SubElement(cell, q("v")).text = str(int(value))
    elif isinstance(value, (int, float)):
        ET.SubElement(cell, q("v")).text = repr(float(value)) if isinstance(value, float) else str(value)
    elif formula:
        cell.set("t", "str")
        ET.SubElement(cell, q("v")).text = str(value)
    else:
        cell.set("t", "inlineStr")
        ET.SubElement(ET.SubElement(cell, q("is")), q("t")).text = str(value)


class Slots:
    """A worksheet part with chosen cells left open, serialized once, then filled with plain
    values for each document by joining strings (no XML parsing per document)."""

    def __init__(self, xml: bytes, refs):
        sheet = SheetXml(xml)
        self.refs, self.attributes = list(refs), []
        cells = [sheet.cell(ref) for ref in self.refs]  # every one in place before any is marked
        for number, cell in enumerate(cells):
            for child in list(cell):
                cell.remove(child)
            cell.attrib.pop("t", None)
            self.attributes.append("".join(f' {key}="{escape(value, QUOTED)}"' for key, value in cell.attrib.items()
                                           if key != "r"))
            cell.attrib = {"r": f"@{number}@"}
        pieces = re.split(r'<c r="@([0-9]+)@" */>', sheet.bytes().decode("utf-8"))
        self.texts, self.order = pieces[::2], [int(number) for number in pieces[1::2]]
        if sorted(self.order) != list(range(len(self.refs))):
            raise ValueError("a worksheet's cells could not be opened for values")

    def filled(self, values: dict[str, object]) -> bytes:
        """The part with `values` ({A1: value}) in its open cells (missing ones empty)."""
        out = [self.texts[0]]
        for number, text in zip(self.order, self.texts[1:]):
            ref = self.refs[number]
            out.append(cell_xml(ref, self.attributes[number], values.get(ref)))
            out.append(text)
        return "".join(out).encode("utf-8")


QUOTED = {'"': "&quot;"}


def cell_xml(ref: str, attributes: str, value) -> str:
    """One <c> element holding a plain value (text always as an inline string)."""
    if value is None or value == "":
        return f'<c r="{ref}"{attributes}/>'
    if isinstance(value, ErrorValue):
        return f'<c r="{ref}"{attributes} t="e"><v>{escape(str(value))}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{attributes} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Real):
        if not math.isfinite(value):
            raise ValueError(f"cell {ref} would hold {value}")
        return f'<c r="{ref}"{attributes}><v>{float(value)!r}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{attributes} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def with_cached_values(xml: bytes, values: dict[str, object]) -> bytes:
    """A worksheet part with `values` ({A1: value}) stored in its formula cells and in
    every cell of its array formulas' ranges."""
    sheet = SheetXml(xml)
    for ref in sheet.computed_refs():
        set_value(sheet.cell(ref), values.get(ref), formula=True)
    return sheet.bytes()


def with_values(xml: bytes, values: dict[str, object]) -> bytes:
    """A worksheet part with plain `values` ({A1: value}) in the given cells."""
    sheet = SheetXml(xml)
    for ref, value in values.items():
        set_value(sheet.cell(ref), value, formula=False)
    return sheet.bytes()


def without_formulas(xml: bytes) -> bytes:
    """A worksheet part whose formula cells keep only their cached values."""
    sheet = SheetXml(xml)
    for cell in sheet.cells.values():
        for formula in cell.findall(q("f")):
            cell.remove(formula)
        if cell.get("t") == "str":  # a formula's text result becomes plain text
            value = cell.find(q("v"))
            set_value(cell, value.text if value is not None else None, formula=False)
    return sheet.bytes()


def stable(name: str, content: bytes) -> bytes:
    """Package parts with fixed creation and modification stamps."""
    if name == "docProps/core.xml":
        content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP.encode(),
                         content)
    return content


def rewrite(path: Path, values_by_sheet: dict[str, dict[str, object]] | None = None,
            target: Path | None = None) -> None:
    """Rewrite the xlsx at `path` into `target` (default: itself), atomically and with stable
    timestamps: with cached values stored ({sheet title: {A1: value}}), or, when none are
    given, frozen: every formula replaced by its cached value."""
    path = Path(path)
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
        for title, part in sheet_parts(package).items():
            if values_by_sheet is None:
                parts[part] = without_formulas(parts[part])
            elif title in values_by_sheet:
                parts[part] = with_cached_values(parts[part], values_by_sheet[title])
    write_atomically(target or path, lambda handle: write_package(handle, parts))


def write_package(handle, parts: dict[str, bytes], when: tuple | None = None) -> None:
    """An xlsx package of `parts`; entries stamped `when` (local time), else with FIXED_TIME and
    the core properties' dates made stable."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts.items():
            package.writestr(zipfile.ZipInfo(name, when or FIXED_TIME), content if when else stable(name, content),
                             compress_type=zipfile.ZIP_DEFLATED)


def verify_package(path: Path) -> dict[str, bytes]:
    """The parts of the package at `path`, or a ValueError unless it reopens: a readable zip
    whose every entry matches its checksum and whose every XML part is well-formed XML."""
    parts = {}
    try:
        with zipfile.ZipFile(path) as package:
            for info in package.infolist():
                parts[info.filename] = content = package.read(info)  # checks the CRC
                if info.filename.endswith((".xml", ".rels")):
                    expat.ParserCreate().Parse(content, True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, expat.ExpatError, OSError, EOFError, ValueError) as error:
        raise ValueError(f"the workbook does not reopen: {error}") from None
    return parts


@contextmanager
def atomic_file(path: Path, check=None):
    """A binary handle on a temporary file beside `path` that, when the block ends without an
    error, is checked with `check(temporary path)` if given and renamed to `path`: readers see
    the old file or the complete, checked new one, never a half-written one. On an error the
    temporary file is removed (one a killed process leaves is removed by the next run)."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        if check:
            check(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_atomically(path: Path, write, check=None) -> None:
    """Write a file through `write(handle)`, atomically (atomic_file)."""
    with atomic_file(path, check) as handle:
        write(handle)


def frozen_sheet(path: Path, title: str, target: Path, client: bool = False) -> set[str]:
    """A copy of the sheet `title` of the xlsx at `path`, written atomically to `target`:
    formulas frozen to their cached values, styles, merged cells and charts kept, no defined
    names or other sheets; with `client`, made a document for a client (sheets.client_document:
    one printed page and its charts' data, nothing else), returning the cells moved to its
    chart data."""
    with tempfile.TemporaryDirectory(dir=Path(target).parent) as folder:
        frozen = Path(folder) / "frozen.xlsx"
        rewrite(path, None, frozen)
        wb = load_workbook(frozen)
        for sheet in [ws for ws in wb.worksheets if ws.title != title]:
            wb.remove(sheet)
        for scope in [wb, *wb.worksheets]:  # no names, the workbook's or a sheet's
            for name in list(scope.defined_names):
                del scope.defined_names[name]
        wb[title].sheet_state = "visible"
        moved = client_document(wb, title) if client else set()
        wb.active = 0
        wb.save(frozen)
        rewrite(frozen, {}, target)
    return moved
