"""A deal's marks: its stage, value and greeks on a snapshot, its stress grid, and what the P&L
explain needs of it (the previous snapshot's marks, the moves its greeks multiply, the value had
the day's new window closes been the previous spot).

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
    """A deal's marks: "today" (with its stress grid), and with --previous "previous" and what
    the explain needs (explain_inputs); a failure is a "message" instead."""
    life = BY_KEY[product].life
    try:
        today, stage, market = mark(life, contract, context.today, context, stress=True)
    except TermError as error:
        return {"message": str(error)}
    except (ArithmeticError, ValueError) as error:  # a fault of ours: this deal fails, saying so
        return {"message": f"could not be valued (an internal error; please report it): {type(error).__name__}: "
                           f"{error}"}
    result = {"today": today, "previous": None}
    if context.previous is None:
        return result
    try:
        result["previous"], before, then = mark(life, contract, context.previous, context, stress=False)
        result.update(explain_inputs(life, contract, context, (stage, market), (before, then, result["previous"])))
    except (TermError, ArithmeticError, ValueError) as error:
        result["previous"] = {"message": f"not valued on the previous snapshot: {error}"}
    return result


def explain_inputs(life, contract, context: Context, now: tuple, before: tuple) -> dict:
    """The moves the previous greeks multiply, as the greeks define them, from today's (Stage,
    Market) and the previous snapshot's (Stage, Market, mark): "vol_move", today's implied vol at the previous
    at-the-money strike and the fixing date less the previous one (the vega of sticky strike:
    a move of the spot along the smile is delta's); "rate_move", today's flat rate to the
    payment less the previous curve's forward rate from today to it (its roll is theta's); and
    "unfixed", today's value had the window closes since the previous snapshot been what the
    previous greeks assume: today's at today's spot (delta's), earlier ones at the previous
    spot (theta's) (None without new closes)."""
    (stage, market), (stage_then, market_then, then) = now, before
    inputs = {"vol_move": 0.0, "rate_move": 0.0, "unfixed": None}
    if market is None or market_then is None:
        return inputs
    t_pay = market.time_to(stage.paid)
    if t_pay > 0:
        start, end = market_then.time_to(market.as_of), market_then.time_to(stage.paid)
        forward = float(market_then.log_discount(market_then.rate, start) - market_then.log_discount(
            market_then.rate, end)) / (end - start)
        inputs["rate_move"] = market.flat_equivalent(0.0, t_pay)[0] - forward
    if stage.live and stage_then.live:
        at = [then["strike"]]
        vol = market.implied_vols(at, market.time_to(stage.fixing))[0] if isinstance(market.vol, Surface) \
            else market.vol
        inputs["vol_move"] = float(vol) - then["vol"]
        known = len(stage_then.closes)
        if len(stage.closes) > known:
            assumed = stage.closes[:known] + tuple(market.spot if day == market.as_of else market_then.spot
                                                   for day in stage.days[known:])
            inputs["unfixed"] = float(life.value(contract, market_of(contract, context.today, assumed, context.flat)))
    return inputs


def market_of(contract, day: Day, closes: tuple, flat: bool) -> Market:
    """The snapshot's market with these window closes, checked; the deal's flat market with `flat`."""
    values = day.market
    market = Market(values["spot"], values["as_of"], values["vol"], values["rate"], values["div_yield"], closes)
    return contract.flat_market(market) if flat else market


def mark(life, contract, day: Day, context: Context, stress: bool) -> tuple[dict, object, Market | None]:
    """A deal's mark on `day`, its Stage and the market it was valued in (None once settled): the
    status, value and greeks per security, the at-the-money strike and vol to its fixing, its
    fixing date, the cash it pays on the day, and with `stress` its stress grid."""
    stage = life.stage(contract, day.as_of, context.history, day.since)
    paid_today = stage.status == SETTLED and stage.payment is not None
    result = dict(status=stage.status, fixing=stage.fixing.isoformat(), paid_today=paid_today,
                  cash=stage.payment if paid_today else 0.0)
    market = None
    if not stage.live:
        if stage.status == FIXED:
            market = market_of(contract, day, (), context.flat)
            value = life.paid_value(contract, stage.payment, market)
            later = market.bumped(as_of=min(day.as_of + ONE_DAY, stage.paid))
            theta = life.paid_value(contract, stage.payment, later) - value
            greeks = bumped_greeks(lambda moved: life.paid_value(contract, stage.payment, moved), market, value, theta)
        else:
            value, greeks = 0.0, np.zeros(5)
        result.update(value=float(value), greeks=[float(g) for g in greeks])
        if stress:
            result["stress"] = np.zeros((len(SPOT_MOVES), len(VOL_SHIFTS))).tolist()
        return result, stage, market
    market = market_of(contract, day, stage.closes, context.flat)
    value = float(life.value(contract, market))
    result.update(value=value, greeks=[float(g) for g in life.greeks(contract, market)])
    t_fix = market.time_to(stage.fixing)
    result.update(strike=market.spot * float(market.growth(t_fix)),
                  vol=float(market.flattened(t_fix, market.time_to(stage.paid)).vol))
    if stress:
        result["stress"] = stress_grid(life, contract, market, value).tolist()
    return result, stage, market


def stress_grid(life, contract, market: Market, value: float) -> np.ndarray:
    """Value changes per security for each spot move (rows; a surface's smile moves with the
    spot: Market.moved) and parallel vol shift (columns), by full revaluation, the spot moves of
    a vol shift in one call; NaN where the deal cannot be valued (a vol shifted out of the range
    a vol may take, or a market the engines refuse)."""
    grid = np.full((len(SPOT_MOVES), len(VOL_SHIFTS)), np.nan)
    lowest, highest = market.vol.vol_range if isinstance(market.vol, Surface) else (market.vol, market.vol)
    spots = market.spot * (1 + np.array(SPOT_MOVES))
    for j, shift in enumerate(VOL_SHIFTS):
        if not (MARKET_FIELDS["vol"].allows(lowest + shift) and MARKET_FIELDS["vol"].allows(highest + shift)):
            continue
        shifted = market.shifted(vol=shift) if shift else market
        try:
            grid[:, j] = life.values_at(contract, shifted, spots) - value
        except TermError:  # some spot the engine refuses: each spot on its own
            for i, spot in enumerate(spots):
                try:
                    grid[i, j] = life.values_at(contract, shifted, [spot])[0] - value
                except TermError:
                    pass
    grid[SPOT_MOVES.index(0.0), VOL_SHIFTS.index(0.0)] = 0.0  # the snapshot itself
    return grid
