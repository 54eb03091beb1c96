"""A deal's marks: its stage, value and greeks on a snapshot, its stress grid, and what the P&L
explain needs of it (the previous snapshot's marks, the value without the day's new fixings).

Every number is the product's own valuation (its Life: the Excel functions' value and greeks)
on the snapshot's market with the closes the history gives; with `flat`, on the flat market a
desk compares with (the deal's Market.flattened: the template's flat value). A mark knows no
file and no position: a book multiplies it by quantities.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..core.fields import TermError
from ..core.history import History
from ..core.market import FIELDS as MARKET_FIELDS
from ..core.market import Market
from ..core.surface import Surface
from ..engines.solvers import bumped_greeks
from ..products import BY_KEY
from ..products.product import FIXED, SETTLED

SPOT_MOVES = tuple(round(-0.30 + 0.05 * i, 2) for i in range(13))  # -30% to +30%
VOL_SHIFTS = tuple(round(-0.10 + 0.05 * i, 2) for i in range(5))   # -10 to +10 vol points
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Day:
    """A snapshot's market inputs by field name, and the day after which a payment is this
    day's cash (payments on or before `since` left the book earlier)."""

    market: dict
    since: dt.date

    @property
    def as_of(self) -> dt.date:
        return self.market["as_of"]


@dataclass(frozen=True)
class Context:
    """What every partition needs, sent once: today's Day, the previous one (or None), the
    closes history, and whether deals are valued on their flat markets."""

    today: Day
    previous: Day | None
    history: History
    flat: bool


def mark_deals(deals: list[tuple], context: Context) -> list[dict]:
    """The marks of (product key, contract) deals, in order."""
    return [mark_deal(product, contract, context) for product, contract in deals]


def mark_deal(product: str, contract, context: Context) -> dict:
    """A deal's marks: "today" (with its stress grid), "previous" with --previous, and
    "unfixed", today's value had the window closes since the previous snapshot not moved its
    lookback (None when there are none); a failure is a "message" instead."""
    life = BY_KEY[product].life
    try:
        today, stage = mark(life, contract, context.today, context, stress=True)
    except TermError as error:
        return {"message": str(error)}
    except (ArithmeticError, ValueError) as error:  # a fault of ours: this deal fails, saying so
        return {"message": f"could not be valued (an internal error; please report it): {type(error).__name__}: "
                           f"{error}"}
    result = {"today": today, "previous": None, "unfixed": None}
    if context.previous is None:
        return result
    try:
        result["previous"], before = mark(life, contract, context.previous, context, stress=False)
        new = len(stage.closes) - len(before.closes)
        if stage.live and new > 0:
            unfixed = stage.closes[:len(before.closes)] + (None,) * new
            result["unfixed"] = float(life.value(contract, market_of(contract, context.today, unfixed, context.flat)))
    except (TermError, ArithmeticError, ValueError) as error:
        result["previous"] = {"message": f"not valued on the previous snapshot: {error}"}
    return result


def market_of(contract, day: Day, closes: tuple, flat: bool) -> Market:
    """The snapshot's market with these window closes, checked; the deal's flat market with `flat`."""
    values = day.market
    market = Market(values["spot"], values["as_of"], values["vol"], values["rate"], values["div_yield"], closes)
    return contract.flat_market(market) if flat else market


def mark(life, contract, day: Day, context: Context, stress: bool) -> tuple[dict, object]:
    """A deal's mark on `day` and its Stage: status, value and greeks per security, the vol and
    rate its explain moves (at-the-money to its fixing, flat to its payment), its fixing date,
    the cash it pays on the day, and with `stress` its stress grid."""
    stage = life.stage(contract, day.as_of, context.history, day.since)
    paid_today = stage.status == SETTLED and stage.payment is not None
    result = dict(status=stage.status, fixing=stage.fixing.isoformat(), cash=stage.payment if paid_today else 0.0,
                  vol=None, rate=None)
    if not stage.live:
        if stage.status == FIXED:
            market = market_of(contract, day, (), context.flat)
            value = life.paid_value(contract, stage.payment, market)
            later = market.bumped(as_of=min(day.as_of + ONE_DAY, stage.paid))
            theta = life.paid_value(contract, stage.payment, later) - value
            greeks = bumped_greeks(lambda moved: life.paid_value(contract, stage.payment, moved), market, value, theta)
            result["rate"] = float(market.flattened(0.0, market.time_to(stage.paid)).rate)
        else:
            value, greeks = 0.0, np.zeros(5)
        result.update(value=float(value), greeks=[float(g) for g in greeks])
        if stress:
            result["stress"] = np.zeros((len(SPOT_MOVES), len(VOL_SHIFTS))).tolist()
        return result, stage
    market = market_of(contract, day, stage.closes, context.flat)
    value = float(life.value(contract, market))
    result.update(value=value, greeks=[float(g) for g in life.greeks(contract, market)])
    moved = market.flattened(market.time_to(stage.fixing), market.time_to(stage.paid))
    result.update(vol=float(moved.vol), rate=float(moved.rate))
    if stress:
        result["stress"] = stress_grid(life, contract, market, value).tolist()
    return result, stage


def stress_grid(life, contract, market: Market, value: float) -> np.ndarray:
    """Value changes per security for each spot move (rows) and parallel vol shift (columns), by
    full revaluation, the spot moves of a vol shift in one call; NaN where the deal cannot be
    valued (a vol shifted below the least a vol may be, or a market the engines refuse)."""
    grid = np.full((len(SPOT_MOVES), len(VOL_SHIFTS)), np.nan)
    lowest = market.vol.vol_range[0] if isinstance(market.vol, Surface) else market.vol
    spots = market.spot * (1 + np.array(SPOT_MOVES))
    for j, shift in enumerate(VOL_SHIFTS):
        if lowest + shift < MARKET_FIELDS["vol"].low:
            continue
        try:
            grid[:, j] = life.values_at(contract, market.shifted(vol=shift) if shift else market, spots) - value
        except TermError:
            pass
    grid[SPOT_MOVES.index(0.0), VOL_SHIFTS.index(0.0)] = 0.0  # the snapshot itself
    return grid
