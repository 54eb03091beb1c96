"""Buffer Securities (the bullish sibling): payments from the definition, closed form against
direct integration, Monte Carlo and finite differences, over wide grids, through the Excel path."""
import datetime as dt
import itertools

import numpy as np
import pytest
from scipy import integrate

from xlfuncs.products.bullish_note import BullishBufferNote

EPOCH = dt.date(1899, 12, 30)
TERMS = [100.0, 1.5, 0.10, 0.25, 0.10]  # initial, participation, buffer, max_return, min_payment
DATES = (dt.date(2024, 12, 2), dt.date(2024, 12, 5))


def serial(day):
    return (day - EPOCH).days


def by_definition(final, initial, participation, buffer, max_return, min_payment, principal=1000.0):
    """The issue's words, one final value at a time: principal plus participation x the gain up
    to the maximum return; principal if the fall is at most the buffer; 1:1 loss beyond the
    buffer, floored at the minimum payment."""
    change = (final - initial) / initial
    if change > 0:
        return principal + principal * min(participation * change, max_return)
    if change >= -buffer:
        return principal
    return max(principal + principal * (change + buffer), principal * min_payment)


# Worked by hand from the definition: initial 100, participation 150%, buffer 10%, cap 25%, floor 10%.
@pytest.mark.parametrize("final, payment", [(105.0, 1075.0), (150.0, 1250.0), (400.0, 1250.0), (100.0, 1000.0),
                                            (95.0, 1000.0), (90.0, 1000.0), (70.0, 800.0), (10.0, 200.0),
                                            (0.0, 100.0)])
def test_payments_worked_by_hand(excel, final, payment):
    assert excel("BULL_NOTE_PAYMENT", final, *TERMS) == [[pytest.approx(payment, abs=1e-9)]]


TERM_GRID = [[100.0, p, b, c, m] for p, b, c, m in itertools.product(
    [0.3, 1.0, 1.5, 4.0], [0.0, 0.1, 0.35], [0.0, 0.05, 0.25, 2.0], [0.0, 0.1, 0.6])]


@pytest.mark.parametrize("terms", TERM_GRID)
def test_payment_is_the_definition_over_a_wide_grid(excel, terms):
    finals = np.concatenate([np.linspace(0, 400, 801), [100 * (1 - terms[2]), 100 * (1 + terms[3] / terms[1])]])
    got = np.array(excel("BULL_NOTE_PAYMENT", [[f] for f in finals], *terms), dtype=float).ravel()
    expected = [by_definition(f, *terms) for f in finals]
    assert got == pytest.approx(expected, abs=1e-9)
    note = BullishBufferNote(*terms)
    assert note.maximum_payment == pytest.approx(max(expected))
    assert note.lowest_payment == pytest.approx(min(expected))


@pytest.mark.parametrize("price, final", [(1000.0, 90.0), (1075.0, 105.0), (1250.0, 100 * (1 + 0.25 / 1.5)),
                                          (800.0, 70.0), (200.0, 10.0)])
def test_breakeven_is_the_lowest_final_paying_the_price(excel, price, final):
    [[breakeven]] = excel("BULL_NOTE_BREAKEVEN", price, *TERMS)
    assert breakeven == pytest.approx(final, abs=1e-9)
    assert by_definition(breakeven * (1 + 1e-9), *TERMS) >= price - 1e-6
    assert by_definition(breakeven * (1 - 1e-6), *TERMS) < price


@pytest.mark.parametrize("price, message", [
    (1250.01, "price must not exceed the maximum payment, principal x (1 + max_return) = 1250"),
    (100.0, "price must be above the lowest payment, principal x max(min_payment, buffer) = 100"),
])
def test_breakeven_refuses_prices_no_final_value_defines(excel, price, message):
    with pytest.raises(Exception) as error:
        excel("BULL_NOTE_BREAKEVEN", price, *TERMS)
    assert str(error.value).startswith(message)


def test_table_rows_are_final_return_payment_total_return(excel):
    rows = excel("BULL_NOTE_TABLE", [[105.0], [70.0], [None]], *TERMS)
    assert rows[0] == pytest.approx([105.0, 0.05, 1075.0, 0.075])
    assert rows[1] == pytest.approx([70.0, -0.3, 800.0, -0.2])
    assert rows[2] == [""] * 4  # a blank scenario cell gives a blank row


def valuation_args(spot=100.0, as_of=dt.date(2023, 11, 29), vol=0.15, rate=0.053, div_yield=0.015, spread=0.01,
                   terms=TERMS):
    return [spot, serial(as_of), *map(serial, DATES), vol, rate, div_yield, spread, *terms]


def integrated_value(spot, as_of, vol, rate, div_yield, spread, terms):
    """Direct numerical integration of the payment (by the definition) against the lognormal
    density, the whole payment discounted at rate + funding spread."""
    t_fix, t_pay = ((day - as_of).days / 365 for day in DATES)
    x = np.linspace(-12, 12, 400_001)
    final = spot * np.exp((rate - div_yield - vol ** 2 / 2) * t_fix + vol * np.sqrt(t_fix) * x)
    payment = BullishBufferNote(*terms).payment(final)  # equal to by_definition, held above
    density = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
    return np.exp(-(rate + spread) * t_pay) * integrate.trapezoid(payment * density, x)


STATES = list(itertools.product([60.0, 100.0, 140.0], [0.05, 0.2, 0.8], [-0.01, 0.053],
                                [dt.date(2023, 11, 29), dt.date(2024, 10, 1)]))


@pytest.mark.parametrize("terms", TERM_GRID[::5])
@pytest.mark.parametrize("spot, vol, rate, as_of", STATES[::3])
def test_closed_form_equals_direct_integration(excel, terms, spot, vol, rate, as_of):
    [[value]] = excel("BULL_NOTE_VALUE", *valuation_args(spot, as_of, vol, rate, terms=terms))
    assert value == pytest.approx(integrated_value(spot, as_of, vol, rate, 0.015, 0.01, terms), abs=1e-6)


@pytest.mark.parametrize("spot, vol", [(100.0, 0.15), (70.0, 0.4), (130.0, 0.05)])
def test_monte_carlo_agrees_with_the_closed_form(excel, spot, vol):
    [[value]] = excel("BULL_NOTE_VALUE", *valuation_args(spot, vol=vol))
    [[mc, stderr]] = excel("BULL_NOTE_MC_VALUE", *valuation_args(spot, vol=vol), None, None, 11)
    assert 0 < stderr <= 0.02 and abs(mc - value) <= 4 * stderr


@pytest.mark.parametrize("spot, vol, as_of", [(100.0, 0.15, dt.date(2023, 11, 29)), (85.0, 0.3, dt.date(2024, 6, 3)),
                                              (118.0, 0.1, dt.date(2024, 11, 20))])
def test_greeks_are_differences_of_the_value(excel, spot, vol, as_of):
    [[delta, gamma, vega, theta, rho]] = excel("BULL_NOTE_GREEKS", *valuation_args(spot, as_of, vol))

    def value(**changes):
        base = dict(spot=spot, as_of=as_of, vol=vol, rate=0.053)
        return excel("BULL_NOTE_VALUE", *valuation_args(**{**base, **changes}))[0][0]

    h = 1e-5 * spot  # 12 days before fixing near the cap strike the curvature is high
    assert delta == pytest.approx((value(spot=spot + h) - value(spot=spot - h)) / (2 * h), rel=1e-6, abs=1e-9)
    h = 1e-3 * spot
    assert gamma == pytest.approx((value(spot=spot + h) - 2 * value() + value(spot=spot - h)) / h ** 2,
                                  rel=1e-3, abs=1e-8)
    assert vega == pytest.approx((value(vol=vol + 1e-4) - value(vol=vol - 1e-4)) / 2e-4 / 100, rel=1e-5, abs=1e-9)
    assert rho == pytest.approx((value(rate=0.053 + 1e-5) - value(rate=0.053 - 1e-5)) / 2e-5 / 100, rel=1e-5)
    tomorrow = value(as_of=as_of + dt.timedelta(days=1))
    assert theta == pytest.approx(tomorrow - value(), rel=2e-2, abs=1e-3)  # per-day rate against a day's step


def test_cap_solver_round_trips(excel):
    [[value]] = excel("BULL_NOTE_VALUE", *valuation_args())
    args = valuation_args()
    del args[11]  # max_return
    [[cap]] = excel("BULL_NOTE_SOLVE_MAX_RETURN", value, *args)
    assert cap == pytest.approx(TERMS[3], abs=1e-10)


def test_table_returns_the_columns_asked_for(excel):
    assert excel("BULL_NOTE_TABLE", [[105.0], [70.0]], *TERMS, None, [[3, 4]]) == [
        [pytest.approx(1075.0), pytest.approx(0.075)], [pytest.approx(800.0), pytest.approx(-0.2)]]
    with pytest.raises(Exception, match="columns must be from 1 to 4 for this table, got 5"):
        excel("BULL_NOTE_TABLE", [[105.0]], *TERMS, None, [[2, 5]])


# What the attacking review found.

def test_monte_carlo_is_honest_where_the_final_value_has_a_heavy_tail(excel):
    """Vol 300%: the control's mean comes from paths every replicate misses alike, so it is not used."""
    args = [30.0, 45293, 45658, 45661, 3.0, 0.03, 0.01, 0.0, 100.0, 0.01, 0.3, 10.0, 0.0, 1000.0]
    [[value]] = excel("BULL_NOTE_VALUE", *args)
    for seed in (None, 1, 2):
        [[mc, stderr]] = excel("BULL_NOTE_MC_VALUE", *args, None, seed)
        assert abs(mc - value) <= 4 * stderr


def test_once_fixed_the_monte_carlo_value_is_the_closed_form_with_no_error(excel):
    args = valuation_args(as_of=DATES[0], spot=104.0)
    [[value]] = excel("BULL_NOTE_VALUE", *args)
    assert excel("BULL_NOTE_MC_VALUE", *args) == [[pytest.approx(value, abs=1e-12), 0.0]]


def test_a_forward_too_far_from_initial_is_an_error_not_a_rounded_value(excel):
    args = [5e8, 45293, 81793, 81793, 0.2, 0.0, -0.5, 0.0, 1e9, 1.0, 1e-12, 10.0, 1.0, 1.0]  # truly 11.0
    with pytest.raises(Exception, match=r"div_yield must keep the forward to final_date within a factor of 1e\+06"):
        excel("BULL_NOTE_VALUE", *args)


def test_a_cap_the_final_values_never_reach_is_not_solved_for(excel):
    base = [100.0, 45293, 45323, 45326, 0.005, 0.03, 0.01, 0.0, 100.0, 1.0, 0.1]
    [[value]] = excel("BULL_NOTE_VALUE", *base, 0.05, 0.1, 1000.0)
    with pytest.raises(Exception, match=r"target_value is the value at every max_return from 0.8\d+% to "
                                        r"1000.0000% .*: no single maximum return"):
        excel("BULL_NOTE_SOLVE_MAX_RETURN", value, *base, 0.1, 1000.0)


def test_a_wrong_number_of_arguments_is_a_clear_error(excel):
    with pytest.raises(Exception, match=r"^BULL_NOTE_VALUE takes 13 to 14 arguments \(spot, as_of, .*\), got 15"):
        excel("BULL_NOTE_VALUE", *valuation_args(), 1000.0, 5.0)


def test_a_well_defined_cap_is_solved_even_where_the_value_moves_slowly(excel):
    """The second review had a 60% cap refused as 'flat' although 1% of cap moves $0.015."""
    a = [4550.58, 45259, 45628, 45631, 0.15, 0.053, 0.015, 0.01, 4550.58, 1.0, 0.1]
    [[value]] = excel("BULL_NOTE_VALUE", *a, 0.6, 0.1)
    assert excel("BULL_NOTE_SOLVE_MAX_RETURN", value, *a, 0.1) == [[pytest.approx(0.6, abs=1e-9)]]


def test_a_blank_columns_cell_is_every_column(excel):
    assert excel("BULL_NOTE_TABLE", [[105.0]], *TERMS, None, [[None]]) == \
        [[pytest.approx(105.0), pytest.approx(0.05), pytest.approx(1075.0), pytest.approx(0.075)]]


def test_a_vanishing_participation_is_refused_by_its_rule(excel):
    """Participation 1e-320 put the cap strike at infinity: 'no finite result', naming nothing."""
    args = valuation_args(terms=[100.0, 1e-320, 0.1, 0.23, 0.1])
    with pytest.raises(Exception, match=r"^participation must be a fraction from 1e-06 to 10"):
        excel("BULL_NOTE_VALUE", *args)
