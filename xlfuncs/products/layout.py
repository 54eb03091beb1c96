"""Template layouts as data: a workbook is pages of blocks, each block a description that
workbooks/builder.py renders. Products describe their templates with these (xlfuncs/products/);
what is here is what every product's template shares (the issue rows take the product's issuer,
the quote's closing rows its model inputs).

Values are numbers, text, dates or formulas ("=..."); `unit` says how a value is shown
(workbooks/builder.py, FORMATS). A Row whose value is a plain Excel formula of the terms carries its
Python twin, twin(contract, market), and the tests hold the two equal over many term sets.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

from ..core.cells import iso_dated


@dataclass(frozen=True)
class Row:
    """A labelled value: an input to type into (`entry`) or a formula; `name` is its workbook
    name, `key` shows it bold, `note` is a remark beside it."""

    label: str
    value: object
    unit: str = "text"
    name: str | None = None
    entry: bool = False
    note: str = ""
    key: bool = False
    twin: Callable | None = None


@dataclass(frozen=True)
class Fields:
    """Labelled rows under an optional section band; values in `column`."""

    section: str | None
    rows: tuple[Row, ...]
    column: int = 2


@dataclass(frozen=True)
class Notes:
    section: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ArrayRow:
    """A labelled row filled by one array formula (a 1xN result), with column headers above
    when given; `names` name single cells of it (None: unnamed)."""

    label: str
    formula: str
    units: tuple[str, ...]
    names: tuple = ()
    headers: tuple[str, ...] = ()
    section: str | None = None


@dataclass(frozen=True)
class Scenarios:
    """A scenario table: a column of inputs (final values, or changes from the named `base`
    value, turned into final values named `finals_name`), then the columns a call of the
    product's table function returns.

    `table` is that call, over the range of final values and with its columns argument (e.g.
    NOTE_TABLE(ScenarioFinals,...,{2,3,4})); `units` are the formats of the columns it returns
    and `names` their workbook names (None: unnamed). `labels` fill a column left of the inputs."""

    section: str | None
    headers: tuple[str, ...]
    inputs: tuple
    input_name: str
    input_unit: str
    table: str
    units: tuple[str, ...]
    names: tuple = ()
    labels: tuple[str, ...] = ()
    base: str = ""
    finals_name: str = ""
    first_column: int = 1
    rows_above: tuple[Row, ...] = ()


def finals_formula(base: str, changes: str) -> str:
    """Final values from changes of a base value, as the templates compute them."""
    return f"={base}*(1+{changes})"


@dataclass(frozen=True)
class Payout:
    """The payout diagram: the product's line and the underlying's own against the change of
    the underlying from `base`. Its source cells sit beside the printed page, named with
    `prefix` (Changes, Finals, Payments, Line); `payment` calls the product's payment function
    over {prefix}Finals; the plotted line is {prefix}Payments per `per`, less one if `less_one`."""

    changes: tuple[float, ...]
    base: str
    payment: str
    per: str
    less_one: bool
    headers: tuple[str, str, str, str]
    series: str
    y_title: str
    prefix: str

    @property
    def line(self) -> str:
        return f"={self.prefix}Payments/{self.per}{'-1' if self.less_one else ''}"


@dataclass(frozen=True)
class Calendar:
    """A column of dates from `days` (an array formula) with an input cell beside each,
    named `entry_name`."""

    headers: tuple[str, str]
    days: str
    count: int
    days_name: str
    entry_name: str
    entry_unit: str


@dataclass(frozen=True)
class Range:
    """A named block of inputs under a section band and column headers: a curve (dates and zero
    rates) or a surface (strikes across its first row, expiry dates down its first column).
    `cells` hold its values by row (blank past them), `units` the formats of its first row, its
    first column and the rest."""

    section: str
    headers: tuple[str, ...]
    name: str
    cells: tuple[tuple, ...]
    units: tuple[str, str, str]


@dataclass(frozen=True)
class Disclaimer:
    text: str


@dataclass(frozen=True)
class Page:
    title: str
    widths: tuple[float, ...]
    heading: str
    subtitle: str
    blocks: tuple
    landscape: bool = False


CLIENT = "Client"  # the name of the quote's "Prepared for" cell, which the batch fills
PRODUCT_NAME = "Product"  # a template's name holding its product's key


@dataclass(frozen=True)
class Layout:
    """A product's template: its key (kept in the workbook as PRODUCT_NAME) and pages."""

    product: str
    pages: tuple[Page, ...]
    conf: dict = field(default_factory=lambda: {"UDF Modules": "udfs"})

    def rows(self):
        """Every labelled row of the layout."""
        for page in self.pages:
            for block in page.blocks:
                yield from (*getattr(block, "rows", ()), *getattr(block, "rows_above", ()))


def call(product, suffix: str, **cells: str) -> str:
    """The Excel call of the product's function prefix_suffix with each argument the workbook
    name of its field, or the cell given by keyword: NOTE_VALUE(Spot,AsOf,...)."""
    function, fields = product.function(suffix), product.fields
    return f"{function.name}({','.join(cells.get(arg) or fields[arg].defined_name for arg in function.args)})"


def inputs(fields: dict, names, example: dict, notes: dict | None = None) -> tuple[Row, ...]:
    """Input rows for the named fields, with their example values and workbook names."""
    notes = notes or {}
    return tuple(Row(fields[name].label, example.get(name), fields[name].unit, fields[name].defined_name, True,
                     notes.get(name, "")) for name in names)


def shown(fields: dict, names) -> tuple[Row, ...]:
    """Rows showing the named fields' cells (=Initial) with their term-sheet labels, for a quote."""
    return tuple(Row(fields[name].label, f"={fields[name].defined_name}", fields[name].unit) for name in names)


def text(label: str, value: str, name: str | None = None) -> Row:
    return Row(label, value, "text", name, entry=True)


def issue_rows(product, cusip_isin: str) -> tuple[Row, ...]:
    """What every term sheet's key terms open with: the product's issuer and guarantor, the
    underlying, CUSIP / ISIN."""
    return (text("Issuer", product.issuer, "Issuer"), text("Guarantor", product.guarantor),
            text("Underlying", "S&P 500® Index", "Underlying"), text("CUSIP / ISIN", cusip_isin))


def quote_opening() -> Fields:
    """The client quote's first rows: whom it is for, and the valuation date."""
    return Fields(None, (text("Prepared for", "Client", CLIENT), Row("Values as of", "=AsOf", "date")))


def quote_closing(breakeven_note: str, per: str, model_inputs: tuple[Row, ...]) -> tuple:
    """The client quote's last blocks: breakeven, estimated value, model inputs, disclaimer."""
    return (Fields("Breakeven and estimated value", (
                Row("Breakeven final value", "=Breakeven", "level", note=breakeven_note),
                Row("Estimated value", "=EstimatedValue", "money", key=True, note=per),
                *model_inputs)),
            DISCLAIMER)



GREEK_HEADERS = ("Delta (per index point)", "Gamma", "Vega (per vol point)", "Theta (per day)",
                 "Rho (per 1% of rate)")
DISCLAIMER = Disclaimer(
    "Indicative only: not an offer, a recommendation or the issuer's estimated value. Values come from a "
    "Black-Scholes model (local volatility where an implied volatility surface is shown) with the inputs shown; "
    "all payments are subject to the credit risk of the issuer and the guarantor. The pricing supplement governs.")


def excel_text(value: float, decimals: int, percent: bool = False) -> str:
    """Excel's TEXT(value, "#,##0.00") or TEXT(value, "0.0%"): the number to the 15 significant
    digits Excel keeps, then rounded half away from zero."""
    number = Decimal(f"{float(value):.15g}") * (100 if percent else 1)
    rounded = number.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP) + 0  # -0.00 is 0.00
    return f"{rounded:.{decimals}f}%" if percent else f"{rounded:,.{decimals}f}"


SOURCES = ("zero curve", "implied volatility surface")  # a curve's, a surface's


def market_input(value, name: str, decimals: int) -> str:
    """How the quote names one market input: its number, or where its curve or surface is."""
    if isinstance(value, (int, float)):
        return f"{name} {excel_text(value, decimals, True)}"
    return f"{name}: {SOURCES[name == 'vol']}"


def market_formula(name: str, cells: str, decimals: int) -> str:
    """The Excel text of market_input: one number in the range's first cell is a flat input."""
    return (f'"{name}"&IF(COUNT({cells})=1," "&TEXT(SUM({cells}),"0.{"0" * decimals}%"),'
            f'": {SOURCES[name == "vol"]}")')


def market_inputs(_, market) -> str:
    return f"spot {excel_text(market.spot, 2)}, {market_input(market.vol, 'vol', 1)}"


def rate_inputs(_, market) -> str:
    return f"{market_input(market.rate, 'rate', 2)}, {market_input(market.div_yield, 'dividend yield', 2)}"


RATES = (f'={market_formula("rate", "RateCurve", 2)}&", "&'
         f'{market_formula("dividend yield", "DividendCurve", 2)}')
MODEL_INPUTS = (Row("Model inputs", f'="spot "&TEXT(Spot,"#,##0.00")&", "&{market_formula("vol", "VolSurface", 1)}',
                    twin=market_inputs),
                Row("Rates", RATES, twin=rate_inputs))


# The Market sheet: a snapshot the valuation reads as ranges

MARKET_NAMES = {"vol": "VolSurface", "rate": "RateCurve", "div_yield": "DividendCurve"}
CURVE_ROWS = 24                # room on the Market sheet for a curve's pillars ...
SURFACE_SHAPE = (26, 31)       # ... and a grid's expiries and strikes (with its header row and column)


def template_folder() -> Path:
    """The product templates and their snapshots: the copies a wheel installs inside the package
    (xlfuncs/templates), else workbooks/ beside the package in a checkout (or an editable install)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "workbooks"


def bundled_snapshot(as_of: str) -> dict:
    """The bundled hypothetical snapshot of a pricing date (workbooks/market/AS_OF.json), its
    ranges' dates as dates."""
    data = json.loads((template_folder() / "market" / f"{as_of}.json").read_text(encoding="utf-8"))
    return {key: iso_dated(value) for key, value in data.items()}


def padded(rows: list, shape: tuple[int, int]) -> tuple[tuple, ...]:
    """`rows` with blank cells to `shape` (rows, columns)."""
    if len(rows) > shape[0] or any(len(row) > shape[1] for row in rows):
        raise ValueError(f"a snapshot range of {len(rows)} rows does not fit the Market sheet's {shape}")
    return tuple(tuple([*row, *[None] * (shape[1] - len(row))]) for row in [*rows, *[[]] * (shape[0] - len(rows))])


def market_page(as_of: str, spot: float) -> Page:
    """The Market sheet: the bundled snapshot of `as_of`, which the Valuation sheet values off,
    its strikes scaled to the template's spot (a template in index points of 100)."""
    snapshot = bundled_snapshot(as_of)
    scale = spot / snapshot["spot"]
    grid = [[None, *(round(strike * scale, 6) for strike in snapshot["vol"][0][1:])], *snapshot["vol"][1:]]
    note = snapshot["note"] + ("" if scale == 1 else f" Strikes scaled to an index level of {spot:g}.")
    return Page("Market", (14, *(10,) * (SURFACE_SHAPE[1] - 1)), "Market Snapshot", note, (
        Notes("How the valuation reads it", (
            "Curves: dates and continuously compounded zero rates (ACT/365F from the valuation date).",
            "Surface: strikes across the first row, expiry dates down the first column, Black implied vols; the "
            "top-left cell blank.",
            "For a flat input, type one number in a range's first cell and leave the rest blank.",
            "The Valuation sheet's estimated value reads these ranges; the flat value beside it reads its own "
            "vol, rate and dividend yield.")),
        Range("Rate curve", ("Date", "Zero rate"), MARKET_NAMES["rate"], padded(snapshot["rate"], (CURVE_ROWS, 2)),
              ("percent3", "date", "percent3")),
        Range("Dividend yield curve", ("Date", "Zero rate"), MARKET_NAMES["div_yield"],
              padded(snapshot["div_yield"], (CURVE_ROWS, 2)), ("percent3", "date", "percent3")),
        Range("Volatility surface: strikes across, expiry dates down", (), MARKET_NAMES["vol"],
              padded(grid, SURFACE_SHAPE), ("level", "date", "percent"))))
