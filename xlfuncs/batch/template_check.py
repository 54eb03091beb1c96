"""Templates from outside (`--template`): checked before any quote is made, so a template can
neither pull other files' data into client quotes nor exhaust the machine, and a template for
another product or without the names a deal fills is refused with a message, not a traceback.
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
import zipfile
from pathlib import Path

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell

from ..excel.functions import CALENDAR_FUNCTIONS
from ..products import PRODUCTS
from ..products.layout import CLIENT, MARKET_NAMES, PRODUCT_NAME
from ..products.product import Product
from ..workbooks import xlsx
from ..workbooks.sheets import (
    PAPER_POINTS,
    PLAIN_FORMAT,
    STRING,
    THEME_SLOTS,
    column_chars,
    contrast,
    font_size,
    key_cells,
    page_scale,
    printed,
    quoted_text,
    range_cells,
    row_height,
    series_sources,
    theme_colors,
    why_not_printed,
)
from .deals import DealListError
from .quote_sheet import QUOTE
from .quote_sheet import formulas as cell_formulas

SYMBOL_FONTS = {"wingdings", "wingdings2", "wingdings3", "webdings", "symbol", "marlett", "zapfdingbats",
                "mtextra", "bookshelfsymbol7", "msreferencespecialty"}
SPAN_ROWS, SPAN_COLUMNS = 5_000, 1_000  # beyond any page a quote prints: a drawing's size stops counting
TOUCH = 2  # points a drawing may reach into a cell without covering it
KEY_POINTS = 7  # the smallest the key numbers may print, in points (the layout's: 8.8 and 8.0)
MAX_PARTS = 500
MAX_PART_BYTES = 20_000_000  # uncompressed (an image); our templates' largest part is about 100 kB
MAX_XML_BYTES = 5_000_000  # an XML part (parsed, so it also bounds the time to load)
MAX_TOTAL_BYTES = 50_000_000
EXTERNAL = re.compile(r"\[[^\]]*\]|\b(INDIRECT|WEBSERVICE|FILTERXML|RTD|CALL|REGISTER\.ID|STOCKHISTORY|IMAGE|"
                      r"CUBE[A-Z]*|FIELDVALUE)\(|\|",
                      re.IGNORECASE)  # [book]Sheet!A1, [1]Sheet!A1, functions that reach outside, DDE (app|topic)
OUTSIDE_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/", "xl/pivotcache", "xl/embeddings/",
                 "xl/activex/", "customxml/")  # links, data connections and queries, pivot caches, OLE objects
CALENDAR = {function.name for function in CALENDAR_FUNCTIONS}
OUR_FUNCTIONS = {function.name for product in PRODUCTS for function in product.functions} | CALENDAR
CALLS = re.compile(r"\b([A-Z][A-Z0-9_.]*)\(")


def refuse(path: Path, reason: str) -> DealListError:
    return DealListError(f"{path}: {reason}")


def check_package(path: Path) -> None:
    """A zip of sane size whose XML parts parse without DTDs or entities and hold no external
    links or relationships other than hyperlinks."""
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            if len(infos) > MAX_PARTS:
                raise refuse(path, f"has {len(infos)} parts; a template has at most {MAX_PARTS}")
            total = sum(info.file_size for info in infos)
            largest = max(infos, key=lambda info: info.file_size, default=None)
            if largest and largest.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES:
                raise refuse(path, f"unpacks to {total:,} bytes (part {largest.filename}: {largest.file_size:,}); "
                                   f"a template unpacks to at most {MAX_TOTAL_BYTES:,}, each part "
                                   f"{MAX_PART_BYTES:,}")
            for info in infos:
                name = info.filename
                if name.endswith((".xml", ".rels")) and info.file_size > MAX_XML_BYTES:
                    raise refuse(path, f"part {name} unpacks to {info.file_size:,} bytes; an XML part of a template "
                                       f"is at most {MAX_XML_BYTES:,}")
                if name.lower().startswith("xl/externallinks/"):
                    raise refuse(path, f"links to other workbooks ({name}); remove the links (Data > Edit Links "
                                       f"> Break Link) and save it again")
                if name.lower().startswith(OUTSIDE_PARTS):
                    raise refuse(path, f"holds {name}: a template may hold no data connections, queries, pivot "
                                       f"caches or embedded objects")
                if not name.endswith((".xml", ".rels")):
                    continue
                root = safe_xml.fromstring(package.read(info), forbid_dtd=True)
                if name.endswith(".rels"):
                    for relation in root:
                        kind = relation.get("Type", "").rsplit("/", 1)[-1]
                        if relation.get("TargetMode") == "External" and kind != "hyperlink":
                            raise refuse(path, f"refers to an outside {kind} ({relation.get('Target')}) in {name}")
    except DealListError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, DefusedXmlException, safe_xml.ParseError) as error:
        raise refuse(path, f"cannot be read safely: {type(error).__name__}: {error}") from None


def check_template(path: Path, product: Product) -> None:
    """Refuse (DealListError) a template that is unsafe, is not the product's (its PRODUCT_NAME
    and the functions it calls), references other workbooks, or does not name each input a
    deal of the product fills as one cell or column, and the client cell."""
    path = Path(path)
    if not path.is_file():
        raise refuse(path, f"no {product.key} template there")
    check_package(path)
    try:
        wb = load_workbook(path)
    except Exception as error:  # openpyxl wraps the cause; report the first one
        cause = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        raise refuse(path, f"cannot be read safely: {type(cause).__name__}: {cause}") from None
    if "Quote" not in wb.sheetnames:
        raise refuse(path, "a template needs a Quote sheet")
    if wb["Quote"].sheet_state != "visible":
        raise refuse(path, "its Quote sheet is hidden; a client quote is that sheet, so it must be visible")
    named = wb.defined_names.get(PRODUCT_NAME)
    key = named.attr_text if named else None
    if key != f'"{product.key}"':
        raise refuse(path, f"is not a {product.key} template (its {PRODUCT_NAME} name is {key})")
    used = set()
    for where, text in formulas(wb):
        if EXTERNAL.search(STRING.sub('""', text)):
            raise refuse(path, f"{where} refers outside the workbook ({text[:80]}); a template may use only "
                               f"its own cells")
        used.update(name.upper() for name in CALLS.findall(STRING.sub('""', text)))
    others = sorted((used & OUR_FUNCTIONS) - {function.name for function in product.functions} - CALENDAR)
    if others:
        raise refuse(path, f"is not a {product.key} template: it calls {', '.join(others)}")
    for number, chart in enumerate(wb["Quote"]._charts, start=1):  # openpyxl keeps a sheet's charts here only
        for ref in chart_references(chart):
            if not re.match(r"^('Quote'|Quote)!", ref):
                raise refuse(path, f"its Quote sheet's chart {number} plots {ref}; a client quote may plot only "
                                   f"its own page's cells")
    unreadable = [slot for slot, color in zip(THEME_SLOTS, theme_colors(wb.loaded_theme)) if color is None]
    if unreadable:
        raise refuse(path, f"its theme gives the colour {unreadable[0]} in a form the check cannot read; give it as "
                           "an RGB value (srgbClr) or a system colour")
    setup = wb["Quote"].page_setup
    if setup.paperWidth or setup.paperHeight:
        raise refuse(path, f"its Quote sheet prints on a paper of its own size ({setup.paperWidth} x "
                           f"{setup.paperHeight}); choose one of the standard sizes")
    paper = setup.paperSize
    if paper is not None and int(paper) not in PAPER_POINTS:
        raise refuse(path, f"its Quote sheet prints on paper size {paper}, which the check cannot measure: use "
                           "Letter, Legal, Tabloid, Ledger, Statement, Executive, Folio, A3, A4, A5, B4 or B5")
    scale = page_scale(wb["Quote"])
    for name, cells in key_cells(wb["Quote"]).items():
        if not cells:
            reasons = [f"Quote!{cell.coordinate} does not print: {why_not_printed(wb['Quote'], cell)}"
                       for row in wb["Quote"].iter_rows() for cell in row if cell.value == f"={name}"]
            raise refuse(path, f"its Quote sheet must show ={name} in a printed cell (inside its print area, "
                               f"legible){'; ' + reasons[0] if reasons else ''}")
        for cell in cells:
            if not PLAIN_FORMAT.fullmatch(cell.number_format):
                raise refuse(path, f"Quote!{cell.coordinate} shows {name} with the number format "
                                   f"{cell.number_format!r}; it must show the number as it is (like #,##0.00)")
            if contrast(cell) < 3 or font_size(cell) * scale < KEY_POINTS:
                raise refuse(path, f"Quote!{cell.coordinate} shows {name} too faint or too small to read "
                                   f"(contrast {contrast(cell):.1f} to 1, {font_size(cell):g} points printed at "
                                   f"{scale:.0%} to fit its print area on one page; at least 3 to 1 and "
                                   f"{KEY_POINTS} points as printed)")
    for name in [*(field.defined_name for field in product.deal_fields.values()), CLIENT]:
        defined = wb.defined_names.get(name)
        destinations = list(defined.destinations) if defined else []
        if len(destinations) != 1 or not single_column(destinations[0][1]):
            raise refuse(path, f"a {product.key} template must name one cell or one column of cells {name}")
    PrintedPage(path, wb, product).check()


def chart_references(chart) -> list[str]:
    """Every cell reference a chart's series take values or names from."""
    return [ref.f for ref in series_sources(chart) if ref.f]


def named_cells(wb) -> dict[str, tuple[str, list[str]]]:
    """A workbook's names of one range: {name: (sheet, [A1, ...])}."""
    found = {}
    for name, defined in wb.defined_names.items():
        destinations = list(defined.destinations) if defined.attr_text and "!" in defined.attr_text else []
        if len(destinations) == 1:
            found[name] = (destinations[0][0], range_cells(destinations[0][1]))
    return found


def meaning(texts: dict, arrays: dict, sheet: str, refs: list[str]):
    """What a named range holds: its formula text (one cell's, or one array formula's over the
    whole range), or None for constants; "mixed" for anything else."""
    if len(refs) == 1:
        return texts.get((sheet, refs[0]))
    if arrays.get((sheet, refs[0])) == refs:
        return texts[(sheet, refs[0])]
    return "mixed" if any((sheet, ref) in texts for ref in refs) else None


WORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
        r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
        r"thousand|million|billion|trillion|dozen)s?")
PART = (r"(?:half|halves|third|quarter|fourth|fifth|sixth|seventh|eighth|ninth|tenth|twentieth|hundredth|"
        r"(?:two|three|four|five|six|seven|eight|nine|ten|twenty|hundred|thousand)fold|twice|double|triple)s?")
UNIT = r"(?:dollars?|usd|cents?|percent|per cent|%|bps|basis points?|points?|times)"
MONEY = r"(?:principal|notional|investment|value|price|amount|payment|return|upside|downside|money|premium)"
# Numbers in English words: two number words in a row (one thousand, twenty-five), one before a
# unit (five dollars), or a part or multiple of money (half your principal, a tenfold upside);
# a lone word in a name or prose (Two Sigma, no one, zero-coupon) is no number.
NUMBER_WORDS = re.compile(rf"\b{WORD}(?:(?:[\s-]+|\s+and\s+){WORD})+\b|\b{WORD}\s+{UNIT}(?!\w)|"
                          rf"\b{PART}\b(?!-)(?:\W+\w+){{0,2}}?\W+{MONEY}\b", re.IGNORECASE)
# Letters printed as digits (O, o, I, l, |, S, Z; the Latin click letter read as |): a run of
# them and digits split by separators, after a currency sign, before a percent sign, or a word of
# three or more of them mixing O with I or l ($l,OOO.OO, $IOO, lO%, IOO); Roman numerals before
# a unit.
LOOKALIKES = re.compile(r"(?<![^\W\d_])(?=(?:[.,]?[0-9OoIl|SZ]){3})[0-9OoIl|SZ]+(?:[.,][0-9OoIl|SZ]+)+(?![^\W\d_])|"
                        r"[$€£¥]\s?[0-9OoIl|]+(?![^\W\d_])|"
                        r"(?<![^\W\d_])[0-9OoIl|]+\s?%|\b(?=[OoIl|]*[Oo])(?=[OoIl|]*[Il|])[OoIl|]{3,}\b|"
                        rf"\b[IVXLCDM]{{2,}}\b(?=\s*{UNIT})|\b[ivxlcdm]{{2,}}\b(?=\s*{UNIT})")


GREEK_SYMBOLS = "ΓΔΘΛΞΠΣΦΨΩαβγδεζηθκλμνξπρσςτφχψω"  # finance's Greek letters, none like a digit


def numbers_in(text: str) -> list[str]:
    """The numbers a text shows: in any script's digits (read as their ASCII twins), in letters
    that look like digits, or in English words. A letter of another script than Latin counts as
    one too (Greek letters unlike digits aside, as in a delta hedge): its look-alikes (Cyrillic O,
    Armenian Oh, Lisu I) cannot all be told from digits."""
    plain = unicodedata.normalize("NFKC", text).replace("\u01c0", "|")
    numerals = "".join(ch if ch.isascii() and ch.isdigit() or ch in ".," else
                       "#" if unicodedata.numeric(ch, None) is not None else " " for ch in plain)
    foreign = [ch for ch in plain if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN")
               and ch not in GREEK_SYMBOLS]
    return ([token.strip(".,") for token in re.findall(r"[0-9#][0-9#.,]*", numerals)]
            + [match.group().lower() for match in NUMBER_WORDS.finditer(plain)]
            + [match.group() for match in LOOKALIKES.finditer(plain) if re.search(r"[A-Za-z|]", match.group())]
            + [f"{letter} (a letter of another script than Latin)" for letter in foreign[:1]])


def format_sections(code: str) -> list[tuple[str, str]]:
    """A number format's sections as (the literal text it prints, its codes without literals):
    quoted text, escaped characters, currency symbols of [$...] and digits other than 0 are
    literals; _x and *x spacing and [Red] conditions are neither."""
    sections, literal, codes, at = [], "", "", 0
    while at < len(code):
        char = code[at]
        if char == '"':
            end = code.find('"', at + 1)
            end = len(code) if end < 0 else end
            literal, at = literal + code[at + 1:end], end + 1
            continue
        if char == "\\" or char in "_*":
            literal += code[at + 1:at + 2] if char == "\\" else ""
            at += 2
            continue
        if char == "[":
            end = code.find("]", at)
            end = len(code) if end < 0 else end
            bracket = code[at + 1:end]
            if bracket.startswith("$"):
                literal += bracket[1:].split("-")[0]
            at = end + 1
            continue
        if char == ";":
            sections.append((literal, codes))
            literal, codes = "", ""
        elif char in "123456789":
            literal += char
        else:
            codes += char
        at += 1
    sections.append((literal, codes))
    return sections


def format_kind(code: str) -> str:
    """How a number format shows a number: as a date, a percentage, scaled by thousands, or as it
    is; "mixed" when its sections show it in different ways (a negative section without the
    percent scaling, or scaled on a condition)."""
    kinds = {section_kind(literal, codes) for literal, codes in format_sections(code)
             if re.search(r"[0#?dmyhsDMYHS]|General|AM/PM", codes)}
    return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "number"


def section_kind(literal: str, codes: str) -> str:
    if re.search(r"[dmyhsDMYHS]|AM/PM", codes.replace("General", "")):
        return "date"
    if re.search(r"[0#?],+(?![0#?])", codes) or codes.count("%") > 1:
        return "scaled"
    if "%" in literal and "%" not in codes:
        return "percent sign without the percent's scaling"
    return "percent" if "%" in codes else "number"


class PrintedPage:
    """What a template's client page may print, against its product's layout: the numbers the
    layout computes (its formulas, names meaning what they mean there, shown in formats of the
    same kind) or a deal's own inputs, and text carrying no other number than the layout's
    Quote sheet does (the S&P 500 and the like)."""

    def __init__(self, path: Path, wb, product: Product):
        from ..workbooks.builder import build  # the layout rendered, as the reference
        self.path, self.wb, self.product = path, wb, product
        self.layout = build(product.layout())
        self.layout_texts, self.layout_arrays = cell_formulas(self.layout)
        self.texts, self.arrays = cell_formulas(wb)
        self.ours, self.theirs = named_cells(self.layout), named_cells(wb)
        self.allowed = {token for row in self.layout[QUOTE].iter_rows() for cell in row
                        if isinstance(cell.value, str) and not cell.value.startswith("=")
                        for token in numbers_in(cell.value)}

    def refuse(self, message: str) -> DealListError:
        return refuse(self.path, message)

    def check(self) -> None:
        self.formulas_are_the_layout_s()
        self.names_mean_what_they_mean()
        inputs = {*(field.defined_name for field in self.product.deal_fields.values()), CLIENT, *MARKET_NAMES.values()}
        self.constants = {(sheet, ref) for name, (sheet, refs) in self.theirs.items() if name in inputs for ref in refs}
        self.constants |= {(sheet, ref) for name, (layout_sheet, _) in self.ours.items() if layout_sheet == QUOTE
                           and meaning(self.layout_texts, self.layout_arrays, *self.ours[name]) is None
                           for sheet, refs in [self.theirs[name]] if sheet == QUOTE for ref in refs}
        self.shown_constants(inputs)
        self.page_cells()
        self.page_furniture()

    def formulas_are_the_layout_s(self) -> None:
        known = set(self.layout_texts.values())
        for (sheet, ref), text in self.texts.items():
            if text not in known:
                raise self.refuse(f"{sheet}!{ref} computes {text[:300]}, which is not a formula of the "
                                  f"{self.product.key} layout: a template may restyle, move and reword a quote, "
                                  "not compute other numbers")

    def names_mean_what_they_mean(self) -> None:
        for name, (sheet, refs) in self.ours.items():
            if name not in self.theirs or len(self.theirs[name][1]) != len(refs):
                raise self.refuse(f"a {self.product.key} template must name {name} as the layout does "
                                  f"({len(refs)} cell{'s' if len(refs) > 1 else ''})")
            expected, (their_sheet, their_refs) = meaning(self.layout_texts, self.layout_arrays, sheet, refs), \
                self.theirs[name]
            if meaning(self.texts, self.arrays, their_sheet, their_refs) != expected:
                raise self.refuse(f"its name {name} ({their_sheet}!{their_refs[0]}) must hold "
                                  f"{expected or 'constants'} as in the {self.product.key} layout")

    def check_text(self, where: str, text: str) -> None:
        extra = [token for token in numbers_in(text) if token not in self.allowed]
        if extra:
            raise self.refuse(f"{where} prints {text[:60]!r}, with the number {extra[0]}, which the "
                              f"{self.product.key} layout neither computes nor takes from a deal")

    def check_format(self, where: str, code: str) -> None:
        """A number format prints the number it is given: its literal text holds no number at all
        (not even one the layout's text holds, such as the 500 of S&P 500)."""
        for literal, _ in format_sections(code):
            if numbers_in(literal):
                raise self.refuse(f"{where} is {code[:60]!r}, printing {literal[:60]!r} whatever the number: "
                                  f"a format may not print a number ({numbers_in(literal)[0]}) of its own")

    def shown_constants(self, inputs: set) -> None:
        """The constants the page shows through names (=Issuer), followed through the formulas:
        each of the kind the layout holds there, text without numbers of its own."""
        names, seen = [word for (sheet, _), text in self.texts.items() if sheet == QUOTE
                       for word in self.words(text)], set()
        while names:
            name = names.pop()
            if name in seen or name not in self.theirs:
                continue
            seen.add(name)
            sheet, refs = self.theirs[name]
            layout_sheet, layout_refs = self.ours.get(name, (None, []))
            for ref, layout_ref in zip(refs, layout_refs or refs):
                if (sheet, ref) in self.texts:
                    names.extend(self.words(self.texts[(sheet, ref)]))
                    continue
                if name in inputs:
                    continue
                value = self.wb[sheet][ref].value
                layout_value = self.layout[layout_sheet][layout_ref].value if layout_sheet else None
                where = f"{sheet}!{ref} (named {name}, shown on the Quote sheet)"
                if isinstance(value, str):
                    self.check_text(where, value)
                elif value is not None and not (isinstance(layout_value, (int, float)) or layout_value is None) \
                        or isinstance(value, bool):
                    raise self.refuse(f"{where} holds {value!r} where the {self.product.key} layout holds text")

    def words(self, text: str) -> list[str]:
        return [word for word in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", STRING.sub("", text)) if word in self.theirs]

    def layout_format(self, ref: str) -> str | None:
        """The number format the layout gives what a Quote cell of the template shows: the layout's
        cell with the same formula (at the same place in an array), or of the same name."""
        anchor = next(((a, refs) for (sheet, a), refs in self.arrays.items() if sheet == QUOTE and ref in refs), None)
        text = self.texts.get((QUOTE, anchor[0] if anchor else ref))
        for (sheet, layout_ref), layout_text in self.layout_texts.items():
            if layout_text == text:
                layout_refs = self.layout_arrays.get((sheet, layout_ref), [layout_ref])
                offset = anchor[1].index(ref) if anchor else 0
                if offset < len(layout_refs):
                    return self.layout[sheet][layout_refs[offset]].number_format
        for name, (sheet, refs) in self.theirs.items():
            if sheet == QUOTE and ref in refs and name in self.ours:
                layout_sheet, layout_refs = self.ours[name]
                return self.layout[layout_sheet][layout_refs[refs.index(ref)]].number_format
        return None

    def page_cells(self) -> None:
        ws = self.wb[QUOTE]
        computed = {*self.texts, *((QUOTE, ref) for (sheet, _), refs in self.arrays.items() if sheet == QUOTE
                                   for ref in refs)}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or isinstance(cell, MergedCell) or not printed(ws, cell):
                    continue
                where = f"Quote!{cell.coordinate}"
                if cell.font and (cell.font.name or "").lower().replace(" ", "") in SYMBOL_FONTS:
                    raise self.refuse(f"{where} is set in {cell.font.name}, a font of symbols: its letters and "
                                      "digits would print as other signs")
                self.check_format(f"the number format of {where}", cell.number_format)
                if (QUOTE, cell.coordinate) in computed or (QUOTE, cell.coordinate) in self.constants:
                    layout_format = self.layout_format(cell.coordinate)
                    kind = format_kind(cell.number_format)
                    if kind in ("scaled", "mixed") or (layout_format is not None
                                                       and kind != format_kind(layout_format)):
                        raise self.refuse(f"{where} shows its number with the format {cell.number_format!r}, as a "
                                          f"{kind} where the {self.product.key} layout shows "
                                          f"{format_kind(layout_format or 'General')}s: another number than the "
                                          "layout computes")
                elif isinstance(cell.value, str):
                    self.check_text(where, cell.value)
                else:
                    raise self.refuse(f"{where} prints the constant {cell.value!r}, a number the {self.product.key} "
                                      f"layout neither computes nor takes from a deal: a quote prints only those")

    def page_furniture(self) -> None:
        """Page headers and footers, and the drawings: charts only, plotting the layout's payout
        data, their text and number formats without numbers of their own, clear of the key numbers."""
        ws = self.wb[QUOTE]
        for kind in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"):
            for side in ("left", "center", "right"):
                text = printed_header(getattr(getattr(ws, kind), side))
                if re.search(r"&[PNDTGZ]|&\[(?:Page|Pages|Date|Time)\]", text.replace("&&", ""), re.IGNORECASE):
                    raise self.refuse(f"the Quote sheet's page {kind[-6:].lower()} is {text[:60]!r}, printing a "
                                      "page number, date, time, picture or folder (&P, &N, &D, &T, &G, &Z; an "
                                      "ampersand is written &&): a client page prints no number of its own")
                if text:
                    self.check_text(f"the Quote sheet's page {kind[-6:].lower()}", text)
        for part, tag, text in drawing_parts(self.path):
            if tag in ("pic", "sp", "grpSp", "cxnSp", "contentPart"):
                raise self.refuse(f"its Quote sheet holds a {'picture' if tag == 'pic' else 'shape'} ({part}): a "
                                  "client page holds only the layout's cells and charts, whose numbers can be checked")
            if tag == "formatCode":
                self.check_format(f"the number format of the Quote sheet's chart ({part})", text)
            elif tag == "t":
                self.check_text(f"the Quote sheet's chart ({part})", text)
        layout_plotted = {cells for chart in self.layout[QUOTE]._charts for ref in series_sources(chart)
                          if (cells := source_cells(ref.f or ""))}
        plotted = {(self.theirs[name][0], tuple(self.theirs[name][1])) for name, (sheet, refs) in self.ours.items()
                   if (sheet, tuple(refs)) in layout_plotted}
        keys = [cell for cells in key_cells(ws).values() for cell in cells]
        for number, chart in enumerate(ws._charts, start=1):
            for series in chart.series:
                name_ref = series.tx.strRef if series.tx is not None else None
                if name_ref is not None and quoted_text(name_ref.f) is not None:
                    self.check_text(f"the Quote sheet's chart {number}", quoted_text(name_ref.f))
                elif name_ref is not None:
                    raise self.refuse(f"its Quote sheet's chart {number} names a series from the cell "
                                      f"{series.tx.strRef.f}: series are named by the layout's text")
                if series.tx is not None and series.tx.v:
                    self.check_text(f"the Quote sheet's chart {number}", series.tx.v)
            for ref in series_sources(chart):
                if source_cells(ref.f or "") not in plotted:
                    raise self.refuse(f"its Quote sheet's chart {number} plots {ref.f}, which is not the "
                                      f"{self.product.key} layout's payout data")
            rows, columns = anchored_span(ws, chart.anchor)
            if any(cell.row in rows and cell.column in columns for cell in keys):
                raise self.refuse(f"its Quote sheet's chart {number} covers the estimated value or breakeven")


def printed_header(part) -> str:
    """What a page header's or footer's part prints, its formatting codes (fonts, sizes, colours,
    styles) left out. Rebuilt from the part as openpyxl split it, whose font takes everything from
    the first &" to the last " (text between two font codes included)."""
    raw = (f'&"{part.font}"' if part.font else "") + (part.text or "")
    return re.sub(r'&"[^"]*"|&K(?:[0-9A-Fa-f]{6}|\d\d[+-]\d{3})|&\d+|&[LCRBIUESXY]', "", raw.replace("&&", "\0"),
                  flags=re.IGNORECASE).replace("\0", "&&")


def source_cells(ref: str) -> tuple[str, tuple[str, ...]] | None:
    """A chart reference such as 'Quote'!$H$2:$H$252 as (sheet, (A1, ...))."""
    sheet, bang, cells = ref.rpartition("!")
    return (sheet.strip("'"), tuple(range_cells(cells))) if bang else None


EMU_PER_POINT, EMU_PER_CHARACTER = 12700, 64008  # a default row is 15 points; a column character 7 pixels


def anchored_span(ws, anchor) -> tuple[range, range]:
    """The rows and columns a drawing's anchor covers, from its corners, or from its top-left
    corner (with its offset into that cell) and its size; a row or column it reaches less than
    TOUCH points into, or ends at the top or left of, is clear."""
    start, touch = anchor._from, TOUCH * EMU_PER_POINT
    if getattr(anchor, "to", None) is not None:
        return (range(start.row + 1, anchor.to.row + (2 if anchor.to.rowOff > touch else 1)),
                range(start.col + 1, anchor.to.col + (2 if anchor.to.colOff > touch else 1)))
    height, width = anchor.ext.height + start.rowOff, anchor.ext.width + start.colOff
    row = start.row + 1
    while height > touch and row <= start.row + SPAN_ROWS:
        height -= row_height(ws, row) * EMU_PER_POINT
        row += 1
    column = start.col + 1
    while width > touch and column <= start.col + SPAN_COLUMNS:
        width -= column_chars(ws, column) * EMU_PER_CHARACTER
        column += 1
    return range(start.row + 1, row), range(start.col + 1, column)


def drawing_parts(path: Path) -> list[tuple[str, str, str]]:
    """(part, element, text or format code) of the Quote sheet's drawings and charts: every
    anchored element's kind, text run and number format."""
    found = []
    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())

        def related(part: str) -> list[str]:
            rels = f"{part.rsplit('/', 1)[0]}/_rels/{part.rsplit('/', 1)[1]}.rels"
            if rels not in names:
                return []
            folder = part.rsplit("/", 1)[0]
            targets = [relation.get("Target", "") for relation in safe_xml.fromstring(package.read(rels))
                       if relation.get("TargetMode") != "External"]
            return [posixpath.normpath(target.lstrip("/") if target.startswith("/") else f"{folder}/{target}")
                    for target in targets]

        quote = xlsx.sheet_parts(package)[QUOTE]
        for drawing in (part for part in related(quote) if part.startswith("xl/drawings/") and part in names):
            for part in [drawing, *(part for part in related(drawing) if part in names and part.endswith(".xml"))]:
                for node in safe_xml.fromstring(package.read(part)).iter():
                    tag = node.tag.rsplit("}", 1)[-1]
                    if part == drawing and tag in ("pic", "sp", "grpSp", "cxnSp", "contentPart"):
                        found.append((part, tag, ""))
                    elif tag == "t" and node.text:
                        found.append((part, "t", node.text))
                    elif tag == "numFmt" and node.get("formatCode"):
                        found.append((part, "formatCode", node.get("formatCode")))
    return found


def single_column(ref: str) -> bool:
    return bool(re.fullmatch(r"\$?([A-Z]+)\$?[0-9]+(:\$?\1\$?[0-9]+)?", ref))


def formulas(wb):
    """(where, formula text) of every formula cell, array formula, conditional format, data
    validation and defined name."""
    for (sheet, ref), text in cell_formulas(wb)[0].items():
        yield f"{sheet}!{ref}", text
    for ws in wb.worksheets:
        for formatting in ws.conditional_formatting:
            for rule in formatting.rules:
                for text in rule.formula or ():
                    yield f"a conditional format of {ws.title}!{formatting.sqref}", f"={text}"
        for validation in ws.data_validations.dataValidation:
            for text in (validation.formula1, validation.formula2):
                if text:
                    yield f"a data validation of {ws.title}!{validation.sqref}", f"={text}"
    for scope in [wb, *wb.worksheets]:
        for name, defined in scope.defined_names.items():
            yield f"the name {name}", defined.attr_text or ""
