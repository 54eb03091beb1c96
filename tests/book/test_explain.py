"""The P&L explain against the greeks' own calculus: for market moves of size e the previous
greeks explain the change up to a residual of second order (cross and higher terms), so
halving every move divides the residual by about four, and the explained part is first order."""
import datetime as dt

import pytest

from xlfuncs.book.ledger import explain
from xlfuncs.book.marks import Context, Day, mark_deal
from xlfuncs.book.positions import Position
from xlfuncs.core.history import History
from xlfuncs.products import BY_KEY

from example_book import closes

AS_OF = dt.date(2025, 6, 12)
DEALS = [
    ("note", dict(initial=5900.0, participation=3.0, buffer=0.1, max_return=0.23, min_payment=0.1, principal=1000.0,
                  final_date=dt.date(2026, 3, 2), payment_date=dt.date(2026, 3, 5), funding_spread=0.01)),
    ("bullish_note", dict(initial=5700.0, participation=1.5, buffer=0.1, max_return=0.25, min_payment=0.1,
                          principal=1000.0, final_date=dt.date(2025, 9, 2), payment_date=dt.date(2025, 9, 5),
                          funding_spread=0.01)),
    ("warrant", dict(initial=5800.0, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728,
                     window_start=dt.date(2025, 5, 30), window_end=dt.date(2025, 6, 27),
                     expiration=dt.date(2025, 9, 26), settlement=dt.date(2025, 10, 3))),
    ("warrant", dict(initial=5800.0, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728,
                     window_start=dt.date(2025, 6, 16), window_end=dt.date(2025, 7, 15),
                     expiration=dt.date(2025, 10, 10), settlement=dt.date(2025, 10, 17))),
]
HISTORY = History.of(closes())
SPOT, VOL, RATE = 5813.96, 0.17, 0.043


def snapshot(move: float) -> dict:
    return dict(as_of=AS_OF, spot=SPOT * (1 + move), vol=VOL + move, rate=RATE + move / 10, div_yield=0.013)


def explained(move: float) -> dict:
    """The explain of a book of one long position in each deal from the snapshot to the one
    moved by `move` (spot by that fraction, vol by that much, rate by a tenth of it), same day."""
    context = Context(Day(snapshot(move), AS_OF), Day(snapshot(0.0), AS_OF), HISTORY, False)
    marks = [mark_deal(product, BY_KEY[product].contract.of(terms), context) for product, terms in DEALS]
    positions = [Position(i + 2, f"D-{i}", product, 1.0, None, None, i) for i, (product, _) in enumerate(DEALS)]
    return {row["line"]: row["amount"] for row in explain(positions, marks, context)}


def test_halving_every_move_quarters_the_residual():
    """Residual ratios for moves of 2%, 1%, 0.5%, 0.25% fall towards 4 (second order; the third
    order term fades): 5.4, 5.0, 4.6 on this book."""
    moves = [explained(move) for move in (0.02, 0.01, 0.005, 0.0025)]
    ratios = [big["residual"] / small["residual"] for big, small in zip(moves, moves[1:])]
    assert ratios[0] > ratios[1] > ratios[2] and 3.5 < ratios[2] < 5.0, ratios
    big = moves[1]
    first_order = [abs(big[line]) for line in ("delta", "vega", "rho")]
    assert abs(big["residual"]) < 0.1 * sum(first_order)
    assert big["theta"] == big["fixings"] == big["life_cycle"] == big["new_positions"] == 0.0


def test_the_explained_lines_are_first_order_in_the_move():
    big, small = explained(0.01), explained(0.005)
    for line in ("delta", "vega", "rho"):
        assert big[line] / small[line] == pytest.approx(2.0, rel=1e-12 if line != "delta" else 0.05)
    assert big["gamma"] / small["gamma"] == pytest.approx(4.0, rel=1e-12)


def test_no_move_no_change():
    lines = explained(0.0)
    assert lines["current_value"] == lines["previous_value"]
    assert all(lines[line] == 0.0 for line in ("delta", "gamma", "vega", "rho", "residual"))


def across_a_day(move: float) -> dict:
    """The explain of one warrant whose window starts today (its first close today's spot, as the
    history says) from yesterday's snapshot, the spot then lower by `move`."""
    warrant = BY_KEY["warrant"].contract.of(dict(
        initial=5500.0, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728,
        window_start=AS_OF, window_end=dt.date(2025, 7, 11), expiration=dt.date(2025, 10, 3),
        settlement=dt.date(2025, 10, 10)))
    yesterday = dt.date(2025, 6, 11)
    previous = dict(as_of=yesterday, spot=SPOT / (1 + move), vol=VOL, rate=RATE, div_yield=0.013)
    context = Context(Day(snapshot(0.0), yesterday), Day(previous, yesterday), HISTORY, False)
    marks = [mark_deal("warrant", warrant, context)]
    return {row["line"]: row["amount"] for row in explain([Position(2, "W", "warrant", 1.0, None, None, 0)], marks,
                                                          context)}


def test_today_s_first_close_at_today_s_spot_is_no_fixing():
    """Delta already moves today's close with the spot (the lookback starts at it): the fixings
    line is 0 and the residual stays tiny. Counting the close against yesterday's spot put about
    $0.2 a warrant in fixings and minus that in the residual (the second review)."""
    assert HISTORY.closes[AS_OF] == SPOT
    for move in (0.0, 0.01, -0.01, 0.005):
        lines = across_a_day(move)
        assert lines["fixings"] == 0.0
        assert abs(lines["residual"]) < 1e-4 * lines["current_value"], (move, lines)
