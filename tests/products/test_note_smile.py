"""Notes under the smile and on curves: against QuantLib's Black engine, on its own discount
curves and variance surface, over a wide grid of notes and markets; greeks against finite
differences of the value with the surface held in strike; a flat surface is the flat vol."""
import datetime as dt
import math

import numpy as np
import pytest
import QuantLib as ql

from xlfuncs.core.cells import converted
from xlfuncs.core.market import FIELDS, Market
from xlfuncs.engines.montecarlo import MonteCarlo
from xlfuncs.products import buffer_note
from xlfuncs.products.bearish_note import BearishBufferNote
from xlfuncs.products.bullish_note import BullishBufferNote

from helpers import FUNCTIONS, officejs, serial, surface_grid, svi_rows

PRICING = dt.date(2023, 11, 29)


def ql_date(day: dt.date) -> ql.Date:
    return ql.Date(day.day, day.month, day.year)


def ql_curve(rows, as_of):
    """QuantLib's log-linear discount curve through the zero rates of a curve range."""
    dates = [as_of, *(day for day, _ in rows)]
    factors = [1.0, *(math.exp(-zero * (day - as_of).days / 365) for day, zero in rows)]
    curve = ql.DiscountCurve(list(map(ql_date, dates)), factors, ql.Actual365Fixed())
    curve.enableExtrapolation()
    return ql.YieldTermStructureHandle(curve)


def kinks(note) -> list[float]:
    """Final values where the payment's slope changes, from the term sheet's definition: the cap,
    the initial value, the buffer and the minimum payment (favourable return c/p, 0, -b, m-1-b)."""
    returns = [note.max_return / note.participation, 0.0, -note.buffer, note.min_payment - 1 - note.buffer]
    finals = {round(note.initial * (1 + note.DIRECTION * r), 10) for r in returns}
    return sorted(final for final in finals if final > 0)


def quantlib_value(note, market_rows, spot, as_of, fixing, payment, spread):
    """E[payment] as payment(0) + slope(0) x forward + sum of slope changes x calls at the kinks,
    each call priced by QuantLib's analytic European engine on QuantLib's curves and a
    QuantLib variance surface through the note's implied vols at the kinks; then discounted from
    the fixing to the payment on the rate curve, and at the funding spread."""
    rate_rows, dividend_rows, vols_at = market_rows
    ql.Settings.instance().evaluationDate = ql_date(as_of)
    rates, dividends = ql_curve(rate_rows, as_of), ql_curve(dividend_rows, as_of)
    strikes = kinks(note)
    matrix = ql.Matrix(len(strikes), 2)
    t_fix = (fixing - as_of).days / 365
    for i, vol in enumerate(vols_at(strikes, t_fix)):
        matrix[i][0] = matrix[i][1] = vol  # the same implied vol at the fixing and later: exact at the fixing
    surface = ql.BlackVarianceSurface(ql_date(as_of), ql.NullCalendar(), [ql_date(fixing), ql_date(fixing) + 365],
                                      strikes, matrix, ql.Actual365Fixed())
    process = ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(spot)), dividends, rates,
                                           ql.BlackVolTermStructureHandle(surface))
    engine = ql.AnalyticEuropeanEngine(process)

    def call(strike):
        option = ql.EuropeanOption(ql.PlainVanillaPayoff(ql.Option.Call, strike), ql.EuropeanExercise(ql_date(fixing)))
        option.setPricingEngine(engine)
        return option.NPV() / rates.discount(ql_date(fixing))  # undiscounted

    # The payment is linear between kinks: each segment's slope from its ends' payments.
    ends = [0.0, *strikes, 2 * strikes[-1]]
    payments = [float(note.payment(final)) for final in ends]
    slopes = [(b - a) / (right - left) for a, b, left, right in zip(payments, payments[1:], ends, ends[1:])]
    forward = spot * dividends.discount(ql_date(fixing)) / rates.discount(ql_date(fixing))
    expected = payments[0] + slopes[0] * forward
    for strike, before, after in zip(strikes, slopes, slopes[1:]):
        expected += (after - before) * call(strike)
    t_pay = (payment - as_of).days / 365
    return expected * rates.discount(ql_date(payment)) * math.exp(-spread * t_pay)


def random_case(rng):
    cls = BearishBufferNote if rng.random() < 0.5 else BullishBufferNote
    note = cls(initial=4550.58, participation=float(rng.uniform(0.5, 4)), buffer=float(rng.uniform(0, 0.3)),
               max_return=float(rng.uniform(0.05, 1.0)), min_payment=float(rng.choice([0.0, 0.1, 0.5, 1.0])),
               principal=1000.0, final_date=PRICING + dt.timedelta(days=int(rng.integers(40, 1100))))
    note = note.__class__(**{**vars(note), "payment_date": note.final_date + dt.timedelta(days=3),
                             "funding_spread": float(rng.uniform(0, 0.02))})
    as_of = PRICING + dt.timedelta(days=int(rng.integers(0, 30)))
    spot = 4550.58 * float(rng.uniform(0.8, 1.2))
    rate_rows = [(as_of + dt.timedelta(days=d), float(z)) for d, z in
                 zip((91, 365, 730, 1825), np.sort(rng.uniform(0.0, 0.06, 4))[::int(rng.choice([-1, 1]))])]
    dividend_rows = [(as_of + dt.timedelta(days=d), float(z)) for d, z in zip((180, 1000), rng.uniform(0.0, 0.03, 2))]
    params = dict(atm_vol=float(rng.uniform(0.1, 0.3)), eta=float(rng.uniform(0.3, 1.2)), rho=float(rng.uniform(-0.8, 0)))
    vol = surface_grid(spot, as_of, **params) if rng.random() < 0.5 else svi_rows(as_of, **params)
    return note, spot, as_of, rate_rows, dividend_rows, vol


def market_of(spot, as_of, rate_rows, dividend_rows, vol):
    return Market(spot, as_of, converted(FIELDS["vol"], vol), converted(FIELDS["rate"], [list(r) for r in rate_rows]),
                  converted(FIELDS["div_yield"], [list(r) for r in dividend_rows]))


@pytest.mark.parametrize("seed", range(60))
def test_note_value_matches_quantlib_black_on_its_curves_and_surface(seed):
    note, spot, as_of, rate_rows, dividend_rows, vol = random_case(np.random.default_rng(seed))
    market = market_of(spot, as_of, rate_rows, dividend_rows, vol)
    expected = quantlib_value(note, (rate_rows, dividend_rows, market.implied_vols), spot, as_of, note.final_date,
                              note.payment_date, note.funding_spread)
    assert buffer_note.note_value(note, market) == pytest.approx(expected, rel=1e-10, abs=1e-9)


def note_cells(note, spot, as_of, vol, rate, div_yield):
    """NOTE_VALUE's (or BULL_NOTE_VALUE's) arguments as cells."""
    return [spot, serial(as_of), serial(note.final_date), serial(note.payment_date), vol, rate, div_yield,
            note.funding_spread, note.initial, note.participation, note.buffer, note.max_return, note.min_payment,
            note.principal]


def test_ranges_through_the_excel_call_paths():
    """The Office.js payload and the Python function agree, with dates as serials, a header on a
    curve and the surface as a grid; and the value is the engine's on the same market."""
    note, spot, as_of, rate_rows, dividend_rows, vol = random_case(np.random.default_rng(7))
    name = "NOTE_VALUE" if isinstance(note, BearishBufferNote) else "BULL_NOTE_VALUE"
    rates = [["date", "zero"], *([serial(day), zero] for day, zero in rate_rows)]
    dividends = [[serial(day), zero] for day, zero in dividend_rows]
    vol_cells = [[serial(row[0]) if isinstance(row[0], dt.date) else row[0], *row[1:]] for row in vol]
    args = note_cells(note, spot, as_of, vol_cells, rates, dividends)
    expected = buffer_note.note_value(note, market_of(spot, as_of, rate_rows, dividend_rows, vol))
    assert FUNCTIONS[name](*args) == pytest.approx(expected, rel=1e-14)
    assert officejs(name, *args)[0][0] == pytest.approx(expected, rel=1e-14)


def test_a_flat_surface_and_one_pillar_curves_are_the_flat_inputs():
    note, spot, as_of, *_ = random_case(np.random.default_rng(3))
    flat = Market(spot, as_of, 0.18, 0.043, 0.013)
    grid = [[None, 3000.0, 4500.0, 7000.0], *([as_of + dt.timedelta(days=d), 0.18, 0.18, 0.18] for d in (30, 400))]
    surfaced = Market(spot, as_of, converted(FIELDS["vol"], grid),
                      converted(FIELDS["rate"], [[as_of + dt.timedelta(days=100), 0.043]]),
                      converted(FIELDS["div_yield"], [[as_of + dt.timedelta(days=100), 0.013]]))
    assert buffer_note.note_value(note, surfaced) == pytest.approx(buffer_note.note_value(note, flat), rel=1e-12)
    assert buffer_note.note_greeks(note, surfaced) == pytest.approx(buffer_note.note_greeks(note, flat), rel=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_greeks_with_a_surface_are_differences_of_the_value(seed):
    """Delta and gamma sticky strike (the surface stays), vega for every vol moved alike, rho for
    the rate curve moved in parallel, theta a calendar day later with the forwards and each
    strike's vol at the fixing date held: display units as the flat greeks."""
    note, spot, as_of, rate_rows, dividend_rows, vol = random_case(np.random.default_rng(100 + seed))
    market = market_of(spot, as_of, rate_rows, dividend_rows, vol)
    delta, gamma, vega, theta, rho = buffer_note.note_greeks(note, market)

    def value(moved):
        return buffer_note.note_value(note, moved)

    h = 1e-4 * spot
    up, base, down = (value(market.bumped(spot=spot + s)) for s in (h, 0.0, -h))
    assert delta == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)
    assert gamma == pytest.approx((up - 2 * base + down) / h ** 2, rel=1e-3, abs=1e-9)
    shift = 1e-4
    vega_fd = (value(market.bumped(vol=market.vol.shifted(shift))) - value(market.bumped(vol=market.vol.shifted(-shift))))
    assert vega == pytest.approx(vega_fd / (2 * shift) / 100, rel=1e-6, abs=1e-9)
    rho_fd = (value(market.bumped(rate=market.rate.shifted(1e-5))) - value(market.bumped(rate=market.rate.shifted(-1e-5))))
    assert rho == pytest.approx(rho_fd / 2e-5 / 100, rel=1e-6, abs=1e-9)
    later = market.bumped(as_of=as_of + dt.timedelta(days=1))
    one_day = value(later) - base
    assert theta == pytest.approx(one_day, rel=0.05, abs=2e-3)  # a derivative against a day's change


@pytest.mark.parametrize("seed", range(8))
def test_the_monte_carlo_on_the_law_the_surface_implies_agrees_with_the_replication(seed):
    """NOTE_MC_VALUE draws the final value from the distribution the surface's call prices imply
    (no legs): within 4 standard errors of the replication, on curves and grids or SVI rows."""
    note, spot, as_of, rate_rows, dividend_rows, vol = random_case(np.random.default_rng(200 + seed))
    market = market_of(spot, as_of, rate_rows, dividend_rows, vol)
    estimate = buffer_note.note_mc_value(note, market, MonteCarlo(paths=65536, seed=seed))
    assert abs(estimate.value - buffer_note.note_value(note, market)) < 4 * estimate.stderr
    assert estimate.stderr < 0.05


STEEP_WING = {'as_of': 45259,
              'buffer': 0.1,
              'div_yield': [['date', 'zero'], [45289, 0.004671689118038169], [45439, 0.012041529573595708],
                            [45624, 0.004219172982550059], [45989, 0.005546478208066719],
                            [47059, 0.021028678013860616]],
              'final_date': 45359,
              'funding_spread': 0.01,
              'initial': 4550.58,
              'max_return': 0.5,
              'min_payment': 0.5,
              'participation': 2.0,
              'payment_date': 45362,
              'principal': 1000.0,
              'rate': 0.010943119950812622,
              'spot': 5915.754,
              'vol': [['expiry', 'a', 'b', 'rho', 'm', 'sigma'],
                      [45273, 0.000637873023947547, 0.06903720980850997, -0.8564468890370337, 0.029693152157873836,
                       0.017897956013461634],
                      [45289, 0.0013673174487588186, 0.10107663863094404, -0.8564468890370337, 0.04347342569028759,
                       0.026204205488939057],
                      [45350, 0.004152695299160355, 0.1761493909324917, -0.8564468890370337, 0.07576248637485553,
                       0.045666881084165285],
                      [45624, 0.016749483507844547, 0.3537665958023836, -0.8564468890370337, 0.1521562848016257,
                       0.09171429419389192]]}


def test_a_steep_left_wing_is_drawn_whole():
    """The validator's case: an SVI left wing steep enough that the law read over 10 deviations
    left 1.6% of chance out, and the Monte Carlo came out $1.23 off at 230 of its errors."""
    [[value, stderr]] = FUNCTIONS["NOTE_MC_VALUE"](**STEEP_WING)
    assert abs(value - FUNCTIONS["NOTE_VALUE"](**STEEP_WING)) < 4 * stderr and stderr < 0.02
