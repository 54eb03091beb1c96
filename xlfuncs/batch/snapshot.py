"""Market snapshots: one day's spot, rate and dividend curves and volatility surface, from a file.

A snapshot is JSON or YAML (keys as_of, spot, rate, div_yield, vol: the same forms as the Excel
arguments, dates as ISO text; rows of [date, zero rate] for a curve, the grid's or SVI rows for
a surface, or one number for a flat input) or an xlsx workbook whose defined names AsOf, Spot,
RateCurve, DividendCurve and VolSurface hold them (a template's Market sheet). Every value is
read by the field's own rule, so a bad cell is refused as in Excel, naming the file, the key or
the range and its cell; the market they make is built once, so a surface with arbitrage against
the snapshot's forwards is refused too.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from openpyxl import load_workbook

from ..core.cells import converted, iso_dated
from ..core.fields import TermError
from ..core.market import FIELDS, Market

KEYS = ("as_of", "spot", "rate", "div_yield", "vol")
NAMES = {"as_of": "AsOf", "spot": "Spot", "rate": "RateCurve", "div_yield": "DividendCurve", "vol": "VolSurface"}


def read_snapshot(path: Path) -> dict:
    """The snapshot's market inputs by field name, each held to its field's rule."""
    path = Path(path)
    try:
        raw = workbook_values(path) if path.suffix.lower() == ".xlsx" else text_values(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise TermError(f"market snapshot {path.name} cannot be read: {error}") from None
    missing = [key for key in KEYS if raw.get(key) is None]
    if missing:
        raise TermError(f"market snapshot {path.name} has no {', '.join(missing)}")
    values = {}
    for key in KEYS:
        where, value = raw[key]
        try:
            values[key] = converted(FIELDS[key], value)
        except TermError as error:
            raise TermError(f"market snapshot {path.name}, {where}: {error}") from None
    try:
        Market(values["spot"], values["as_of"], values["vol"], values["rate"], values["div_yield"])
    except TermError as error:
        raise TermError(f"market snapshot {path.name}: {error}") from None
    return values


def text_values(path: Path) -> dict:
    """A JSON or YAML snapshot's values by key, ISO dates as dates."""
    text = path.read_text(encoding="utf-8-sig")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("it must be a mapping of as_of, spot, rate, div_yield and vol")
    return {key: (key, iso_dated(data[key])) for key in KEYS if key in data}


def workbook_values(path: Path) -> dict:
    """An xlsx snapshot's values by key, from its defined names, with the range each came from."""
    book = load_workbook(path, data_only=True, read_only=False)
    values = {}
    for key, name in NAMES.items():
        defined = book.defined_names.get(name)
        if defined is None:
            continue
        destinations = list(defined.destinations)
        if len(destinations) != 1:
            raise ValueError(f"its name {name} must refer to one range")
        sheet, ref = destinations[0]
        cells = book[sheet][ref.replace("$", "")]
        rows = [[cells.value]] if not isinstance(cells, tuple) else [[cell.value for cell in row] for row in cells]
        values[key] = (f"{name} ({sheet}!{ref.replace('$', '')})", rows)
    return values
