"""The template workbooks, rendered from each product's layout (layout.py) so they can be
rebuilt and diffed: one renderer per kind of block, no product knowledge.

Every input and key output has a workbook-level name, so formulas read like the term sheet.
Computed columns are legacy array formulas, which every Excel version evaluates.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from ..products import PRODUCTS
from ..products.layout import (
    PRODUCT_NAME,
    ArrayRow,
    Calendar,
    Disclaimer,
    Fields,
    Layout,
    Notes,
    Payout,
    Range,
    Scenarios,
    finals_formula,
)
from . import xlsx
from .sheets import (
    BOX,
    DATE,
    GREEK,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FILL,
    INPUT_FONT,
    LEVEL2,
    LEVEL3,
    LEVEL4,
    MONEY,
    MONEY_NEGATIVE,
    NOTE_FONT,
    PERCENT2,
    PERCENT3,
    WHOLE,
    Sheet,
    conf_sheet,
    define,
    excel_date,
    scatter_chart,
)

FORMATS = {"text": None, "level": LEVEL2, "level3": LEVEL3, "level4": LEVEL4, "percent": PERCENT2,
           "percent3": PERCENT3, "money": MONEY, "money_signed": MONEY_NEGATIVE, "date": DATE, "count": WHOLE,
           "greek": GREEK}
CHART_ROWS = 19  # rows the payout chart covers


def cell_value(value):
    return excel_date(value) if isinstance(value, dt.date) else value


def fields(sheet: Sheet, block: Fields) -> None:
    if block.section:
        sheet.section(block.section)
    for row in block.rows:
        sheet.field(row.label, cell_value(row.value), FORMATS[row.unit], row.name, row.entry, row.note or None,
                    row.key, block.column)


def notes(sheet: Sheet, block: Notes) -> None:
    sheet.section(block.section)
    for line in block.lines:
        sheet.note(line)


def array_row(sheet: Sheet, block: ArrayRow) -> None:
    if block.section:
        sheet.section(block.section)
    if block.headers:
        sheet.headers(["", *block.headers])
    sheet.cell(sheet.row, 1, block.label)
    sheet.array(2, sheet.row, 1, block.formula, FORMATS[block.units[0]], columns=len(block.units))
    for offset, (unit, name) in enumerate(zip(block.units, block.names or [None] * len(block.units))):
        sheet.ws.cell(sheet.row, 2 + offset).number_format = FORMATS[unit]
        if name:
            define(sheet.wb, name, sheet.title, f"{get_column_letter(2 + offset)}{sheet.row}")
    sheet.row += 1


def scenarios(sheet: Sheet, block: Scenarios) -> None:
    if block.section:
        sheet.section(block.section)
    fields(sheet, Fields(None, block.rows_above, column=3))
    sheet.headers(list(block.headers))
    first, rows, column = sheet.row, len(block.inputs), block.first_column
    for offset, label in enumerate(block.labels):
        sheet.cell(first + offset, column - 1, label)
    for offset, value in enumerate(block.inputs):
        sheet.column(column, first + offset, [value], FORMATS[block.input_unit],
                     entry=not str(value).startswith("="))
    sheet.named_range(column, first, rows, block.input_name)
    if block.base:
        column += 1
        sheet.array(column, first, rows, finals_formula(block.base, block.input_name), FORMATS["level"],
                    block.finals_name)
    sheet.array(column + 1, first, rows, "=" + block.table, FORMATS[block.units[0]], columns=len(block.units))
    for offset, (unit, name) in enumerate(zip(block.units, block.names or [None] * len(block.units))):
        for r in range(first, first + rows):
            sheet.ws.cell(r, column + 1 + offset).number_format = FORMATS[unit]
        sheet.named_range(column + 1 + offset, first, rows, name)
    sheet.row = first + rows + 1


def payout(sheet: Sheet, block: Payout) -> None:
    """The chart at the current row, its source cells beside the printed columns."""
    column, first = len(sheet.widths) + 3, 1
    prefix = block.prefix
    for offset, header in enumerate(block.headers):
        sheet.cell(first, column + offset, header, font=HEADER_FONT, fill=HEADER_FILL, align="wrap")
    rows = len(block.changes)
    x = sheet.column(column, first + 1, list(block.changes), PERCENT2, f"{prefix}Changes")
    sheet.array(column + 1, first + 1, rows, finals_formula(block.base, f"{prefix}Changes"), LEVEL2, f"{prefix}Finals")
    sheet.array(column + 2, first + 1, rows, block.payment.replace("{prefix}", prefix), MONEY, f"{prefix}Payments")
    y = sheet.array(column + 3, first + 1, rows, block.line, PERCENT2, f"{prefix}Line")
    chart = scatter_chart("Payout Diagram", sheet, x, [(block.series, y), ("The Underlying", x)],
                          block.headers[0], block.y_title, (min(block.changes), max(block.changes)))
    sheet.ws.add_chart(chart, f"A{sheet.row}")
    sheet.row += CHART_ROWS


def calendar(sheet: Sheet, block: Calendar) -> None:
    sheet.headers(list(block.headers))
    first = sheet.row
    sheet.array(1, first, block.count, block.days, DATE, block.days_name)
    sheet.column(2, first, [None] * block.count, FORMATS[block.entry_unit], block.entry_name, entry=True)
    sheet.row = first + block.count + 1


def range_block(sheet: Sheet, block: Range) -> None:
    """The range's cells as inputs (its first row, first column and the rest each in their
    format), named as a whole."""
    sheet.section(block.section)
    if block.headers:
        sheet.headers(list(block.headers))
    first = sheet.row
    for i, row in enumerate(block.cells):
        for j, value in enumerate(row):
            unit = block.units[0] if i == 0 and j > 0 else block.units[1] if j == 0 else block.units[2]
            cell = sheet.cell(first + i, 1 + j, cell_value(value), FORMATS[unit], font=INPUT_FONT, fill=INPUT_FILL)
            cell.border = BOX
    last = f"{get_column_letter(len(block.cells[0]))}{first + len(block.cells) - 1}"
    define(sheet.wb, block.name, sheet.title, f"A{first}:{last}")
    sheet.row = first + len(block.cells) + 1


def disclaimer(sheet: Sheet, block: Disclaimer) -> None:
    sheet.row += 1
    sheet.cell(sheet.row, 1, block.text, font=NOTE_FONT, align="wrap")
    sheet.ws.merge_cells(start_row=sheet.row, start_column=1, end_row=sheet.row, end_column=len(sheet.widths))
    sheet.ws.row_dimensions[sheet.row].height = 36
    sheet.row += 1


RENDER = {Fields: fields, Notes: notes, ArrayRow: array_row, Scenarios: scenarios, Payout: payout,
          Calendar: calendar, Range: range_block, Disclaimer: disclaimer}


def build(layout: Layout) -> Workbook:
    """The workbook of a layout: its pages in order, then the xlwings.conf sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    for page in layout.pages:
        sheet = Sheet(wb, page.title, list(page.widths), landscape=page.landscape)
        sheet.heading(page.heading, page.subtitle)
        for block in page.blocks:
            RENDER[type(block)](sheet, block)
        sheet.finish(freeze="A4")
    conf_sheet(wb, layout.conf)
    wb.defined_names[PRODUCT_NAME] = DefinedName(PRODUCT_NAME, attr_text=f'"{layout.product}"')
    return wb


GUARD_DIGITS = 3  # cached values keep this many decimals beyond what their cell's format shows


def cached(value, number_format: str):
    """A computed value as a template stores it: to GUARD_DIGITS decimals beyond its format's
    (twelve significant digits for General), so the same build gives the same bytes on any
    machine (greeks by finite differences differ between CPUs in their tenth digit)."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if number_format == "General":
        return float(f"{value:.12g}")
    section = number_format.split(";")[0]
    decimals = len(match[1]) if (match := re.search(r"0\.(0+)", section)) else 0
    return round(value, decimals + (2 if "%" in section else 0) + GUARD_DIGITS) + 0.0


def cached_values(wb: Workbook, path: Path) -> dict[str, dict[str, object]]:
    """Every computed cell of `wb`, saved at `path`, by sheet title and cell, as stored (cached)."""
    from .calculation import (
        Calculation,  # the formulas engine, only where workbooks are computed
    )
    by_upper = {title.upper(): title for title in wb.sheetnames}
    values: dict[str, dict[str, object]] = {}
    for (sheet, ref), value in Calculation(path).calculate().items():
        title = by_upper[sheet]
        values.setdefault(title, {})[ref] = cached(value, wb[title][ref].number_format)
    return values


def write_template(wb: Workbook, path: Path) -> Path:
    """Save `wb` at `path` with every formula's value computed and cached, atomically."""
    path = Path(path)
    staging = path.with_name(f".{path.stem}.staging{path.suffix}")
    try:
        wb.calculation.fullCalcOnLoad = False
        wb.save(staging)
        xlsx.rewrite(staging, cached_values(wb, staging))
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path


def build_templates(folder: Path) -> list[Path]:
    """Rebuild every product's template workbook in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_template(build(product.layout()), folder / product.template) for product in PRODUCTS]
