"""Templates from outside (`--template`): checked before any quote is made, so a template can
neither pull other files' data into client quotes nor exhaust the machine, and a template for
another product or without the names a deal fills is refused with a message, not a traceback.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell

from . import calendar, xlsx
from .deals import DealListError
from .layout import CLIENT, PRODUCT_NAME
from .product import Product
from .products import PRODUCTS
from .quote_sheet import QUOTE, formulas as cell_formulas
from .workbook import PLAIN_FORMAT, key_cells, printed, range_cells, series_sources

MAX_PARTS = 500
MAX_PART_BYTES = 20_000_000  # uncompressed (an image); our templates' largest part is about 100 kB
MAX_XML_BYTES = 5_000_000  # an XML part (parsed, so it also bounds the time to load)
MAX_TOTAL_BYTES = 50_000_000
EXTERNAL = re.compile(r"\[[^\]]*\]|\b(INDIRECT|WEBSERVICE|FILTERXML|RTD|CALL|REGISTER\.ID|STOCKHISTORY|IMAGE|"
                      r"CUBE[A-Z]*|FIELDVALUE)\(|\|",
                      re.IGNORECASE)  # [book]Sheet!A1, [1]Sheet!A1, functions that reach outside, DDE (app|topic)
OUTSIDE_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/", "xl/pivotcache", "xl/embeddings/",
                 "xl/activex/", "customxml/")  # links, data connections and queries, pivot caches, OLE objects
STRING = re.compile(r'"[^"]*"')
CALENDAR = {function.name for function in calendar.FUNCTIONS}
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
    for name, cells in key_cells(wb["Quote"]).items():
        if not cells:
            raise refuse(path, f"its Quote sheet must show ={name} in a printed cell (inside its print area)")
        for cell in cells:
            if not PLAIN_FORMAT.fullmatch(cell.number_format):
                raise refuse(path, f"Quote!{cell.coordinate} shows {name} with the number format "
                                   f"{cell.number_format!r}; it must show the number as it is (like #,##0.00)")
    for name in [*(field.defined_name for field in product.deal_fields.values()), CLIENT]:
        defined = wb.defined_names.get(name)
        destinations = list(defined.destinations) if defined else []
        if len(destinations) != 1 or not single_column(destinations[0][1]):
            raise refuse(path, f"a {product.key} template must name one cell or one column of cells {name}")
    check_printed_numbers(path, wb, product)


def chart_references(chart) -> list[str]:
    """Every cell reference a chart's series take values or names from."""
    return [ref.f for ref in series_sources(chart) if ref.f]


NUMBER_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


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


def check_printed_numbers(path: Path, wb, product: Product) -> None:
    """Refuse a template whose client page could print a number its product's layout does not
    compute or take from a deal. A template may restyle, move and reword the layout's cells, so:
    every formula must be one of the layout's; every name the layout defines must hold what it
    holds there (the same formula, or constants); a number typed on the Quote sheet may stand
    only where the layout has constants (scenario changes, a deal's inputs); and text on the page
    (cells, the names it shows, headers and footers, number formats, charts) may carry only the
    numbers the layout's own text carries (the S&P 500, its dates)."""
    from .templates import build  # the layout rendered, as the reference
    layout = build(product.layout())
    layout_texts, layout_arrays = cell_formulas(layout)
    texts, arrays = cell_formulas(wb)
    known = set(layout_texts.values())
    for (sheet, ref), text in texts.items():
        if text not in known:
            raise refuse(path, f"{sheet}!{ref} computes {text[:300]}, which is not a formula of the {product.key} "
                               f"layout: a template may restyle, move and reword a quote, not compute other numbers")
    ours, theirs = named_cells(layout), named_cells(wb)
    constants = set()  # the cells where the layout has constants: a deal's inputs, scenario changes, labels
    for name, (sheet, refs) in ours.items():
        if name not in theirs or len(theirs[name][1]) != len(refs):
            raise refuse(path, f"a {product.key} template must name {name} as the layout does "
                               f"({len(refs)} cell{'s' if len(refs) > 1 else ''})")
        expected, (their_sheet, their_refs) = meaning(layout_texts, layout_arrays, sheet, refs), theirs[name]
        if meaning(texts, arrays, their_sheet, their_refs) != expected:
            raise refuse(path, f"its name {name} ({their_sheet}!{their_refs[0]}) must hold "
                               f"{expected or 'constants'} as in the {product.key} layout")
        if expected is None:
            constants.update((their_sheet, ref) for ref in their_refs)
    allowed = {token for ws in layout.worksheets for row in ws.iter_rows() for cell in row
               if isinstance(cell.value, str) and not cell.value.startswith("=")
               for token in NUMBER_TOKEN.findall(cell.value)}

    def check_text(where: str, text: str) -> None:
        extra = [token for token in NUMBER_TOKEN.findall(text) if token not in allowed]
        if extra:
            raise refuse(path, f"{where} prints {text[:60]!r}, with the number {extra[0]}, which the "
                               f"{product.key} layout neither computes nor takes from a deal")

    ws = wb[QUOTE]
    computed = {*texts, *((sheet, ref) for (sheet, _), refs in arrays.items() for ref in refs)}
    shown_names = set()
    for (sheet, ref), text in texts.items():
        if sheet == QUOTE:
            shown_names.update(word for word in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", STRING.sub("", text))
                               if word in theirs)
    for name in shown_names:  # the constants the page shows through names (=Issuer)
        sheet, refs = theirs[name]
        for ref in refs:
            value = wb[sheet][ref].value
            if isinstance(value, str) and (sheet, ref) not in computed:
                check_text(f"{sheet}!{ref} (named {name}, shown on the Quote sheet)", value)
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or not printed(ws, cell):
                continue
            where = f"Quote!{cell.coordinate}"
            for literal in re.findall(r'"([^"]*)"|\\(.)', cell.number_format):
                check_text(f"the number format of {where}", "".join(literal))
            if (QUOTE, cell.coordinate) in computed or (QUOTE, cell.coordinate) in constants:
                continue
            if isinstance(cell.value, str):
                check_text(where, cell.value)
            elif not isinstance(cell, MergedCell):
                raise refuse(path, f"{where} prints the constant {cell.value!r}, a number the {product.key} layout "
                                   f"neither computes nor takes from a deal: a quote prints only those")
    for kind in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"):
        for side in ("left", "center", "right"):
            text = getattr(getattr(ws, kind), side).text
            if text:
                check_text(f"the Quote sheet's page {kind[-6:].lower()}", text)
    for where, text in drawing_texts(path):
        check_text(where, text)


def drawing_texts(path: Path) -> list[tuple[str, str]]:
    """The text runs of the Quote sheet's drawings and charts (titles, labels, text boxes)."""
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
                    if node.tag.endswith("}t") and node.text:
                        found.append((f"the Quote sheet's drawing {part}", node.text))
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
