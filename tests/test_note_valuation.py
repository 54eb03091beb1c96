"""Note valuation: replication against direct integration, parity, greeks against finite
differences of the closed form, Monte Carlo against the closed form, the max-return solver."""
import datetime as dt

import numpy as np
import pytest
from scipy import integrate

from xlfuncs import analytic
from xlfuncs.analytic import black_scholes
from xlfuncs.market import Market
from xlfuncs.products.bearish_note import BearishBufferNote as BufferNote

EPOCH = dt.date(1899, 12, 30)


def serial(day):
    return (dt.date.fromisoformat(day) - EPOCH).days


# Pricing date Nov 29 2023, valuation date Dec 2 2024, maturity Dec 5 2024 (from the supplement);
# spot, vol, rate, dividend yield and funding spread are plausible market inputs.
MARKET = dict(spot=4550.58, as_of="2023-11-29", vol=0.15, rate=0.053, div_yield=0.015, funding_spread=0.01)
DATES = ("2024-12-02", "2024-12-05")
TERMS = [4550.58, 3.0, 0.10, 0.23, 0.10]


def note_args(spot=MARKET["spot"], as_of=MARKET["as_of"], vol=MARKET["vol"], rate=MARKET["rate"],
              div_yield=MARKET["div_yield"], funding_spread=MARKET["funding_spread"], terms=TERMS):
    return [spot, serial(as_of), serial(DATES[0]), serial(DATES[1]), vol, rate, div_yield,
            funding_spread, *terms]


def value(excel, **changes):
    return excel("NOTE_VALUE", *note_args(**changes))[0][0]


def integrated_value(spot, as_of, vol, rate, div_yield, funding_spread, terms=TERMS):
    """Direct numerical integration of the payment against the lognormal density."""
    note = BufferNote(*terms)
    t_fix = (dt.date.fromisoformat(DATES[0]) - dt.date.fromisoformat(as_of)).days / 365
    t_pay = (dt.date.fromisoformat(DATES[1]) - dt.date.fromisoformat(as_of)).days / 365
    x = np.linspace(-12, 12, 400_001)
    final = spot * np.exp((rate - div_yield - vol ** 2 / 2) * t_fix + vol * np.sqrt(t_fix) * x)
    density = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
    options = integrate.trapezoid((note.payment(final) - note.principal) * density, x)
    return note.principal * np.exp(-(rate + funding_spread) * t_pay) + np.exp(-rate * t_pay) * options


@pytest.mark.parametrize("changes", [{}, {"vol": 0.30}, {"spot": 4100.0}, {"spot": 5200.0},
                                     {"rate": 0.01, "div_yield": 0.03}, {"as_of": "2024-10-01"}])
def test_replication_equals_direct_integration_of_the_payment(excel, changes):
    market = {**MARKET, **changes}
    assert value(excel, **changes) == pytest.approx(integrated_value(**market), abs=1e-6)


def test_cap_out_of_reach_drops_the_short_put(excel):
    terms = [4550.58, 1.0, 0.10, 2.0, 0.10]  # 100% participation never reaches a 200% cap
    assert len(BufferNote(*terms).legs()) == 3
    assert value(excel, terms=terms) == pytest.approx(integrated_value(**MARKET, terms=terms), abs=1e-6)


@pytest.mark.parametrize("strike", [3000.0, 4550.58, 6000.0])
def test_put_call_parity(strike):
    t_fix, t_pay, spot, rate, div_yield = 1.01, 1.02, 4550.58, 0.053, 0.015
    call = black_scholes(True, spot, strike, t_fix, t_pay, 0.2, rate, div_yield)
    put = black_scholes(False, spot, strike, t_fix, t_pay, 0.2, rate, div_yield)
    forward = spot * np.exp((rate - div_yield) * t_fix)
    assert call[0] - put[0] == pytest.approx(np.exp(-rate * t_pay) * (forward - strike), rel=1e-12)
    assert call[1] - put[1] == pytest.approx(np.exp(-rate * t_pay) * forward / spot, rel=1e-12)
    assert call[2] == pytest.approx(put[2]) and call[3] == pytest.approx(put[3])


def test_limits_zero_vol_and_the_valuation_date(excel):
    # Vol -> 0: the payment at the forward, discounted.
    note, t_fix, t_pay = BufferNote(*TERMS), 369 / 365, 372 / 365
    forward = MARKET["spot"] * np.exp((MARKET["rate"] - MARKET["div_yield"]) * t_fix)
    payment = note.payment(forward)
    expected = (note.principal * np.exp(-(MARKET["rate"] + 0.01) * t_pay)
                + np.exp(-MARKET["rate"] * t_pay) * (payment - note.principal))
    market = Market(MARKET["spot"], dt.date.fromisoformat(MARKET["as_of"]), 0.15, MARKET["rate"],
                    MARKET["div_yield"]).bumped(vol=1e-6)  # below the vol rule, so past Market's check
    dated = BufferNote(*TERMS, 1000.0, *map(dt.date.fromisoformat, DATES), 0.01)
    limit = analytic.note_value(dated, market)
    assert limit == pytest.approx(expected, abs=1e-6)
    with pytest.raises(Exception, match=r"vol must be a fraction from 0.005 to 3 \(16.7% is 0.167\), got 1e-06"):
        value(excel, vol=1e-6)
    # As of the valuation date's close the final value is the spot: only discounting is left.
    at_fixing = value(excel, as_of=DATES[0], spot=4300.0)
    paid = note.payment(4300.0)
    assert at_fixing == pytest.approx(1000 * np.exp(-0.063 * 3 / 365) + np.exp(-0.053 * 3 / 365) * (paid - 1000))


def test_greeks_agree_with_finite_differences_of_the_closed_form(excel):
    [[delta, gamma, vega, theta, rho]] = excel("NOTE_GREEKS", *note_args())
    h = 1.0
    up, base, down = value(excel, spot=MARKET["spot"] + h), value(excel), value(excel, spot=MARKET["spot"] - h)
    assert delta == pytest.approx((up - down) / (2 * h), rel=1e-5)
    assert gamma == pytest.approx((up - 2 * base + down) / h ** 2, rel=1e-3)
    assert vega == pytest.approx((value(excel, vol=0.1501) - value(excel, vol=0.1499)) / 0.0002 / 100, rel=1e-5)
    assert rho == pytest.approx((value(excel, rate=0.0531) - value(excel, rate=0.0529)) / 0.0002 / 100, rel=1e-5)
    # theta per calendar day: the value's rate of change as as_of moves, one day's worth
    later = value(excel, as_of="2023-11-30")
    assert theta == pytest.approx(later - base, rel=0.02)
    assert delta < 0  # bearish


def test_monte_carlo_agrees_with_the_closed_form_within_3_standard_errors(excel):
    closed = value(excel)
    for seed in (1, 2, 3):
        [[mc, stderr]] = excel("NOTE_MC_VALUE", *note_args(), None, None, seed)
        assert 0 < stderr < 0.05
        assert abs(mc - closed) < 3 * stderr


def test_monte_carlo_is_reproducible_and_reports_its_paths(excel):
    first = excel("NOTE_MC_VALUE", *note_args(), None, 20000, 7)
    assert excel("NOTE_MC_VALUE", *note_args(), None, 20000, 7) == first
    assert excel("NOTE_MC_VALUE", *note_args(), None, 20000, 8) != first


def test_max_return_solver_round_trips(excel):
    for max_return in (0.15, 0.23, 0.40):
        target = value(excel, terms=[*TERMS[:3], max_return, TERMS[4]])
        [[solved]] = excel("NOTE_SOLVE_MAX_RETURN", target, *note_args()[:11], TERMS[4])
        assert solved == pytest.approx(max_return, abs=1e-10)


@pytest.mark.parametrize("target", [850.0, 1100.0])
def test_max_return_solver_refuses_an_unreachable_target(excel, target):
    no_upside = value(excel, terms=[*TERMS[:3], 0.0, TERMS[4]])
    uncapped = value(excel, terms=[*TERMS[:3], TERMS[1], TERMS[4]])
    with pytest.raises(Exception) as error:
        excel("NOTE_SOLVE_MAX_RETURN", target, *note_args()[:11], TERMS[4])
    assert str(error.value) == (f"target_value must be between {no_upside:.4f} (no upside) and "
                                f"{uncapped:.4f} (cap out of reach), got {target:g}")
