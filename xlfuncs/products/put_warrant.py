"""Bearish Put Warrants (Citigroup, CUSIP 173074TD7): a put spread on the S&P 500 whose upper
strike is set by a lookback value, the highest close of an observation window.

Payment upon exercise per warrant, with N notional, L the lookback value, F the final value:
N x (long strike differential - short strike differential), each floored at 0, where the long
one is (upper_strike x L - F) / L and the short one (lower_strike x initial - F) / initial.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .layout import Row, Scenarios, call
from .lookback_warrant import (
    TABLE_COLUMNS,
    TABLE_HEADERS,
    TABLE_UNITS,
    LookbackWarrant,
    lookback_field,
    warrant_fields,
    warrant_layout,
    warrant_product,
)

TITLE = "Bearish Put Warrants"


@dataclass(frozen=True)
class PutWarrant(LookbackWarrant):
    """A Bearish Put Warrant: `upper_strike` is a fraction of the lookback value (the highest
    close, never below the initial value), `lower_strike` of the initial value."""

    FIELDS = warrant_fields(1, "95% is 0.95", "75% is 0.75")
    LOOKBACK = lookback_field(1)
    DIRECTION = 1


# The supplement's hypothetical tables: initial value 100, lookback values 100 and 102.
SUPPLEMENT = PutWarrant(initial=100.0, upper_strike=0.95, lower_strike=0.75, premium=0.02728)
SUPPLEMENT_TABLES = {"Table 1": 100.0, "Table 2": 102.0}
TABLE_GRID = (150, 125, 110, 105, 102, 100, 95, 90, 85, 80, 75, 70, 60, 50, 40, 30, 20, 10, 0)


def table_finals(warrant: PutWarrant, lookback: float, cells: dict | None = None) -> list:
    """A supplement table's final values, highest first: its grid plus the upper strike and
    breakeven rows; with `cells`, those two rows are the given formulas, so they follow the terms."""
    cells = cells or {}
    rows = {warrant.lookback_strike_value(lookback): cells.get("upper"),
            warrant.breakeven(lookback): cells.get("breakeven")}
    rows.update({float(final): None for final in TABLE_GRID if final not in rows})
    return [formula or final for final, formula in sorted(rows.items(), reverse=True)]


def supplement_table(number: int, lookback: float) -> Scenarios:
    name = f"Table{number}"
    table_call = call(PRODUCT, "TABLE", finals=f"{name}Finals", initial="TablesInitial", lookback=f"{name}Lookback",
                      columns=TABLE_COLUMNS)
    finals = table_finals(SUPPLEMENT, lookback, {
        "upper": f"=UpperStrike*{name}Lookback",
        "breakeven": "=" + call(PRODUCT, "BREAKEVEN", initial="TablesInitial", lookback=f"{name}Lookback")})
    above = (Row(f"Table {number}: lookback value", lookback, "level", f"{name}Lookback", True),)
    if number == 1:
        above = (Row("Hypothetical initial value", SUPPLEMENT.initial, "level", "TablesInitial", True), *above)
    return Scenarios("Hypothetical tables (as in the supplement; blank where it prints N/A)" if number == 1 else None,
                     TABLE_HEADERS, tuple(finals), f"{name}Finals", "level3", table_call, TABLE_UNITS,
                     (None, None, None, None, f"{name}Payments", None, None), rows_above=above)


def layout():
    return warrant_layout(
        PRODUCT, heading=f"{TITLE} Linked to the S&P 500® Index Expiring October 10, 2025",
        subtitle="Citigroup Global Markets Holdings Inc. · amended and restated pricing supplement No. "
                 "2025-USWR0006 of May 28, 2025 · CUSIP 173074TD7 · blue cells are inputs",
        cusip_isin="173074TD7 / US173074TD75",
        example=PutWarrant(5907.55, 0.95, 0.75, 1000.0, 0.02728, dt.date(2025, 5, 21), dt.date(2025, 6, 20),
                           dt.date(2025, 10, 10), dt.date(2025, 10, 17)),
        dates={"Pricing date": ("PricingDate", dt.date(2025, 5, 28)), "Issue date": ("IssueDate", dt.date(2025, 6, 2))},
        notes={"expiration": "its closing value is the final underlying value",
               "upper_strike": "of the lookback underlying value", "lower_strike": "of the initial underlying value"},
        payment_lines=(
            "Final below the upper strike value and above the lower strike value: notional x long strike "
            "differential, (upper strike value - final) / lookback value.",
            "Final at or below the lower strike value: notional x (long - short strike differential), "
            "short = (lower strike value - final) / initial value.",
            "Final at or above the upper strike value: the warrants expire worthless."),
        tables=tuple(supplement_table(number, lookback) for number, lookback in enumerate(SUPPLEMENT_TABLES.values(), 1)),
        grid=tuple(6500.0 - 125 * i for i in range(21)),
        market=dict(spot=5907.55, as_of=dt.date(2025, 5, 28), vol=0.167, rate=0.043, div_yield=0.013),
        implied_from=(22.80, "the supplement's estimated value on the pricing date"),
        quote_changes=(0.1, 0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5),
        chart_changes=tuple(np.round(np.arange(-1.0, 0.5001, 0.01), 2)))


PRODUCT = warrant_product(
    "warrant", "WARRANT", PutWarrant, title=TITLE, singular="Bearish Put Warrant", lookback_function="LOOKBACK_VALUE",
    layout=layout, template="bearish_put_warrant.xlsx",
    issuer="Citigroup Global Markets Holdings Inc.", guarantor="Citigroup Inc.")
