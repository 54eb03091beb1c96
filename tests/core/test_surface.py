"""Volatility surfaces: the quotes kept, the interpolation and extrapolation rules, Dupire's local
vol against finite differences of Black prices, and arbitrage and hostile cells refused by name."""
import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

from xlfuncs.core.cells import COM_ERROR_BASE, converted
from xlfuncs.core.fields import TermError
from xlfuncs.core.market import FIELDS, Market

from helpers import ssvi_variance, surface_grid, svi_rows

AS_OF = dt.date(2025, 5, 28)
SPOT = 5907.55
VOL = FIELDS["vol"]


def market_of(rows, rate=0.043, div_yield=0.013, spot=SPOT):
    return Market(spot, AS_OF, converted(VOL, rows), rate, div_yield)


def black_call(forward, strike, variance):
    """Undiscounted Black call, the independent formula of the checks."""
    root = np.sqrt(variance)
    d1 = np.log(forward / strike) / root + root / 2
    return forward * norm.cdf(d1) - strike * norm.cdf(d1 - root)


def test_the_surface_passes_through_every_quote():
    rows = surface_grid(SPOT, AS_OF)
    market = market_of(rows)
    for row in rows[1:]:
        t = (row[0] - AS_OF).days / 365
        assert market.implied_vols(rows[0][1:], t) == pytest.approx(row[1:], rel=1e-13)


@pytest.mark.parametrize("between", [(30, 91), (182, 365), (365, 730)])
def test_total_variance_is_linear_in_time_at_fixed_moneyness(between):
    market = market_of(surface_grid(SPOT, AS_OF))
    t0, t1 = between[0] / 365, between[1] / 365
    for weight in (0.1, 0.5, 0.93):
        t = t0 + weight * (t1 - t0)
        for k in (-0.4, -0.1, 0.0, 0.07, 0.25):
            variances = [market.implied_vols([SPOT * market.growth(s) * math.exp(k)], s)[0] ** 2 * s
                         for s in (t0, t1, t)]
            assert variances[2] == pytest.approx(variances[0] + weight * (variances[1] - variances[0]), rel=1e-12)


def test_before_the_first_expiry_the_vol_at_fixed_moneyness_is_held():
    market = market_of(surface_grid(SPOT, AS_OF))
    for k in (-0.3, 0.0, 0.2):
        vols = [market.implied_vols([SPOT * market.growth(s) * math.exp(k)], s)[0] for s in (5 / 365, 30 / 365)]
        assert vols[0] == pytest.approx(vols[1], rel=1e-12)


def test_after_the_last_expiry_every_moneyness_gains_the_at_the_money_variance_rate():
    market = market_of(surface_grid(SPOT, AS_OF))
    last = 730 / 365

    def w(k, t):
        return market.implied_vols([SPOT * market.growth(t) * math.exp(k)], t)[0] ** 2 * t
    rate = w(0.0, last) / last
    for t in (3.0, 10.0):
        for k in (-0.5, 0.0, 0.3):
            assert w(k, t) == pytest.approx(w(k, last) + (t - last) * rate, rel=1e-12)


def test_a_short_steep_smile_stays_free_of_arbitrage_years_after_its_only_expiry():
    """The validator's case: one 7-day expiry and a one-year note. Holding the vol at each
    moneyness made year-long calls fall faster than the strike rises; the variance rate does not."""
    market = market_of(surface_grid(SPOT, AS_OF, days=(7,), atm_vol=0.25, eta=1.2), rate=0.0, div_yield=0.0)
    strikes = SPOT * np.geomspace(0.2, 5, 2001)
    for t in (0.5, 1.0, 3.0):
        calls = black_call(SPOT, strikes, np.array(market.implied_vols(list(strikes), t)) ** 2 * t)
        slopes = np.diff(calls) / np.diff(strikes)
        assert (slopes >= -1 - 1e-9).all() and (slopes <= 1e-12).all() and (np.diff(slopes) >= -1e-9).all()


def test_the_grid_between_strikes_follows_the_smile_it_was_sampled_from():
    """A natural spline through 13 strikes stays within a tenth of a vol point of SSVI."""
    market = market_of(surface_grid(SPOT, AS_OF))
    for day in (30, 182, 730):
        t, forward = day / 365, SPOT * market.growth(day / 365)
        strikes = np.linspace(0.5, 1.5, 101) * SPOT
        expected = [math.sqrt(ssvi_variance(math.log(k / forward), t) / t) for k in strikes]
        assert np.max(np.abs(np.array(market.implied_vols(list(strikes), t)) - expected)) < 1e-3


@pytest.mark.parametrize("rows", [surface_grid(SPOT, AS_OF), svi_rows(AS_OF)], ids=["grid", "svi"])
def test_no_arbitrage_far_beyond_the_quotes(rows):
    """Call prices from the surface's vols, independent of its density formula: falling in strike,
    convex, from 5% to 2000% of the forward, at quoted expiries, between them and beyond."""
    market = market_of(rows, rate=0.0, div_yield=0.0)
    strikes = SPOT * np.geomspace(0.05, 20, 4001)
    previous = None
    for t in (10 / 365, 30 / 365, 60 / 365, 182 / 365, 500 / 365, 730 / 365, 4.0):
        variance = np.array(market.implied_vols(list(strikes), t)) ** 2 * t
        calls = black_call(SPOT, strikes, variance)
        slopes = np.diff(calls) / np.diff(strikes)
        assert (slopes <= 1e-12).all() and (slopes >= -1 - 1e-9).all()
        assert (np.diff(slopes) >= -1e-9).all()
        if previous is not None:  # calendar: a later call is worth no less, where the check holds it
            near = np.abs(np.log(strikes / SPOT)) < 4 * 0.16 * math.sqrt(t)
            assert (calls[near] >= previous[near] - 1e-9).all()
        previous = calls


def local_vol_by_differences(market, strike, t, h_t=1e-5, h_k=1e-4):
    """Dupire with zero rates: 2 dC/dT / (K^2 d2C/dK2), from Black prices at the surface's vols."""
    def call(k, s):
        return black_call(SPOT, k, market.implied_vols([k], s)[0] ** 2 * s)
    dk = h_k * strike
    dc_dt = (call(strike, t + h_t) - call(strike, t - h_t)) / (2 * h_t)
    d2c = (call(strike + dk, t) - 2 * call(strike, t) + call(strike - dk, t)) / dk ** 2
    return math.sqrt(2 * dc_dt / (strike ** 2 * d2c))


@pytest.mark.parametrize("rows", [surface_grid(SPOT, AS_OF, rate=0.0, div_yield=0.0), svi_rows(AS_OF)],
                         ids=["grid", "svi"])
def test_local_vol_is_dupire_by_finite_differences_of_call_prices(rows):
    market = market_of(rows, rate=0.0, div_yield=0.0)
    for t in (45 / 365, 120 / 365, 300 / 365, 500 / 365):
        for moneyness in (0.7, 0.85, 0.97, 1.0, 1.08, 1.2):
            strike = SPOT * moneyness
            expected = local_vol_by_differences(market, strike, t)
            assert market.vol.local_vol(np.array([strike]), t)[0] == pytest.approx(expected, rel=2e-5)


def test_shifted_surface_moves_every_vol_and_its_local_vol_is_the_shifted_dupire():
    market = market_of(svi_rows(AS_OF), rate=0.0, div_yield=0.0)
    shifted = market.bumped(vol=market.vol.shifted(0.01))
    strikes = list(SPOT * np.linspace(0.6, 1.4, 9))
    for t in (0.1, 0.7, 3.0):
        assert np.array(shifted.implied_vols(strikes, t)) == pytest.approx(np.array(market.implied_vols(strikes, t))
                                                                         + 0.01, rel=1e-12)
    for strike in strikes[2:7]:
        assert shifted.vol.local_vol(np.array([strike]), 0.4)[0] == pytest.approx(
            local_vol_by_differences(shifted, strike, 0.4), rel=2e-5)


def test_flat_and_term_structure_surfaces():
    flat = market_of([[None, 5000.0, 6000.0], [dt.date(2025, 8, 1), 0.2, 0.2], [dt.date(2026, 8, 1), 0.2, 0.2]])
    assert flat.vol.flat_in_strike
    assert flat.vol.local_vol(np.array([100.0, 5907.55, 1e5]), 0.4) == pytest.approx(0.2, rel=1e-12)
    term = market_of([[None, 5000.0], [dt.date(2025, 8, 1), 0.15], [dt.date(2026, 8, 1), 0.2]])
    t0, t1 = (dt.date(2025, 8, 1) - AS_OF).days / 365, (dt.date(2026, 8, 1) - AS_OF).days / 365
    forward_variance = (0.2 ** 2 * t1 - 0.15 ** 2 * t0) / (t1 - t0)
    assert term.vol.local_vol(np.array([3000.0, 9000.0]), 0.5) == pytest.approx(math.sqrt(forward_variance))
    assert term.vol.local_vol(np.array([3000.0]), 0.1) == pytest.approx(0.15)


def test_one_expiry_and_one_strike_surfaces():
    one = market_of([[None, 5000.0, 5900.0, 7000.0], [dt.date(2025, 12, 1), 0.22, 0.18, 0.16]])
    assert one.implied_vols([5900.0], 0.1) == pytest.approx(one.implied_vols([5900.0 * one.growth(0.5)
                                                                              / one.growth(0.1)], 0.5), rel=1e-13)
    single = market_of([[None, 5000.0], [dt.date(2025, 12, 1), 0.22]])
    assert single.implied_vols([1000.0, 5000.0, 9000.0], 0.5) == pytest.approx([0.22] * 3)


def test_sticky_strike_the_surface_stays_when_spot_moves():
    market = market_of(surface_grid(SPOT, AS_OF))
    moved = market.bumped(spot=SPOT * 1.01)
    assert moved.implied_vols([5500.0, 6000.0], 0.3) == market.implied_vols([5500.0, 6000.0], 0.3)


def test_svi_rows_are_their_formula():
    rows = [["Expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), 0.01, 0.1, -0.5, 0.05, 0.2]]
    market = market_of(rows, rate=0.0, div_yield=0.0)
    t = 1.0
    for k in (-1.0, -0.2, 0.0, 0.3, 2.0):
        w = 0.01 + 0.1 * (-0.5 * (k - 0.05) + math.sqrt((k - 0.05) ** 2 + 0.04))
        assert market.implied_vols([SPOT * math.exp(k)], t)[0] == pytest.approx(math.sqrt(w / t), rel=1e-12)


def grid(*rows):
    return [[None, 4000.0, 5000.0, 5900.0, 7000.0], *rows]


BAD_SURFACES = [
    (grid([dt.date(2025, 9, 1), 0.3, 0.25, 0.2, 0.18], [dt.date(2026, 3, 1), 0.1, 0.09, 0.08, 0.07]),
     "calendar arbitrage: total variance falls from expiry 2025-09-01 to 2026-03-01 at strike"),
    (grid([dt.date(2025, 9, 1), 0.25, 0.2, 0.35, 0.18]), "butterfly arbitrage at expiry 2025-09-01"),
    (grid([dt.date(2025, 9, 1), 0.2, 0.2, 0.2, 2.5]), "arbitrage"),
    ([["expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), -0.0410, 0.1331, 0.3060, 0.3586, 0.4153]],
     "butterfly arbitrage at expiry 2026-05-28: the density of the final value is negative"),  # Vogt's example
    ([["expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), 0.01, 1.5, 0.5, 0.0, 0.1]],
     "b (1 + |rho|), the steeper wing's slope, must be at most 2 (Lee's bound), got 2.25"),
    ([["expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), 0.01, -0.1, 0.5, 0.0, 0.1]],
     "b must be at least 0, got -0.1"),
    ([["expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), -0.05, 0.1, 0.0, 0.0, 0.1]],
     "the least total variance, must be above 0"),
    ([["expiry", "a", "b", "rho", "m", "sigma"], [dt.date(2026, 5, 28), 10.0, 0.1, 0.0, 0.0, 0.1]],
     "gives an at-the-money vol of 3.16"),
    ([["expiry", "a", "b", "rho"], [dt.date(2026, 5, 28), 0.01, 0.1, 0.0]], "need the header expiry, a, b, rho, m"),
    (grid([dt.date(2025, 9, 1), 0.2, 18.0, 0.2, 0.2]),
     "vol must be a fraction: 18% is 0.18, got 18 (row 2, column 3"),
    (grid([dt.date(2025, 9, 1), 0.2, "#N/A", 0.2, 0.2]), "vol is an error cell (#N/A) (row 2, column 3 of the surface)"),
    (grid([dt.date(2025, 9, 1), 0.2, COM_ERROR_BASE + 2007, 0.2, 0.2]), "vol is an error cell (#DIV/0!)"),
    (grid([dt.date(2025, 9, 1), 0.2, None, 0.2, 0.2]), "needs a vol at every strike and expiry, got a blank cell "
                                                       "(row 2, column 3"),
    (grid([dt.date(2025, 9, 1), 0.2, "high", 0.2, 0.2]), "vol must be a number, got 'high'"),
    (grid([dt.date(2025, 9, 1), 0.2, 0.2, 0.2, 0.2], [dt.date(2025, 8, 1), 0.2, 0.2, 0.2, 0.2]),
     "expiries must increase, got 2025-08-01 after 2025-09-01"),
    (grid([dt.date(2025, 5, 28), 0.2, 0.2, 0.2, 0.2]), "expiries must be after as_of (2025-05-28)"),
    (grid([None, 0.2, 0.2, 0.2, 0.2]), "needs an expiry date in every row"),
    ([[None, 5000.0, 4000.0], [dt.date(2025, 9, 1), 0.2, 0.2]], "strikes must increase, got 4000 after 5000"),
    ([[None, 5000.0, -1.0], [dt.date(2025, 9, 1), 0.2, 0.2]], "strikes must be index levels above 0"),
    ([[None, 5000.0, "#REF!"], [dt.date(2025, 9, 1), 0.2, 0.2]], "vol is an error cell (#REF!)"),
    ([[1.0, 5000.0], [dt.date(2025, 9, 1), 0.2]], "top-left cell blank or a label"),
    ([[None, None, 5000.0], [dt.date(2025, 9, 1), 0.2, 0.2]], "needs a strike in every column of its first row, got a "
                                                               "blank cell (column 2"),
    ([[None, 0.2]], "vol must be one number or a surface range"),
    ([[None, 5000.0, 6000.0]], "vol must be one number or a surface range"),
    ([[0.2, 0.3]], "vol must be one number or a surface range"),
]


@pytest.mark.parametrize("rows, message", BAD_SURFACES)
def test_bad_surfaces_are_refused_by_name(rows, message):
    with pytest.raises(TermError) as raised:
        market_of(rows)
    assert message in str(raised.value)


@pytest.mark.parametrize("label", ["Expiry \\ Strike", "Expiry", "expiry", " "])
def test_a_grid_may_carry_a_label_in_its_corner(label):
    labelled = [[label, *surface_grid(SPOT, AS_OF)[0][1:]], *surface_grid(SPOT, AS_OF)[1:]]
    assert market_of(labelled).implied_vols([SPOT], 0.5) == market_of(surface_grid(SPOT, AS_OF)).implied_vols([SPOT],
                                                                                                            0.5)


def test_a_range_drawn_larger_than_its_quotes():
    rows = [[*row, None] for row in surface_grid(SPOT, AS_OF)] + [[None] * 15]
    assert market_of(rows).implied_vols([SPOT], 0.5) == market_of(surface_grid(SPOT, AS_OF)).implied_vols([SPOT], 0.5)
