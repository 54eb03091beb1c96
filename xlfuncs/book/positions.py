"""A book's inputs from files: its positions (a deal list with quantities) and the index's closes history.

A positions file is read as a deal list is (batch/deals.py: CSV in every dialect, xlsx, JSON,
YAML; the same columns, rules and messages) with three more columns: `quantity` (securities or
warrants held, negative for a short position), and optional `trade_date` and `trade_price`.
The market comes from the snapshot and the closes from the history, never from a column: a
position giving spot, as_of, vol, rate, div_yield or closes fails, saying so. Positions of the
same terms share one deal (one valuation); a deal_id given to different terms fails all its rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..batch.deals import (
    KNOWN,
    UNNAMED,
    DealError,
    DealList,
    DealListError,
    cell_text,
    converted,
    identity,
    parse_deal,
)
from ..core.fields import AMOUNT_MIN, PAYMENT_MAX, Field, TermError, date, level, table
from ..core.history import History
from ..products import BY_KEY

POSITION_FIELDS = table(
    Field("quantity", "Securities or warrants held, a whole number; negative for a short position.", "count",
          -1e9, 1e9),
    date("trade_date", "The day the position was traded (blank: held before the previous snapshot).", default=None),
    Field("trade_price", "Price paid per security or warrant (received, for a short position).", "money",
          AMOUNT_MIN, PAYMENT_MAX, default=None),
)
COLUMNS = (*KNOWN, *POSITION_FIELDS)
FROM_MARKET = ("spot", "as_of", "vol", "rate", "div_yield", "closes")  # the snapshot's and the history's
HISTORY_FIELDS = table(date("date", "The trading day of the close."),
                       level("close", "The index's official close (blank: a disrupted day).", default=None))


@dataclass(frozen=True)
class Position:
    """A position of the book: its row, deal_id, product, quantity, optional trade date and price,
    and `deal`, the index of its deal (its terms) in the book's deals."""

    row: int
    deal_id: str
    product: str
    quantity: float
    trade_date: dt.date | None
    trade_price: float | None
    deal: int


def read_positions(path: Path, snapshot: dict, notes: list) -> tuple[list[Position], list[dict], list[tuple]]:
    """The good positions, a failure record (row, deal_id, product, message) for every bad row,
    and the deals as (product key, contract) in order of first appearance."""
    positions_file = DealList(path, notes, COLUMNS)
    parsed, failures, quantities = [], [], False
    for row, record in positions_file.records():
        quantities = quantities or "quantity" in record
        info = identity(row, record)
        try:
            parsed.append((info, *position_of(row, record, snapshot)))
        except DealError as error:
            failures.append({**info, "message": str(error)})
    if not parsed and not failures:
        raise DealListError(f"{path}: holds no position")
    if not quantities:
        raise DealListError(f"{path}: has no quantity column: a positions file is a deal list with each position's "
                            "quantity (negative for a short position)")
    terms_of: dict[str, set] = {}  # the deal terms and the rows of each deal_id
    rows_of: dict[str, list] = {}
    for info, _, key, _ in parsed:
        terms_of.setdefault(info["deal_id"], set()).add(key)
        rows_of.setdefault(info["deal_id"], []).append(info["row"])
    keys: dict[tuple, int] = {}
    positions, deals = [], []
    for info, terms, key, contract in parsed:
        if len(terms_of[info["deal_id"]]) > 1:
            failures.append({**info, "message": f"deal_id {info['deal_id']!r} is given different terms (rows "
                                                f"{', '.join(map(str, rows_of[info['deal_id']]))}): one deal, one "
                                                "set of terms"})
            continue
        if key not in keys:
            keys[key] = len(deals)
            deals.append((key[0], contract))
        positions.append(Position(info["row"], info["deal_id"], key[0], *terms, keys[key]))
    failures.sort(key=lambda failure: failure["row"])
    return positions, failures, deals


def position_of(row: int, record: dict, snapshot: dict) -> tuple[tuple, tuple, object]:
    """A row's (quantity, trade_date, trade_price), its deal's key (product and terms) and contract."""
    given = [name for name in FROM_MARKET if cell_text(record.get(name)) is not None or isinstance(record.get(name),
                                                                                                   list)]
    if given:
        source = "the closes history" if given[0] == "closes" else "the market snapshot"
        raise DealError(f"{given[0]} comes from {source} in a book: leave the column blank")
    own = {name: record.pop(name, None) for name in POSITION_FIELDS}
    terms = []
    for name, field in POSITION_FIELDS.items():
        value = own[name]
        if cell_text(value) is None:
            if field.required:
                raise DealError(f"{name} is required in a book")
            terms.append(None)
        else:
            terms.append(converted(field, value))
    if terms[1] is not None and terms[1] > snapshot["as_of"]:
        raise DealError(f"trade_date {terms[1].isoformat()} is after the snapshot's as_of "
                        f"({snapshot['as_of'].isoformat()}): the position is not in this day's book")
    deal = parse_deal(row, record, snapshot)
    product = BY_KEY[deal.product]
    contract = product.contract.of(deal.values)
    key = (deal.product, tuple((name, value) for name, value in deal.terms if name in product.contract.FIELDS))
    return tuple(terms), key, contract


def read_history(path: Path, notes: list) -> History:
    """The closes history of a file (date, close rows; read as a deal list is), every row held to
    its rule; a bad row, a date given twice or a skipped trading day stops the run naming it."""
    if Path(path).suffix.lower() not in (".csv", ".xlsx", ".yaml", ".yml", ".json"):
        raise DealListError(f"{path}: the closes history must be a .csv, .xlsx, .yaml, .yml or .json file")
    closes: dict[dt.date, float | None] = {}
    rows: dict[dt.date, int] = {}
    try:
        for row, record in DealList(path, notes, tuple(HISTORY_FIELDS)).records():
            if UNNAMED in record:
                raise DealError(record[UNNAMED])
            values = {}
            for name, field in HISTORY_FIELDS.items():
                value = record.get(name)
                if cell_text(value) is None:
                    if field.required:
                        raise DealError(f"{name} is required")
                    values[name] = None
                else:
                    values[name] = converted(field, value)
            day = values["date"]
            if day in closes:
                raise DealError(f"{day.isoformat()} is given twice (rows {rows[day]} and {row})")
            closes[day], rows[day] = values["close"], row
    except DealError as error:
        raise DealListError(f"{path}: row {row}: {error}") from None
    except DealListError as error:
        raise DealListError(f"closes history {error}") from None
    try:
        return History.of(closes)
    except TermError as error:
        raise DealListError(f"{path}: {error}") from None
