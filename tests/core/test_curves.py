"""Rate and dividend curves: log-linear discount factors against QuantLib's DiscountCurve (its
default interpolation is log-linear), and the cells a curve range may hold."""
import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
import QuantLib as ql

from xlfuncs.core.cells import COM_ERROR_BASE, converted, serial
from xlfuncs.core.fields import TermError
from xlfuncs.core.market import FIELDS, Market

AS_OF = dt.date(2025, 5, 28)
RATE = FIELDS["rate"]


def ql_date(day: dt.date) -> ql.Date:
    return ql.Date(day.day, day.month, day.year)


def random_curve(rng):
    count = int(rng.integers(1, 9))
    days = np.sort(rng.choice(np.arange(1, 40 * 365), count, replace=False))
    dates = [AS_OF + dt.timedelta(days=int(d)) for d in days]
    times = days / 365
    forwards = rng.uniform(-0.02, 0.08, count)  # a desk's curve: forwards of a few percent
    zeros = np.cumsum(forwards * np.diff(times, prepend=0.0)) / times
    return dates, zeros


@pytest.mark.parametrize("seed", range(40))
def test_discount_factors_match_quantlib_log_linear(seed):
    rng = np.random.default_rng(seed)
    dates, zeros = random_curve(rng)
    curve = converted(RATE, [[day, float(zero)] for day, zero in zip(dates, zeros)])
    market = Market(100.0, AS_OF, 0.2, curve, 0.0)
    ql.Settings.instance().evaluationDate = ql_date(AS_OF)
    times = [(day - AS_OF).days / 365 for day in dates]
    oracle = ql.DiscountCurve([ql_date(AS_OF), *map(ql_date, dates)],
                              [1.0, *(np.exp(-z * t) for z, t in zip(zeros, times))], ql.Actual365Fixed())
    oracle.enableExtrapolation()
    probes = sorted({int(d) for d in rng.integers(0, 50 * 365, 60)} | {(day - AS_OF).days for day in dates})
    for days in probes:
        expected = oracle.discount(ql_date(AS_OF + dt.timedelta(days=days)))
        assert market.discount(days / 365) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # Forwards between pillars are flat: the forward over any stretch inside one segment is the segment's.
    segment_end = times[0]
    inside = [segment_end * 0.25, segment_end * 0.75]
    forward = -(np.log(market.discount(inside[1])) - np.log(market.discount(inside[0]))) / (inside[1] - inside[0])
    assert forward == pytest.approx(zeros[0], rel=1e-9, abs=1e-12)


def test_dividend_curve_moves_the_forward_and_a_later_as_of_holds_the_forwards():
    rates = converted(RATE, [[dt.date(2026, 5, 28), 0.04], [dt.date(2027, 5, 28), 0.05]])
    dividends = converted(FIELDS["div_yield"], [[dt.date(2026, 5, 28), 0.01], [dt.date(2030, 5, 28), 0.02]])
    market = Market(5000.0, AS_OF, 0.2, rates, dividends)
    t = 1.5
    last = (dt.date(2030, 5, 28) - AS_OF).days / 365  # a leap day inside: 5.0027 years
    dividend_forward = (0.02 * last - 0.01) / (last - 1)  # rate forwards 4% then 6%
    expected = np.exp(-(0.01 + dividend_forward * (t - 1)) + 0.04 + 0.06 * (t - 1))
    assert market.growth(t) == pytest.approx(expected, rel=1e-12)
    # A day later (theta), the curves' forwards are held: the discount factor from the new as_of
    # is the ratio of the anchor's.
    later = market.bumped(as_of=AS_OF + dt.timedelta(days=1))
    assert later.discount(t) == pytest.approx(market.discount(t + 1 / 365) / market.discount(1 / 365), rel=1e-13)
    assert later.short_rate(later.rate) == pytest.approx(0.04, rel=1e-12)


def test_a_one_pillar_curve_is_a_flat_rate():
    flat = Market(100.0, AS_OF, 0.2, 0.043, 0.013)
    curve = Market(100.0, AS_OF, 0.2, converted(RATE, [[dt.date(2026, 1, 2), 0.043]]), 0.013)
    for t in (0.01, 0.5, 3.0, 40.0):
        assert curve.discount(t) == pytest.approx(flat.discount(t), rel=1e-13)
        assert curve.growth(t) == pytest.approx(flat.growth(t), rel=1e-13)


@pytest.mark.parametrize("rows, message", [
    ([[dt.date(2026, 1, 1), 5.0]], "rate must be a fraction: 5% is 0.05, got 5 (row 1 of the rate curve)"),
    ([[dt.date(2026, 1, 1), "4.3%"]], "rate must be a fraction: 4.3% is 0.043"),
    ([[dt.date(2026, 1, 1), 0.04], [dt.date(2025, 12, 1), 0.04]], "rate curve dates must increase, got 2025-12-01"),
    ([[dt.date(2026, 1, 1), 0.04], [dt.date(2026, 1, 1), 0.04]], "rate curve dates must increase"),
    ([[dt.date(2025, 5, 28), 0.04]], "rate curve pillar dates must be after as_of (2025-05-28), got 2025-05-28"),
    ([[dt.date(2026, 1, 1), "#N/A"]], "rate is an error cell (#N/A) (row 1 of the rate curve): fix or clear it"),
    ([[dt.date(2026, 1, 1), COM_ERROR_BASE + 2023]], "rate is an error cell (#REF!)"),
    ([[dt.date(2026, 1, 1), None]], "rate curve needs a date and a zero rate in every row, got a blank cell"),
    ([[None, None], [None, None]], "rate curve has no pillars"),
    ([["date", "rate"]], "rate curve has no pillars"),
    ([[dt.date(2026, 1, 1), 0.04, 1.0]], "rate must be one number or a two-column range"),
    ([["soon", 0.04]], "rate curve date (row 1 of the rate curve) must be a date"),
    ([[dt.date(2025, 5, 29), -0.3], [dt.date(2025, 5, 30), 0.4]], "rate curve's forward rate from 2025-05-29 to "
                                                                  "2025-05-30 must be within +-100%"),
])
def test_bad_curves_are_refused_by_name(rows, message):
    with pytest.raises(TermError, match=None) as raised:
        Market(100.0, AS_OF, 0.2, converted(RATE, rows), 0.0)
    assert message in str(raised.value)


def test_curve_cells_as_excel_hands_them_over():
    """Headers skipped, blank rows at the end skipped, serials and Decimals (currency cells) read."""
    rows = [["Date", "Zero rate"], [serial(dt.date(2026, 1, 1)), Decimal("0.0425")],
            [dt.datetime(2027, 1, 1), 0.045], [None, None]]
    market = Market(100.0, AS_OF, 0.2, converted(RATE, rows), 0.0)
    assert market.rate.zeros == (0.0425, 0.045)
    assert converted(RATE, [[0.043]]) == 0.043
