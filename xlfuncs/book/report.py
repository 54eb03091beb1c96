"""The book's one-page report: totals, the P&L explain as a waterfall chart, the stress grid as a
heat map, the largest positions by risk and every failed position (report.xlsx, printed to
report.pdf by LibreOffice with --pdf)."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.marker import DataPoint
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill

from ..batch import pdf
from ..batch.deals import DealListError
from ..batch.quote_files import safe_text
from .ledger import EXPLAIN, GREEKS
from .marks import SPOT_MOVES, VOL_SHIFTS

LARGEST = 10  # positions listed by dollar delta
MONEY, GREEK, PERCENT = '#,##0.00;[Red]-#,##0.00', '#,##0.0000;[Red]-#,##0.0000', '0%'
BOLD, TITLE, SMALL = Font(bold=True), Font(bold=True, size=14), Font(size=8, color="808080")
HEADER = PatternFill("solid", fgColor="DDE4EE")


def write(path: Path, tables: dict, context, paths: dict) -> None:
    """report.xlsx at `path` from the book's tables."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Book"
    mode = "flat vol per deal (at the money to its fixing)" if context.flat else "vol surface and curves"
    sheet["A1"] = f"Book on {context.today.as_of.isoformat()}"
    sheet["A1"].font = TITLE
    sheet["A2"] = (f"Market {paths['market'].name} ({mode}), spot {context.today.market['spot']:,.2f}; closes "
                   f"{paths['closes'].name}; positions {paths['positions'].name}"
                   + (f"; explain from {paths['previous'].name}" if paths["previous"] else ""))
    row = 4
    row = totals(sheet, row, tables["risk.csv"])
    if "pnl.csv" in tables:
        row = waterfall(sheet, row + 1, tables["pnl.csv"])
    row = heat_map(sheet, row + 1, tables["stress.csv"])
    row = largest(sheet, row + 1, tables["positions.csv"])
    failed(sheet, row + 1, tables["positions.csv"])
    for column, width in zip("ABCDEFGHIJKL", (22, 15, 13, 13, 13, 13, 13, 15, 13, 13, 13, 13)):
        sheet.column_dimensions[column].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    book.save(path)


def heading(sheet, row: int, text: str, headers) -> int:
    sheet.cell(row, 1, text).font = BOLD
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row + 1, column, header)
        cell.font, cell.fill = BOLD, HEADER
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    return row + 2


def totals(sheet, row: int, risk: list[dict]) -> int:
    names = ("market_value", *GREEKS, "delta_dollars", "cash_settled")
    row = heading(sheet, row, "Totals (greeks in the Excel functions' units, times quantity)",
                  ("", "positions", "failed", *names))
    for record in risk:
        sheet.cell(row, 1, record["scope"])
        sheet.cell(row, 2, record["positions"])
        sheet.cell(row, 3, record["failed"])
        for column, name in enumerate(names, start=4):
            sheet.cell(row, column, record[name]).number_format = MONEY if name in (
                "market_value", "delta_dollars", "cash_settled") else GREEK
        row += 1
    buckets = [name for name in risk[0] if name.startswith("vega_")]
    row = heading(sheet, row + 1, "Vega by expiry (book)", ("", *(name[5:].replace("_", " ") for name in buckets)))
    sheet.cell(row, 1, "vega")
    for column, name in enumerate(buckets, start=2):
        sheet.cell(row, column, risk[0][name]).number_format = GREEK
    return row + 1


def waterfall(sheet, row: int, pnl: list[dict]) -> int:
    """The explain as a table, and as a waterfall chart of the change: each line a bar floating
    from the running total (green up, red down), the total change last (blue)."""
    amounts = {record["line"]: record["amount"] for record in pnl}
    top = heading(sheet, row, "P&L explain (from the previous snapshot)", ("line", "amount", "", "", "", ""))
    for offset, label in enumerate(("previous_value", *EXPLAIN, "current_value", "cash_settled", "pnl_with_cash",
                                    "positions_excluded")):
        sheet.cell(top + offset, 1, label.replace("_", " "))
        sheet.cell(top + offset, 2, amounts[label]).number_format = MONEY if label != "positions_excluded" else "0"
    bars = [(label, amounts[label]) for label in EXPLAIN] + [("change", amounts["current_value"]
                                                                - amounts["previous_value"])]
    data_row = top + len(EXPLAIN) + 7  # the chart's data, below the table, in small grey print
    for column, header in enumerate(("bar", "base", "above 0", "below 0"), start=1):
        sheet.cell(data_row, column, header).font = SMALL
    running, colours = 0.0, []
    for offset, (label, amount) in enumerate(bars, start=1):
        start, end = (0.0, amount) if label == "change" else (running, running + amount)
        running = end
        low, high = min(start, end), max(start, end)
        base = low if low >= 0 else high if high <= 0 else 0.0
        above = high - low if low >= 0 else 0.0 if high <= 0 else high
        below = 0.0 if low >= 0 else low - high if high <= 0 else low
        for column, value in enumerate((label.replace("_", " "), base, above, below), start=1):
            cell = sheet.cell(data_row + offset, column, value)
            cell.font = SMALL
            if column > 1:
                cell.number_format = MONEY
        colours.append("3465A4" if label == "change" else "4E9A06" if amount >= 0 else "CC0000")
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap, chart.gapWidth = "col", "stacked", 100, 40
    chart.title, chart.legend = "Change of value, line by line", None
    chart.add_data(Reference(sheet, min_col=2, max_col=4, min_row=data_row, max_row=data_row + len(bars)),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=data_row + 1, max_row=data_row + len(bars)))
    chart.series[0].graphicalProperties.noFill = True
    chart.series[0].graphicalProperties.line.noFill = True
    for series in chart.series[1:]:
        for index, colour in enumerate(colours):
            point = DataPoint(idx=index)
            point.graphicalProperties.solidFill = colour
            series.dPt.append(point)
    chart.height, chart.width = 7.5, 17
    sheet.add_chart(chart, f"G{row}")
    return max(data_row + len(bars), row + 15) + 1


def heat_map(sheet, row: int, stress: list[dict]) -> int:
    """The stress grid, spot moves down and vol shifts across, coloured from losses (red) to gains (green)."""
    top = heading(sheet, row, "Stress: change of the book's value (full revaluation; n/a: some positions not valued)",
                  ("spot move", *(f"vol {shift * 100:+.0f} pts" for shift in VOL_SHIFTS)))
    cells = {(record["spot_move"], record["vol_shift"]): record for record in stress}
    for i, move in enumerate(SPOT_MOVES):
        sheet.cell(top + i, 1, move).number_format = '+0%;-0%;0%'
        for j, shift in enumerate(VOL_SHIFTS):
            record = cells[(move, shift)]
            value = record["value_change"] if not record["positions_not_valued"] else \
                f"n/a ({record['positions_not_valued']})"
            sheet.cell(top + i, 2 + j, value).number_format = MONEY
    last = top + len(SPOT_MOVES) - 1
    sheet.conditional_formatting.add(f"B{top}:{chr(ord('A') + len(VOL_SHIFTS))}{last}", ColorScaleRule(
        start_type="min", start_color="F8696B", mid_type="num", mid_value=0, mid_color="FFFFFF", end_type="max",
        end_color="63BE7B"))
    return last + 1


def largest(sheet, row: int, positions: list[dict]) -> int:
    valued = [record for record in positions if record["status"] != "failed"]
    ranked = sorted(valued, key=lambda record: (-abs(record["delta_dollars"]), record["row"]))[:LARGEST]
    row = heading(sheet, row, f"Largest positions by dollar delta (of {len(valued)})",
                  ("deal_id", "product", "quantity", "status", "market value", "delta $", "vega", "theta"))
    for record in ranked:
        for column, value in enumerate((safe_text(record["deal_id"]), record["product"], record["quantity"],
                                        record["status"], record["market_value"], record["delta_dollars"],
                                        record["vega"], record["theta"]), start=1):
            cell = sheet.cell(row, column, value)
            if column >= 5:
                cell.number_format = MONEY
        row += 1
    return row


def failed(sheet, row: int, positions: list[dict]) -> int:
    bad = [record for record in positions if record["status"] == "failed"]
    sheet.cell(row, 1, f"Failed positions: {len(bad)}" if bad else "Failed positions: none").font = BOLD
    row += 1
    for record in bad:
        sheet.cell(row, 1, f"row {record['row']}")
        sheet.cell(row, 2, safe_text(record["deal_id"]))
        sheet.cell(row, 3, safe_text(record["message"])).alignment = Alignment(wrap_text=False)
        row += 1
    return row


def print_pdf(soffice: str, folder: Path, name: str) -> None:
    """`folder`/report.pdf printed from `folder`/`name` by LibreOffice, or a DealListError saying why not."""
    staging = Path(tempfile.mkdtemp(prefix=pdf.STAGING, dir=folder))
    try:
        batch = pdf.Batch(soffice, [{"output": name}], folder, staging, 0)
        while batch.running():
            time.sleep(0.05)
        problem = batch.problem() if batch.process.poll() is not None else "LibreOffice did not finish in time"
        batch.stop()
        printed = staging / (Path(name).stem + ".pdf")
        if not printed.is_file():
            raise DealListError(f"report.pdf could not be made: {problem or 'LibreOffice wrote no PDF'}")
        shutil.move(printed, folder / (Path(name).stem + ".pdf"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)

