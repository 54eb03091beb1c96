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
from ..workbooks import xlsx
from .ledger import BUCKETS, EXPLAIN, GREEKS
from .marks import SPOT_MOVES, VOL_SHIFTS

LARGEST = 10  # positions listed by dollar delta
MONEY, GREEK = '#,##0.00;[Red]-#,##0.00', '#,##0.0000;[Red]-#,##0.0000'
BOLD, TITLE = Font(bold=True), Font(bold=True, size=14)
HEADER = PatternFill("solid", fgColor="DDE4EE")
UP, DOWN, TOTAL = "4E9A06", "CC0000", "3465A4"


def write(path: Path, tables: dict, context, paths: dict) -> None:
    """report.xlsx at `path` from the book's tables: the page on sheet Book, the chart's data on
    a hidden sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Book"
    data = book.create_sheet("Chart data")
    data.sheet_state = "hidden"
    mode = "each deal on its flat market" if context.flat else "the surface and curves"
    sheet["A1"] = f"Book on {context.today.as_of.isoformat()}"
    sheet["A1"].font = TITLE
    text(sheet, 2, 1, f"Market {paths['market'].name} ({mode}), spot {context.today.market['spot']:,.2f}; closes "
                      f"{paths['closes'].name}; positions {paths['positions'].name}"
                      + (f"; explain from {paths['previous'].name}" if paths["previous"] else ""))
    row = totals(sheet, 4, tables["risk.csv"])
    if "pnl.csv" in tables:
        row = waterfall(sheet, data, row + 1, tables["pnl.csv"])
    row = heat_map(sheet, row + 1, tables["stress.csv"], context.flat)
    row = largest(sheet, row + 1, tables["positions.csv"])
    failed(sheet, row + 1, tables["positions.csv"])
    for column, width in zip("ABCDEFGHIJKLMNOP", (22, 15, 13, 13, 13, 13, 13, 15, 13, 13, 13, 13, 13, 13, 13, 13)):
        sheet.column_dimensions[column].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    book.save(path)
    xlsx.rewrite(path, {})  # stable timestamps: the same book, the same bytes


def text(sheet, row: int, column: int, value: str):
    """A cell holding `value` as text, whatever it starts with (never a formula)."""
    cell = sheet.cell(row, column, value)
    cell.data_type = "s"
    return cell


def heading(sheet, row: int, title: str, headers) -> int:
    sheet.cell(row, 1, title).font = BOLD
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row + 1, column, header)
        cell.font, cell.fill = BOLD, HEADER
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    return row + 2


def totals(sheet, row: int, risk: list[dict]) -> int:
    names = ("market_value", *GREEKS, "delta_dollars", "cash_settled")
    row = heading(sheet, row, "Totals (greeks in the Excel functions' units, times quantity)",
                  ("", "positions", "failed", *(name.replace("_", " ") for name in names)))
    for record in risk:
        sheet.cell(row, 1, record["scope"])
        sheet.cell(row, 2, record["positions"])
        sheet.cell(row, 3, record["failed"])
        for column, name in enumerate(names, start=4):
            sheet.cell(row, column, record[name]).number_format = MONEY if name in (
                "market_value", "delta_dollars", "cash_settled") else GREEK
        row += 1
    labels = ("0-1 month", "1-3 months", "3-6 months", "6-12 months", "over 12 months")
    row = heading(sheet, row + 1, "Vega of the book by time to each deal's fixing", ("", *labels))
    sheet.cell(row, 1, "vega")
    for column, (name, _) in enumerate(BUCKETS, start=2):
        sheet.cell(row, column, risk[0][name]).number_format = GREEK
    return row + 1


def waterfall(sheet, data, row: int, pnl: list[dict]) -> int:
    """The explain as a table, and as a waterfall chart: each line of the change of value, then
    the cash, as a bar floating from the running total (green up, red down); the total last
    (blue): the P&L with cash, or the change of value where the trade cash is not known."""
    amounts = {record["line"]: record["amount"] for record in pnl}
    notes = {record["line"]: record["note"] for record in pnl}
    top = heading(sheet, row, "P&L explain (from the previous snapshot)", ("line", "amount"))
    lines = ("previous_value", *EXPLAIN, "current_value", "cash_settled", "trade_cash", "pnl_with_cash",
             "positions_excluded")
    for offset, label in enumerate(lines):
        sheet.cell(top + offset, 1, label.replace("_", " "))
        amount = amounts[label]
        cell = sheet.cell(top + offset, 2, amount if amount != "" else "not known")
        cell.number_format = MONEY if label != "positions_excluded" else "0"
        if amount == "":
            text(sheet, top + offset, 3, notes[label]).font = Font(italic=True)
    known = amounts["pnl_with_cash"] != ""
    bars = [(label, amounts[label]) for label in EXPLAIN]
    bars += [(label, amounts[label]) for label in ("cash_settled", "trade_cash")] if known else []
    change = amounts["current_value"] - amounts["previous_value"]
    bars.append(("P&L with cash" if known else "change of value", amounts["pnl_with_cash"] if known else change))
    for column, header in enumerate(("bar", "base", "above 0", "below 0"), start=1):
        data.cell(1, column, header)
    running, colours = 0.0, []
    for offset, (label, amount) in enumerate(bars, start=2):
        total = offset == len(bars) + 1
        start, end = (0.0, amount) if total else (running, running + amount)
        running = end
        low, high = min(start, end), max(start, end)
        base = low if low >= 0 else high if high <= 0 else 0.0
        above = high - low if low >= 0 else 0.0 if high <= 0 else high
        below = 0.0 if low >= 0 else low - high if high <= 0 else low
        for column, value in enumerate((label.replace("_", " "), base, above, below), start=1):
            data.cell(offset, column, value)
        colours.append(TOTAL if total else UP if amount >= 0 else DOWN)
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap, chart.gapWidth = "col", "stacked", 100, 40
    chart.title, chart.legend = "Change of value, line by line" + (", and cash" if known else ""), None
    chart.add_data(Reference(data, min_col=2, max_col=4, min_row=1, max_row=len(bars) + 1), titles_from_data=True)
    chart.set_categories(Reference(data, min_col=1, min_row=2, max_row=len(bars) + 1))
    chart.x_axis.tickLblPos = "low"  # the labels below the plot, whatever the bars' signs
    chart.y_axis.number_format = "#,##0"
    chart.series[0].graphicalProperties.noFill = True
    chart.series[0].graphicalProperties.line.noFill = True
    for series in chart.series[1:]:
        for index, colour in enumerate(colours):
            point = DataPoint(idx=index)
            point.graphicalProperties.solidFill = colour
            series.dPt.append(point)
    chart.height, chart.width = 8, 20
    sheet.add_chart(chart, f"E{row}")
    return max(top + len(lines), row + 16) + 1


def heat_map(sheet, row: int, stress: list[dict], flat: bool) -> int:
    """The stress grid, spot moves down and vol shifts across, coloured from losses (red) to gains (green)."""
    how = "each deal's flat vol shifted" if flat else "the smile moving with the spot"
    top = heading(sheet, row, f"Stress: change of the book's value (full revaluation, {how}; n/a (k): k positions "
                              "could not be valued)",
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
    risky = [record for record in positions if record["status"] != "failed" and record["delta_dollars"]]
    ranked = sorted(risky, key=lambda record: (-abs(record["delta_dollars"]), record["row"]))[:LARGEST]
    row = heading(sheet, row, f"Largest positions by dollar delta ({len(ranked)} of {len(risky)} with a delta)",
                  ("deal_id", "product", "quantity", "status", "market value", "delta $", "vega", "theta"))
    for record in ranked:
        text(sheet, row, 1, record["deal_id"])
        for column, value in enumerate((record["product"], record["quantity"], record["status"],
                                        record["market_value"], record["delta_dollars"], record["vega"],
                                        record["theta"]), start=2):
            cell = sheet.cell(row, column, value)
            if column >= 5:
                cell.number_format = MONEY
        row += 1
    return row


def failed(sheet, row: int, positions: list[dict]) -> int:
    """Every failed position, by reason: the reason once, then the rows and deal_ids it failed."""
    reasons: dict[str, list[dict]] = {}
    for record in positions:
        if record["status"] == "failed":
            reasons.setdefault(record["message"], []).append(record)
    count = sum(len(records) for records in reasons.values())
    sheet.cell(row, 1, f"Failed positions: {count}" if count else "Failed positions: none").font = BOLD
    row += 1
    for message, records in reasons.items():
        rows = ", ".join(f"row {record['row']} ({record['deal_id']})" for record in records)
        cell = text(sheet, row, 1, f"{message}: {rows}")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=12)
        sheet.row_dimensions[row].height = 15 * (1 + len(cell.value) // 180)
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
