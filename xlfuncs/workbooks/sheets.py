"""Building blocks for the template workbooks: styles, labelled fields, array-formula columns,
defined names, charts and print set-up, over openpyxl."""
from __future__ import annotations

import colorsys
import datetime as dt
import re
from functools import lru_cache
from xml.etree import ElementTree

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.packaging.custom import CustomPropertyList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.styles.differential import DifferentialStyleList
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.utils.cell import absolute_coordinate, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidationList
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.properties import PageSetupProperties

MONEY = '"$"#,##0.00'
MONEY_NEGATIVE = '"$"#,##0.00;-"$"#,##0.00'
PERCENT2 = "0.00%"
PERCENT3 = "0.000%"
LEVEL2 = "#,##0.00"
LEVEL3 = "#,##0.000"
LEVEL4 = "#,##0.0000"
DATE = "mmm d, yyyy"
WHOLE = "#,##0"
GREEK = "0.000000"

NAVY = "1F3864"
TITLE_FONT = Font(name="Calibri", size=15, bold=True, color=NAVY)
SUBTITLE_FONT = Font(name="Calibri", size=10, italic=True, color="595959")
SECTION_FONT = Font(name="Calibri", size=11, bold=True, color="FFFFFF")
SECTION_FILL = PatternFill("solid", fgColor=NAVY)
HEADER_FONT = Font(name="Calibri", size=10, bold=True, color=NAVY)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FONT = Font(name="Calibri", size=11, color="0000FF")  # blue: a cell to type into
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
NOTE_FONT = Font(name="Calibri", size=9, italic=True, color="595959")
VALUE_FONT = Font(name="Calibri", size=11)
KEY_FONT = Font(name="Calibri", size=12, bold=True)
HAIR = Side(style="hair", color="A6A6A6")
BOX = Border(left=HAIR, right=HAIR, top=HAIR, bottom=HAIR)


def range_cells(ref: str) -> list[str]:
    """The A1 references of every cell of a range such as B2:C4 (or $B$2:$C$4), row by row."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return [f"{get_column_letter(c)}{r}" for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def define(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    """A workbook-level defined name for an absolute reference on `sheet`."""
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{absolute_coordinate(ref)}")


class Sheet:
    """A worksheet written top to bottom: `row` is the next free row."""

    def __init__(self, wb: Workbook, title: str, widths: list[float], landscape: bool = False):
        self.wb = wb
        self.ws = wb.create_sheet(title)
        self.ws.sheet_view.showGridLines = False
        self.widths = widths
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.page_setup.orientation = "landscape" if landscape else "portrait"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True
        self.ws.page_margins.left = self.ws.page_margins.right = 0.5
        self.row = 1

    @property
    def title(self) -> str:
        return self.ws.title

    def cell(self, row: int, column: int, value=None, fmt: str | None = None, font=VALUE_FONT,
             fill=None, align: str | None = None):
        cell = self.ws.cell(row, column)
        if value is not None:
            cell.value = value
        cell.font = font
        if fmt:
            cell.number_format = fmt
        if fill:
            cell.fill = fill
        if align == "wrap":
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        elif align:
            cell.alignment = Alignment(horizontal=align, vertical="center")
        return cell

    def heading(self, text: str, subtitle: str) -> None:
        self.cell(1, 1, text, font=TITLE_FONT)
        self.cell(2, 1, subtitle, font=SUBTITLE_FONT)
        self.row = 4

    def section(self, text: str) -> None:
        """A navy band across the sheet's columns."""
        for column in range(1, len(self.widths) + 1):
            self.cell(self.row, column, text if column == 1 else None, font=SECTION_FONT, fill=SECTION_FILL)
        self.row += 1

    def note(self, text: str) -> None:
        self.cell(self.row, 1, text, font=NOTE_FONT)
        self.row += 1

    def field(self, label: str, value, fmt: str | None = None, name: str | None = None,
              entry: bool = False, note: str | None = None, key: bool = False, column: int = 2) -> str:
        """A labelled value in `column` (an input when `entry`), optionally named; text (no
        number format) is left-aligned. Returns the value's cell reference."""
        self.cell(self.row, 1, label, font=HEADER_FONT if key else VALUE_FONT)
        cell = self.cell(self.row, column, value, fmt, font=INPUT_FONT if entry else (KEY_FONT if key else VALUE_FONT),
                         fill=INPUT_FILL if entry else None, align="right" if fmt else "left")
        if entry:
            cell.border = BOX
        if note:
            self.cell(self.row, column + 1, note, font=NOTE_FONT)
        if name:
            define(self.wb, name, self.title, cell.coordinate)
        self.row += 1
        return cell.coordinate

    def headers(self, labels: list[str], first_column: int = 1) -> None:
        for offset, label in enumerate(labels):
            self.cell(self.row, first_column + offset, label, font=HEADER_FONT, fill=HEADER_FILL, align="wrap")
        self.ws.row_dimensions[self.row].height = 42
        self.row += 1

    def column(self, column: int, first_row: int, values, fmt: str, name: str | None = None,
               entry: bool = False) -> str:
        """Cells down a column: input values (or formulas, one per cell); returns the range."""
        for offset, value in enumerate(values):
            cell = self.cell(first_row + offset, column, value, fmt, font=INPUT_FONT if entry else VALUE_FONT,
                             fill=INPUT_FILL if entry else None)
            if entry:
                cell.border = BOX
        return self.named_range(column, first_row, len(values), name)

    def array(self, column: int, first_row: int, rows: int, formula: str, fmt: str,
              name: str | None = None, columns: int = 1) -> str:
        """One legacy array formula filling `rows` x `columns` cells (every Excel version and
        the formulas engine evaluate these); returns the range."""
        last = f"{get_column_letter(column + columns - 1)}{first_row + rows - 1}"
        ref = f"{get_column_letter(column)}{first_row}:{last}"
        for r in range(first_row, first_row + rows):
            for c in range(column, column + columns):
                self.cell(r, c, None, fmt)
        self.ws.cell(first_row, column).value = ArrayFormula(ref, formula)
        if name:
            define(self.wb, name, self.title, ref)
        return ref

    def named_range(self, column: int, first_row: int, rows: int, name: str | None) -> str:
        letter = get_column_letter(column)
        ref = f"{letter}{first_row}:{letter}{first_row + rows - 1}"
        if name:
            define(self.wb, name, self.title, ref)
        return ref

    def finish(self, freeze: str | None = None, last_column: int | None = None) -> None:
        """Freeze the panes above/left of `freeze` and print the used rows of the first columns."""
        if freeze:
            self.ws.freeze_panes = freeze
        last = get_column_letter(last_column or len(self.widths))
        self.ws.print_area = f"A1:{last}{max(self.row - 1, 1)}"


def scatter_chart(title: str, sheet: Sheet, x_ref: str, series: list[tuple[str, str]],
                  x_title: str, y_title: str, x_span: tuple[float, float], y_format: str = "0%") -> ScatterChart:
    """Straight-line scatter chart of `series` [(name, y range)] against `x_ref` on `sheet`, its
    x axis over `x_span` and its y axis from -100% (returns cannot fall further), so neither
    shows a return that cannot happen."""
    chart = ScatterChart()
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = x_span
    chart.y_axis.scaling.min = -1.0
    chart.title = title
    chart.style = 2
    chart.height, chart.width = 9, 16
    chart.x_axis.title, chart.y_axis.title = x_title, y_title
    chart.x_axis.number_format, chart.y_axis.number_format = "0%", y_format
    chart.x_axis.majorGridlines = None
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.tickLblPos = chart.y_axis.tickLblPos = "low"  # labels at the edges, not across the lines
    chart.legend.position = "b"
    x_values = Reference(sheet.ws, range_string=f"'{sheet.title}'!{x_ref}")
    for name, y_ref in series:
        line = Series(Reference(sheet.ws, range_string=f"'{sheet.title}'!{y_ref}"), x_values, title=name)
        line.marker.symbol = "none"
        line.smooth = False
        line.graphicalProperties.line.width = 28575  # 2.25 pt
        chart.series.append(line)
    return chart


def print_ranges(ws) -> list[tuple[int, int, int, int]]:
    """(first column, first row, last column, last row) of each range of a sheet's print area
    (whole columns or rows reach the sheet's edge)."""
    ranges = []
    for part in (ws.print_area or "").split(","):
        if part.strip():
            low_col, low_row, high_col, high_row = range_boundaries(part.split("!")[-1].replace("$", ""))
            ranges.append((low_col or 1, low_row or 1, high_col or 16384, high_row or 1048576))
    return ranges


def printed(ws, cell) -> bool:
    """Whether a cell prints (see why_not_printed)."""
    return why_not_printed(ws, cell) is None


def why_not_printed(ws, cell) -> str | None:
    """Why a cell does not print, or None: outside the print area (the whole sheet without one),
    its row or column hidden or squeezed, its content invisible (hidden by its format, in a
    colour too close to its background, in a font too small to read)."""
    ranges = print_ranges(ws)
    if ranges and not any(c0 <= cell.column <= c1 and r0 <= cell.row <= r1 for c0, r0, c1, r1 in ranges):
        return "it is outside the print area"
    row, column = ws.row_dimensions[cell.row], column_dimension(ws, cell.column)
    if row.hidden or row_height(ws, cell.row) < 8:
        return f"its row is hidden or {row_height(ws, cell.row):g} points high"
    if (column and column.hidden) or column_chars(ws, cell.column) < 2:
        return f"its column is hidden or {column_chars(ws, cell.column):g} characters wide"
    if contrast(cell) < 1.5:
        return f"its text has a contrast of {contrast(cell):.1f} to 1 with its background"
    if font_size(cell) < 4:
        return f"its font is {font_size(cell):g} points"
    if re.fullmatch(r";;;?", cell.number_format or ""):
        return "its number format hides it"
    return None


def row_height(ws, row: int) -> float:
    """A row's height in points: its own, or the sheet's default."""
    dimension = ws.row_dimensions.get(row)
    return (dimension.height if dimension else None) or ws.sheet_format.defaultRowHeight or 15


def column_chars(ws, index: int) -> float:
    """A column's width in digits of the default font: its own, or the sheet's default."""
    return getattr(column_dimension(ws, index), "width", None) or ws.sheet_format.defaultColWidth or 8.43


MM = 72 / 25.4
# SpreadsheetML's paper sizes, in points: Letter (the default), Letter small, Tabloid, Ledger, Legal,
# Statement, Executive, A3, A4, A4 small, A5, B4, B5, Folio
PAPER_POINTS = {1: (612, 792), 2: (612, 792), 3: (792, 1224), 4: (1224, 792), 5: (612, 1008), 6: (396, 612),
                7: (522, 756), 8: (297 * MM, 420 * MM), 9: (210 * MM, 297 * MM), 10: (210 * MM, 297 * MM),
                11: (148 * MM, 210 * MM), 12: (257 * MM, 364 * MM), 13: (182 * MM, 257 * MM), 14: (612, 936)}


def page_scale(ws) -> float:
    """How much printing a sheet's print area (with its print titles) on one page shrinks it (1:
    not at all; Excel shrinks to 10% at most): its columns' and rows' size in points against the
    paper's inside the margins. The paper must be one of PAPER_POINTS."""
    ranges = print_ranges(ws) or [(1, 1, ws.max_column, ws.max_row)]
    low_col, low_row = min(r[0] for r in ranges), min(r[1] for r in ranges)
    high_col, high_row = min(max(r[2] for r in ranges), ws.max_column), min(max(r[3] for r in ranges), ws.max_row)
    columns, rows = set(range(low_col, high_col + 1)), set(range(low_row, high_row + 1))
    for titles, into, index in ((ws.print_title_cols, columns, column_index_from_string),
                                (ws.print_title_rows, rows, int)):
        if titles:
            first, _, last = titles.replace("$", "").partition(":")
            into.update(range(index(first), index(last or first) + 1))
    width = sum(0 if (dimension := column_dimension(ws, index)) and dimension.hidden else
                (column_chars(ws, index) * 7 + 5) * 0.75 for index in columns)
    height = sum(0 if ws.row_dimensions[index].hidden else row_height(ws, index) for index in rows)
    paper = PAPER_POINTS[int(ws.page_setup.paperSize or 1)]
    if ws.page_setup.orientation == "landscape":
        paper = paper[::-1]
    margins = ws.page_margins
    room = ((paper[0] - 72 * ((margins.left or 0) + (margins.right or 0))),
            (paper[1] - 72 * ((margins.top or 0) + (margins.bottom or 0))))
    return max(0.1, min(1.0, room[0] / max(width, 1), room[1] / max(height, 1)))


# Excel's default theme, by the index SpreadsheetML gives it (background 1, text 1, background 2,
# text 2, six accents, hyperlink, followed hyperlink); a workbook's own theme replaces it.
THEME = ("FFFFFF", "000000", "E7E6E6", "44546A", "4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47",
         "0563C1", "954F72")
THEME_SLOTS = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
               "hlink", "folHlink")
DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


@lru_cache(maxsize=16)
def theme_colors(theme: bytes | None) -> tuple[str | None, ...]:
    """A workbook's theme colours, by index (its theme part, as openpyxl keeps it; already checked
    free of DTDs and entities), Excel's default where it gives none, None where it gives one
    this cannot read."""
    scheme = ElementTree.fromstring(theme).find(f".//{DRAWING}clrScheme") if theme else None
    if scheme is None:
        return THEME
    return tuple(scheme_color(scheme.find(f"{DRAWING}{slot}"), default) for slot, default in zip(THEME_SLOTS, THEME))


def scheme_color(slot, default: str) -> str | None:
    """A theme slot's RRGGBB: an sRGB value, a system colour (window white, text black, others
    as last seen), white or black by name, with a luminance modulation and offset in whole
    thousandths of a percent (up to 100 times); None for any other form."""
    if slot is None or not len(slot):
        return default
    color, tag = slot[0], slot[0].tag.replace(DRAWING, "")
    named = {"window": "FFFFFF", "windowText": "000000", "white": "FFFFFF", "black": "000000"}
    value = (color.get("val", "") if tag == "srgbClr" else named.get(color.get("val", ""), color.get("lastClr"))
             if tag == "sysClr" else named.get(color.get("val", "")) if tag == "prstClr" else None)
    if not value or not re.fullmatch(r"[0-9A-Fa-f]{6}", value):
        return None
    changes = {child.tag.replace(DRAWING, ""): child.get("val", "") for child in color}
    if set(changes) - {"lumMod", "lumOff"} or not all(re.fullmatch(r"-?[0-9]{1,7}", v) for v in changes.values()):
        return None
    changes = {name: int(v) / 100000 for name, v in changes.items()}
    if changes:
        hue, lightness, saturation = colorsys.rgb_to_hls(*(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)))
        lightness = min(max(lightness * changes.get("lumMod", 1) + changes.get("lumOff", 0), 0), 1)
        value = "".join(f"{round(c * 255):02X}" for c in colorsys.hls_to_rgb(hue, lightness, saturation))
    return value.upper()


def rgb(color, default: str, theme: tuple[str, ...] = THEME) -> str:
    """A colour's RRGGBB: explicit, from the `theme` or the indexed palette, lightened or
    darkened by its tint as Excel does; `default` when automatic."""
    if color is None:
        return default
    if color.type == "rgb" and isinstance(color.rgb, str):
        base = color.rgb[-6:].upper()
    elif color.type == "theme" and color.theme is not None and color.theme < len(theme) and theme[color.theme]:
        base = theme[color.theme]
    elif color.type == "indexed" and color.indexed is not None and color.indexed < len(COLOR_INDEX):
        base = COLOR_INDEX[color.indexed][-6:].upper()
    else:
        return default
    tint = float(color.tint or 0)
    if not tint:
        return base
    hue, lightness, saturation = colorsys.rgb_to_hls(*(int(base[i:i + 2], 16) / 255 for i in (0, 2, 4)))
    lightness = lightness * (1 + tint) if tint < 0 else lightness * (1 - tint) + tint
    return "".join(f"{round(channel * 255):02X}" for channel in colorsys.hls_to_rgb(hue, lightness, saturation))


def backgrounds(cell, theme: tuple[str, ...] = THEME) -> tuple[str, ...]:
    """The colours behind a cell's text: white without a fill, a solid fill's colour, a pattern's
    two colours blended by how much it covers (half for the striped and hatched ones), every
    stop of a gradient."""
    fill = cell.fill
    kind = getattr(fill, "fill_type", None) or getattr(fill, "type", None)
    if kind in (None, "none"):
        return ("FFFFFF",)
    if kind == "solid":
        return (rgb(fill.fgColor, "FFFFFF", theme),)
    if hasattr(fill, "stop"):
        return tuple(rgb(stop.color, "FFFFFF", theme) for stop in fill.stop) or ("FFFFFF",)
    cover = PATTERN_COVER.get(kind, 0.5)
    front, back = rgb(fill.fgColor, "000000", theme), rgb(fill.bgColor, "FFFFFF", theme)
    return ("".join(f"{round(cover * int(front[i:i + 2], 16) + (1 - cover) * int(back[i:i + 2], 16)):02X}"
                    for i in (0, 2, 4)),)


# How much of a cell a pattern covers in its foreground colour (the rest shows its background).
PATTERN_COVER = {"darkGray": 0.75, "mediumGray": 0.5, "lightGray": 0.25, "gray125": 0.125, "gray0625": 0.0625}


def luminance(hex_rgb: str) -> float:
    channels = [int(hex_rgb[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(cell) -> float:
    """The contrast ratio of a cell's text against its background (1 to 21, as WCAG measures it),
    in its workbook's theme; against the closest of a gradient fill's colours."""
    theme = theme_colors(getattr(cell.parent.parent, "loaded_theme", None))
    text = luminance(rgb(cell.font.color if cell.font else None, "000000", theme))
    return min((max(luminance(back), text) + 0.05) / (min(luminance(back), text) + 0.05)
               for back in backgrounds(cell, theme))


def font_size(cell) -> float:
    """A cell's font size in points as its digits print: a superscript or subscript at 60%."""
    size = float(cell.font.sz or 11) if cell.font else 11.0
    return size * 0.6 if cell.font and cell.font.vertAlign in ("superscript", "subscript") else size


def column_dimension(ws, index: int):
    """The column dimension that covers column `index` (openpyxl keeps a group under its first)."""
    for dimension in ws.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= index <= dimension.max:
            return dimension
    return None


KEY_NUMBERS = ("EstimatedValue", "Breakeven")  # what a client quote must show, as the summary reports them
CURRENCY = r'(?:"\$"|\\\$|\[\$\$-409\]|\$)'
POSITIVE = rf'(?:_\(|_\))?{CURRENCY}?(?:\* )?(?:#,##)?0\.00+(?:_\)|_\()?'  # 978.12 as it is: to the cent
PLAIN_FORMAT = re.compile(rf'General|{POSITIVE}(?:;[^;]*[-(][^;]*(?:;.*)?)?')  # a negative one shows its sign


def key_cells(ws) -> dict[str, list]:
    """The printed cells of a quote sheet that show each KEY_NUMBERS name (=EstimatedValue)."""
    found = {name: [] for name in KEY_NUMBERS}
    for row in ws.iter_rows():
        for cell in row:
            name = cell.value[1:] if isinstance(cell.value, str) and cell.value.startswith("=") else None
            if name in found and printed(ws, cell):
                found[name].append(cell)
    return found


CHART_DATA = "Chart data"  # a client page's hidden sheet with its charts' source cells


STRING = re.compile(r'("[^"]*")')  # quoted text in a formula (a doubled quote splits it in two, to the same effect)


def quoted_text(formula: str | None) -> str | None:
    """The text a formula that is only quoted text gives ("The Securities" gives The Securities), else None."""
    match = STRING.fullmatch(formula or "")
    return match.group(1)[1:-1] if match else None


def series_sources(chart) -> list:
    """The references (numRef / strRef objects) a chart's series take values or names from (a
    name given as a quoted text, as LibreOffice writes one, is no reference)."""
    return [ref for series in chart.series for source in (series.val, series.xVal, series.yVal, series.cat, series.tx)
            for ref in (getattr(source, "numRef", None), getattr(source, "strRef", None))
            if ref is not None and quoted_text(ref.f) is None]


def client_document(wb: Workbook, title: str) -> set[str]:
    """Make sheet `title` a finished one-page document holding what it prints and its charts'
    data, nothing else: input cells styled as ordinary values (no fill, no box, black text), no
    comments, conditional formats or data validations, fitted to one page; a chart source that
    does not print moved, at the same addresses, to a hidden CHART_DATA sheet the charts plot;
    every other cell that does not print (beside or below the page, in a hidden row or column,
    invisible) removed. Returns the cells moved to CHART_DATA."""
    ws = wb[title]
    ws.conditional_formatting = ConditionalFormattingList()  # a document of values: no rules, no
    ws.data_validations = DataValidationList()  # validations, no comments for the client
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None:
                cell.comment = None
            if backgrounds(cell) == (INPUT_FILL.fgColor.rgb[-6:],):
                cell.fill, cell.border, cell.font = PatternFill(), Border(), VALUE_FONT
    ws.page_setup.fitToHeight = 1
    data = wb.create_sheet(CHART_DATA)
    data.sheet_state = "hidden"
    source_sheet = re.compile(rf"^({re.escape(quote_sheetname(title))}|{re.escape(title)})!")
    moved = set()
    for chart in ws._charts:  # openpyxl keeps a loaded sheet's charts here only
        chart.visible_cells_only = False
        for ref in series_sources(chart):
            on_sheet = source_sheet.match(ref.f or "")
            cells = on_sheet and [ws[coordinate] for coordinate in range_cells(ref.f[on_sheet.end():])]
            if cells and not all(printed(ws, cell) for cell in cells):
                for cell in cells:
                    data.cell(cell.row, cell.column, cell.value).number_format = cell.number_format
                    moved.add(cell.coordinate)
                ref.f = f"{quote_sheetname(CHART_DATA)}!{ref.f[on_sheet.end():]}"  # the moved cells
            for cache in ("numCache", "strCache"):  # no numbers of the template's own
                if hasattr(ref, cache):
                    setattr(ref, cache, None)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell, MergedCell):
                continue
            if cell.value is not None and not printed(ws, cell):
                cell.value, cell.number_format = None, "General"
            cell.hyperlink = None  # a link's address and tooltip are no part of the page
    ws._hyperlinks = []
    one_page(ws)
    last = max((high for _, _, high, _ in print_ranges(ws)), default=None)
    for index in range(last + 1, ws.max_column + 1) if last else ():
        ws.column_dimensions.pop(get_column_letter(index), None)
    scrub(wb)
    return moved


def one_page(ws) -> None:
    """Print a sheet on one page: fitted to it, its print area one range (the smallest holding
    all of its ranges; what lies between them prints nothing, as it was removed), and no page
    header or footer that does not print (an even page's, a first page's)."""
    ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = 1
    ws.page_setup.scale = None
    ws.page_setup.useFirstPageNumber, ws.page_setup.firstPageNumber = None, None  # page numbers print no constant
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ranges = print_ranges(ws)
    if len(ranges) > 1:
        ws.print_area = (f"{get_column_letter(min(r[0] for r in ranges))}{min(r[1] for r in ranges)}:"
                         f"{get_column_letter(max(r[2] for r in ranges))}{max(r[3] for r in ranges)}")
    for kind, used in (("even", ws.HeaderFooter.differentOddEven), ("first", ws.HeaderFooter.differentFirst)):
        if not used:
            setattr(ws.HeaderFooter, f"{kind}Header", HeaderFooterItem())
            setattr(ws.HeaderFooter, f"{kind}Footer", HeaderFooterItem())


def scrub(wb: Workbook) -> None:
    """Drop what a client workbook would carry besides its page: custom document properties,
    number formats no cell left uses, named styles' names, conditional formats' styles."""
    wb.custom_doc_props = CustomPropertyList()
    used = {cell.number_format for ws in wb.worksheets for row in ws.iter_rows() for cell in row}
    for index, code in enumerate(wb._number_formats):
        if code not in used:
            list.__setitem__(wb._number_formats, index, "General")  # ids of the others kept
    for number, style in enumerate(wb._named_styles):
        if style.name != "Normal":
            style.name = f"Style {number}"
    wb._differential_styles = DifferentialStyleList()


def conf_sheet(wb: Workbook, settings: dict[str, str]) -> None:
    """The `xlwings.conf` sheet the classic add-in reads (the functions' module, for one),
    hidden so it never prints as a page of its own (xlwings reads hidden sheets alike)."""
    ws = wb.create_sheet("xlwings.conf")
    ws.sheet_state = "hidden"
    for row, (key, value) in enumerate(settings.items(), start=1):
        ws.cell(row, 1, key)
        ws.cell(row, 2, value)
    ws.column_dimensions["A"].width = 16


def excel_date(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())
