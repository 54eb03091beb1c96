"""The edges a mutation test of the core found unguarded (issue 16): a note's fixing and payment
dates, rules exactly at their limits, a window without a trading day, the exact engine's
payoff for an upper strike above 1 expiring on the window's last day, the sign of a zero in
the warrant table, and the errors only the Python API can reach. Each against independent
arithmetic: the payment rule itself, its slope, discounting."""
import datetime as dt
import math
import re

import numpy as np
import pytest

from xlfuncs.core.fields import TermError
from xlfuncs.core.market import Market
from xlfuncs.products import buffer_note, lookback_warrant
from xlfuncs.products.bearish_note import BearishBufferNote
from xlfuncs.products.bullish_note import BullishBufferNote
from xlfuncs.products.put_warrant import PutWarrant

from helpers import lookback_engine
from oracles import EXACT, expected_payment, quadrature

EPOCH = dt.date(1899, 12, 30)
FINAL, PAID = dt.date(2024, 12, 2), dt.date(2024, 12, 5)
RATE, SPREAD = 0.053, 0.01
NOTES = {"NOTE": (BearishBufferNote, [100.0, 3.0, 0.10, 0.23, 0.10]),
         "BULL_NOTE": (BullishBufferNote, [100.0, 1.5, 0.10, 0.25, 0.05])}


def serial(day: dt.date) -> int:
    return (day - EPOCH).days


def note_args(prefix, spot, as_of, final=FINAL, paid=PAID, terms=None, rate=RATE, div_yield=0.015):
    return [spot, serial(as_of), serial(final), serial(paid), 0.15, rate, div_yield, SPREAD,
            *(terms or NOTES[prefix][1])]


def slope(note, spot, h=0.01):
    """The payment's slope at `spot`, from the payment rule itself (one-sided, away from kinks)."""
    return float((note.payment(spot + h) - note.payment(spot - h)) / (2 * h))


# Spots in every regime of both notes, none at a kink (the kinks are tested on their own).
SPOTS = [1.0, 30.0, 75.0, 85.0, 93.0, 97.0, 103.0, 107.0, 112.0, 130.0, 250.0]


@pytest.mark.parametrize("prefix", sorted(NOTES))
@pytest.mark.parametrize("spot", SPOTS)
def test_on_the_fixing_date_the_value_is_the_discounted_payment_and_delta_its_slope(excel, prefix, spot):
    """As of the final date's close the payment is fixed by the spot: value = discounted payment,
    delta = discounted slope of the payment (a change making every leg's delta the same whatever
    the spot survived), no gamma or vega, theta and rho only the discounting's."""
    cls, terms = NOTES[prefix]
    note, years = cls(*terms), 3 / 365
    discount = math.exp(-(RATE + SPREAD) * years)
    [[value]] = excel(f"{prefix}_VALUE", *note_args(prefix, spot, FINAL))
    [[delta, gamma, vega, theta, rho]] = excel(f"{prefix}_GREEKS", *note_args(prefix, spot, FINAL))
    assert value == pytest.approx(discount * float(note.payment(spot)), rel=1e-14)
    assert delta == pytest.approx(discount * slope(note, spot), abs=1e-9)
    assert gamma == 0 and vega == 0
    assert theta == pytest.approx((RATE + SPREAD) * value / 365, rel=1e-12)
    assert rho == pytest.approx(-years * value / 100, rel=1e-12)


@pytest.mark.parametrize("prefix", sorted(NOTES))
@pytest.mark.parametrize("spot", SPOTS)
def test_on_the_payment_date_the_value_is_the_payment_and_nothing_moves(excel, prefix, spot):
    cls, terms = NOTES[prefix]
    note = cls(*terms)
    args = note_args(prefix, spot, PAID, final=PAID)
    [[value]] = excel(f"{prefix}_VALUE", *args)
    [[delta, gamma, vega, theta, rho]] = excel(f"{prefix}_GREEKS", *args)
    assert value == pytest.approx(float(note.payment(spot)), rel=1e-15)
    assert delta == pytest.approx(slope(note, spot), abs=1e-9)
    assert (gamma, vega, theta, rho) == (0, 0, 0, 0)  # paid: no discounting left, nothing accrues


@pytest.mark.parametrize("prefix", sorted(NOTES))
def test_a_leg_exactly_at_the_money_on_its_fixing_day_is_finite(excel, prefix):
    """A spot exactly at each leg's strike on the fixing date: the intrinsic value, no 0/0."""
    cls, terms = NOTES[prefix]
    note = cls(*terms)
    for _, _, strike in note.legs():
        [[value]] = excel(f"{prefix}_VALUE", *note_args(prefix, strike, FINAL))
        greeks = excel(f"{prefix}_GREEKS", *note_args(prefix, strike, FINAL))[0]
        assert value == pytest.approx(math.exp(-(RATE + SPREAD) * 3 / 365) * float(note.payment(strike)), rel=1e-14)
        assert all(math.isfinite(g) for g in greeks)


@pytest.mark.parametrize("prefix, terms, strike", [
    ("NOTE", [100.0, 3.0, 0.10, 3.0, 0.10], "cap"),  # cap strike I (1 - c/p) exactly 0: no leg
    ("NOTE", [100.0, 3.0, 0.10, 3.0 * (1 - 1e-9), 0.10], "cap"),  # just above 0: a leg
    ("BULL_NOTE", [100.0, 1.5, 0.10, 0.25, 0.10], "floor"),  # floor strike I (m - b) exactly 0
    ("BULL_NOTE", [100.0, 1.5, 0.10, 0.25, 0.10 + 1e-9], "floor"),  # just above 0
])
def test_legs_with_a_strike_at_or_just_above_zero_value_as_the_payment_integrates(excel, prefix, terms, strike):
    note = NOTES[prefix][0](*terms)
    strikes = sorted(leg[2] for leg in note.legs())
    assert strikes[0] > 0 and (strikes[0] < 1e-6) == (terms != [100.0, 3.0, 0.10, 3.0, 0.10] and
                                                      terms != [100.0, 1.5, 0.10, 0.25, 0.10])
    as_of = dt.date(2023, 11, 29)
    [[value]] = excel(f"{prefix}_VALUE", *note_args(prefix, 100.0, as_of, terms=terms))
    integrated = expected_payment(note, 100.0, (FINAL - as_of).days / 365, 0.15, RATE - 0.015)
    assert value == pytest.approx(integrated * math.exp(-(RATE + SPREAD) * (PAID - as_of).days / 365), abs=1e-7)


def test_the_hundred_year_limit_is_a_limit_not_a_step_past_it(excel):
    as_of = dt.date(2000, 1, 3)
    last = as_of + dt.timedelta(days=36525)  # 100 years of 365.25 days
    [[value]] = excel("NOTE_VALUE", *note_args("NOTE", 100.0, as_of, last, last, rate=0.01, div_yield=0.01))
    note = BearishBufferNote(*NOTES["NOTE"][1])
    assert note.lowest_payment <= value / math.exp(-(0.01 + SPREAD) * 100) <= note.maximum_payment
    with pytest.raises(Exception, match=r"payment_date must be at most 100 years after as_of \(2000-01-03\), "
                                        r"got 2100-01-04"):
        excel("NOTE_VALUE", *note_args("NOTE", 100.0, as_of, last, last + dt.timedelta(days=1), rate=0.01,
                                       div_yield=0.01))


# Warrants

INITIAL, LOWER = 5907.55, 0.75
WARRANT = [INITIAL, 0.95, 0.75]


def test_a_lower_strike_equal_to_the_upper_strike_is_refused(excel):
    with pytest.raises(Exception, match=r"^lower_strike must be below upper_strike \(0.95\), got 0.95$"):
        excel("WARRANT_PAYMENT", 5000.0, INITIAL, 6000.0, 0.95, 0.95)


def test_a_premium_exactly_the_largest_payment_breaks_even_at_the_lower_strike(excel):
    lookback = 6000.0
    most = (0.95 * lookback - 0.75 * INITIAL) / lookback
    [[breakeven]] = excel("WARRANT_BREAKEVEN", most, INITIAL, lookback, 0.95, 0.75)
    assert breakeven == pytest.approx(0.75 * INITIAL, rel=1e-14)
    with pytest.raises(Exception, match="premium must not exceed the largest payment"):
        excel("WARRANT_BREAKEVEN", np.nextafter(most, 1.0), INITIAL, lookback, 0.95, 0.75)


@pytest.mark.parametrize("premium, notional", [(1.0, 1.0), (0.5, 1.0), (1e-6, 1e-6), (0.02728, 1.0)])
def test_a_table_whose_premium_is_at_most_one_unit_of_money(excel, premium, notional):
    """premium x notional <= 1: the total return is still payment / premium amount - 1."""
    finals = [[6500.0], [5500.0], [4000.0]]
    rows = excel("WARRANT_TABLE", finals, INITIAL, 6000.0, 0.95, 0.75, premium, notional)
    amount = premium * notional
    for row, [final] in zip(rows, finals):
        payment = notional * (max(0.95 * 6000 - final, 0) / 6000 - max(0.75 * INITIAL - final, 0) / INITIAL)
        assert row[5] == pytest.approx(payment, rel=1e-12, abs=1e-300)
        assert row[7] == pytest.approx(payment / amount - 1, rel=1e-9)


def test_a_premium_amount_too_small_to_divide_by_is_an_error(excel):
    with pytest.raises(Exception, match=r"premium x notional \(1e-306\) is too small to give a total return"):
        excel("WARRANT_TABLE", [[4000.0]], INITIAL, 6000.0, 0.95, 0.75, 1e-300, 1e-6)


def test_closes_between_zero_and_one_value_as_the_same_warrant_scaled(excel):
    """Homogeneity: every level divided by 10,000 (closes between 0 and 1) gives the same value."""
    closes = [5907.55, 5910.0, None, 5950.25, 5899.0]
    args = [5930.0, serial(dt.date(2025, 5, 28)), INITIAL, 0.95, 0.75, serial(dt.date(2025, 5, 21)),
            serial(dt.date(2025, 6, 20)), serial(dt.date(2025, 10, 10)), serial(dt.date(2025, 10, 17)), 0.167,
            0.043, 0.013, [[c] for c in closes]]
    scaled = list(args)
    scaled[0], scaled[2] = args[0] / 1e4, args[2] / 1e4
    scaled[12] = [[None if c is None else c / 1e4] for c in closes]
    assert all(c is None or 0 < c / 1e4 < 1 for c in closes)
    assert excel("WARRANT_VALUE", *scaled)[0][0] == pytest.approx(excel("WARRANT_VALUE", *args)[0][0], rel=1e-9)
    assert excel("LOOKBACK_VALUE", [[0.3], [0.7], [None]], 0.5) == [[0.7]]


def test_a_window_without_a_scheduled_trading_day_is_an_error_not_a_put_spread(excel):
    """Was: with that error removed the warrant was quietly valued as a plain put spread."""
    saturday, sunday = dt.date(2025, 5, 24), dt.date(2025, 5, 25)
    with pytest.raises(Exception, match=r"^the lookback window 2025-05-24 to 2025-05-25 has no scheduled trading "
                                        r"day$"):
        excel("WARRANT_VALUE", INITIAL, serial(dt.date(2025, 5, 20)), INITIAL, 0.95, 0.75, serial(saturday),
              serial(sunday), serial(dt.date(2025, 10, 10)), serial(dt.date(2025, 10, 17)), 0.167, 0.043, 0.013)


@pytest.mark.parametrize("upper", [1.05, 1.3, 2.0])
@pytest.mark.parametrize("ratio, vol", [(0.9, 0.167), (1.0, 0.5), (1.2, 1.0)])
@pytest.mark.parametrize("days", [(3,), (1, 4)])
def test_an_upper_strike_above_one_expiring_on_the_window_s_last_day(upper, ratio, vol, days):
    """The exact engine's closed-form last day: with the upper strike above 1 the payment at a
    new high is not 0 (the term an upper strike of at most 1 never exercises)."""
    warrant = PutWarrant(INITIAL, upper, LOWER, 1000.0)
    times = np.array(days) / 365
    t_exp, t_set = times[-1], times[-1] + 7 / 365
    exact = lookback_engine(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_set, vol, 0.043, 0.013)
    truth = quadrature(warrant, INITIAL, ratio * INITIAL, times, t_exp, t_set, vol, 0.043, 0.013)
    assert exact == pytest.approx(truth, abs=1000 * EXACT)


def test_zeros_in_the_warrant_table_are_positive_zeros(excel):
    """The breakeven row's payment minus premium and total return print $0.00 and 0.00%, not -0.00."""
    lookback = 6000.0
    breakeven = (0.95 - 0.02728) * lookback
    row = excel("WARRANT_TABLE", [[breakeven]], INITIAL, lookback, 0.95, 0.75, 0.02728)[0]
    assert row[6] == 0 and row[7] == 0
    assert math.copysign(1.0, row[6]) == 1.0 and math.copysign(1.0, row[7]) == 1.0


# Errors only the Python API can reach

def test_contracts_from_a_mapping_name_what_is_missing():
    with pytest.raises(TermError, match="^lower_strike is required$"):
        PutWarrant.of({"initial": INITIAL, "upper_strike": 0.95})
    with pytest.raises(TermError, match="^max_return is required$"):
        BearishBufferNote.of({"initial": 100.0, "participation": 3.0, "buffer": 0.1, "min_payment": 0.1})


@pytest.mark.parametrize("close, message", [(0.0, "closes must be from 1e-06 to 1e+09, got 0"),
                                            (-5.0, "closes must be from 1e-06 to 1e+09, got -5"),
                                            ("abc", "closes must be a number, got 'abc'"),
                                            (math.inf, "closes must be a finite number, got inf")])
def test_a_market_refuses_closes_that_are_no_index_level(close, message):
    with pytest.raises(TermError, match=f"^{re.escape(message)}$"):
        Market(5907.55, dt.date(2025, 5, 28), 0.167, 0.043, 0.013, (5907.55, close))


@pytest.mark.parametrize("missing, terms", [
    ("expiration", dict(expiration=None, settlement=None)), ("settlement", dict(settlement=None)),
    ("window_start", dict(window_start=None, window_end=None))])
def test_a_warrant_missing_a_date_says_which(missing, terms):
    dates = dict(window_start=dt.date(2025, 5, 21), window_end=dt.date(2025, 6, 20),
                 expiration=dt.date(2025, 10, 10), settlement=dt.date(2025, 10, 17))
    warrant = PutWarrant(INITIAL, 0.95, 0.75, 1000.0, 0.02728, **{**dates, **terms})
    market = Market(5907.55, dt.date(2025, 5, 28), 0.167, 0.043, 0.013, (5907.55,) * 5)
    for method in (lookback_warrant.warrant_value, lookback_warrant.warrant_greeks):
        with pytest.raises(TermError, match=f"^{missing} is required$"):
            method(warrant, market)


@pytest.mark.parametrize("missing, dates", [("payment_date", (FINAL, None, SPREAD)),
                                            ("final_date", (None, PAID, SPREAD)),
                                            ("funding_spread", (FINAL, PAID, None))])
def test_a_note_missing_a_date_or_its_spread_says_which(missing, dates):
    note = BearishBufferNote(*NOTES["NOTE"][1], 1000.0, *dates)
    market = Market(100.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)
    for method in (buffer_note.note_value, buffer_note.note_greeks):
        with pytest.raises(TermError, match=f"^{missing} is required$"):
            method(note, market)


# What the mutation run found still unguarded (mutmut on the five core modules)

@pytest.mark.parametrize("prefix", sorted(NOTES))
def test_on_the_fixing_date_delta_at_a_strike_is_the_slope_where_its_leg_is_worth_nothing(excel, prefix):
    """At a strike exactly, the leg there is at the money and contributes no delta (the
    derivative of max(F - K, 0) taken as 0 at F = K): the note's delta is the payment's slope
    on the side where that leg is out of the money, below a call's strike, above a put's."""
    cls, terms = NOTES[prefix]
    note, discount = cls(*terms), math.exp(-(RATE + SPREAD) * 3 / 365)
    for _, is_call, strike in note.legs():
        [[delta, *_]] = excel(f"{prefix}_GREEKS", *note_args(prefix, strike, FINAL))
        side = -0.5 if is_call else 0.5
        assert delta == pytest.approx(discount * slope(note, strike + side, h=0.25), abs=1e-9), strike


@pytest.mark.parametrize("prefix", sorted(NOTES))
@pytest.mark.parametrize("distance", [-0.6, -0.2, 0.2, 0.6])
def test_on_the_fixing_date_delta_within_a_point_of_a_strike(excel, prefix, distance):
    cls, terms = NOTES[prefix]
    note, discount = cls(*terms), math.exp(-(RATE + SPREAD) * 3 / 365)
    for _, _, strike in note.legs():
        spot = strike + distance
        [[delta, *_]] = excel(f"{prefix}_GREEKS", *note_args(prefix, spot, FINAL))
        assert delta == pytest.approx(discount * slope(note, spot, h=0.1), abs=1e-9), spot


def test_columns_that_are_not_whole_numbers_are_refused_in_a_range_too(excel):
    with pytest.raises(Exception, match=r"^columns must be a whole number, got 2.5 \(row 1, column 1 of the range\)$"):
        excel("NOTE_TABLE", [[95.0], [105.0]], *NOTES["NOTE"][1], 1000.0, [[2.5, 3.0]])
    assert excel("NOTE_TABLE", [[95.0], [105.0]], *NOTES["NOTE"][1], 1000.0, [[3.0, 4.0]]) == [
        [1150.0, 0.15], [1000.0, 0.0]]


def test_a_settlement_more_than_a_hundred_years_away_is_named(excel):
    """Within a hundred years of the window's start, beyond them from an as_of before it."""
    as_of, start = dt.date(2025, 5, 11), dt.date(2025, 5, 21)
    settlement = start + dt.timedelta(days=36524)
    with pytest.raises(Exception, match=r"^settlement must be at most 100 years after as_of \(2025-05-11\), "
                                        r"got 2125-05-21$"):
        excel("WARRANT_VALUE", INITIAL, serial(as_of), INITIAL, 0.95, 0.75, serial(start),
              serial(dt.date(2025, 6, 20)), serial(dt.date(2025, 10, 10)), serial(settlement), 0.167, 0.043, 0.013)


def test_a_close_far_from_the_initial_value_is_named(excel):
    with pytest.raises(Exception, match=r"^closes must be within a factor of 1000 of initial \(5907.55\), got 5$"):
        excel("WARRANT_VALUE", INITIAL, serial(dt.date(2025, 5, 28)), INITIAL, 0.95, 0.75,
              serial(dt.date(2025, 5, 21)), serial(dt.date(2025, 6, 20)), serial(dt.date(2025, 10, 10)),
              serial(dt.date(2025, 10, 17)), 0.167, 0.043, 0.013, [[INITIAL], [5.0], [INITIAL], [INITIAL], [INITIAL]])


@pytest.mark.parametrize("initial, lookback", [(100.0, 100.0), (100.0, 102.0), (INITIAL, 6000.0), (INITIAL, INITIAL)])
def test_every_breakeven_row_prints_positive_zeros(excel, initial, lookback):
    """The supplement's own tables included: 27.28 - 27.28 is -5.7e-15 in binary, printed -$0.00 if not handled."""
    [[breakeven]] = excel("WARRANT_BREAKEVEN", 0.02728, initial, lookback, 0.95, 0.75)
    row = excel("WARRANT_TABLE", [[breakeven]], initial, lookback, 0.95, 0.75, 0.02728)[0]
    assert (row[6], row[7]) == (0, 0)
    assert math.copysign(1.0, row[6]) == math.copysign(1.0, row[7]) == 1.0


def test_lookback_value_from_python_skips_blanks_and_names_the_first_bad_close():
    from xlfuncs.products.lookback_warrant import lookback_value
    assert lookback_value([5907.55, None, 6000.0, float("nan")], INITIAL) == 6000.0
    for closes, shown in (([5907.55, -3.0, -4.0], "-3"), ([0.0, 6000.0], "0"), ([5907.55, math.inf], "inf")):
        with pytest.raises(TermError, match=f"^closes must be finite and greater than 0, got {shown}$"):
            lookback_value(closes, INITIAL)


def test_a_quote_shows_the_valuation_s_own_numbers():
    """What the batch prints for a deal: the value, greeks and breakeven of the valuation functions."""
    from xlfuncs.products.buffer_note import note_quote
    from xlfuncs.products.lookback_warrant import warrant_quote
    note = BearishBufferNote(*NOTES["NOTE"][1], 1000.0, FINAL, PAID, SPREAD)
    market = Market(97.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)
    quote = note_quote(note, market)
    assert quote.value == buffer_note.note_value(note, market) and quote.breakeven == note.principal_breakeven
    assert quote.breakeven == pytest.approx(110.0, rel=1e-15)
    assert list(quote.greeks) == list(buffer_note.note_greeks(note, market))
    warrant = PutWarrant(INITIAL, 0.95, 0.75, 1000.0, 0.02728, dt.date(2025, 5, 21), dt.date(2025, 6, 20),
                         dt.date(2025, 10, 10), dt.date(2025, 10, 17))
    market = Market(5950.0, dt.date(2025, 5, 28), 0.167, 0.043, 0.013, (5907.55, 5960.0, None, 5950.0, 5940.0))
    quote = warrant_quote(warrant, market)
    assert quote.value == lookback_warrant.warrant_value(warrant, market) and quote.breakeven == (0.95 - 0.02728) * 5960.0
    assert list(quote.greeks) == list(lookback_warrant.warrant_greeks(warrant, market))


def test_the_cap_solver_takes_its_own_value_back_at_the_largest_principal(excel):
    """Was: a $1e12 note's value (1.27e12 with its cap) was refused as a target above 1e12."""
    as_of = dt.date(2023, 11, 29)
    terms = [100.0, 3.0, 0.10, 0.23, 0.10, 1e12]
    [[value]] = excel("NOTE_VALUE", *note_args("NOTE", 60.0, as_of, terms=terms))
    assert value > 1e12
    [[cap]] = excel("NOTE_SOLVE_MAX_RETURN", value, *note_args("NOTE", 60.0, as_of, terms=terms)[:11], 0.10, 1e12)
    assert cap == pytest.approx(0.23, abs=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda: BearishBufferNote(None, 3.0, 0.1, 0.23, 0.1), "initial is required"),
    (lambda: PutWarrant(INITIAL, None, 0.75), "upper_strike is required"),
    (lambda: Market(None, dt.date(2025, 5, 28), 0.167, 0.043, 0.013), "spot is required"),
    (lambda: Market(INITIAL, dt.date(2025, 5, 28), 0.167, 0.043, 0.013, 5907.55),
     "closes must be a list of the window's closes, got 5907.55"),
    (lambda: buffer_note.solve_max_return(None, BearishBufferNote(100.0, 3.0, 0.1, 0.0, 0.1, 1000.0, FINAL, PAID, SPREAD),
                                        Market(100.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)),
     "target_value must be a number, got None"),
    (lambda: buffer_note.solve_max_return(math.nan, BearishBufferNote(100.0, 3.0, 0.1, 0.0, 0.1, 1000.0, FINAL, PAID,
                                                                    SPREAD),
                                        Market(100.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)),
     "target_value must be a finite number, got nan"),
])
def test_the_python_api_names_what_is_wrong(call, message):
    with pytest.raises(TermError, match=f"^{re.escape(message)}$"):
        call()


def test_monte_carlo_settings_left_out_are_the_defaults():
    note = BearishBufferNote(100.0, 3.0, 0.1, 0.23, 0.1, 1000.0, FINAL, PAID, SPREAD)
    market = Market(100.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)
    from xlfuncs.engines.montecarlo import DEFAULT_SEED, MonteCarlo
    assert buffer_note.note_mc_value(note, market, None) == buffer_note.note_mc_value(note, market, MonteCarlo())
    assert MonteCarlo(None, None) == MonteCarlo() and MonteCarlo(seed=None).seed == DEFAULT_SEED


def test_terms_given_as_none_take_their_defaults_as_blank_cells_do():
    """The third review: a seed of None drew the operating system's entropy (another value each
    process), a principal or notional of None was kept and failed inside the engine."""
    note = BearishBufferNote(100.0, 3.0, 0.1, 0.23, 0.1, None, FINAL, PAID, SPREAD)
    warrant = PutWarrant(INITIAL, 0.95, LOWER, None)
    assert (note.principal, warrant.notional) == (1000.0, 1000.0)
    market = Market(100.0, dt.date(2023, 11, 29), 0.15, RATE, 0.015)
    assert buffer_note.note_value(note, market) == buffer_note.note_value(
        BearishBufferNote(100.0, 3.0, 0.1, 0.23, 0.1, 1000.0, FINAL, PAID, SPREAD), market)


@pytest.mark.parametrize("upper, ratio, days", [(1.2, 0.9, (5, 6, 7, 8, 9)), (1.05, 1.0, (1, 2, 3)),
                                                (2.0, 1.1, (3, 4, 5, 6))])
def test_an_upper_strike_above_one_expiring_on_the_last_of_several_window_days_is_converged(finer_grid, upper, ratio,
                                                                                            days):
    """Several window days left, expiring on the last: a grid twice as fine with wider tails
    moves the value by less than the target (the grid's tail below 0 weighted as the sinc rule
    says, the payoff's kink in closed form)."""
    warrant = PutWarrant(INITIAL, upper, LOWER, 1000.0)
    times = np.array(days) / 365
    args = (warrant, INITIAL, ratio * INITIAL, times, times[-1], times[-1] + 7 / 365, 0.167, 0.043, 0.013)
    value = lookback_engine(*args)
    finer_grid()
    assert lookback_engine(*args) == pytest.approx(value, abs=1000 * EXACT)


def test_a_grid_too_large_for_the_engine_is_refused_saying_what_to_change(excel):
    """Vol at its floor against the largest drift, ten years before the window: the grid the
    exact engine would need is refused, never built (two years before, it is priced)."""
    assert excel("WARRANT_VALUE", INITIAL, serial(dt.date(2023, 5, 20)), INITIAL, 0.95, 0.75,
                 serial(dt.date(2025, 5, 21)), serial(dt.date(2025, 6, 20)), serial(dt.date(2025, 10, 10)),
                 serial(dt.date(2025, 10, 17)), 0.005, -0.5, 0.5)[0][0] > 0
    with pytest.raises(Exception, match=r"^these inputs need a grid of \d+ points over \d+ days: vol is too low "
                                        r"against the drift \(rate - div_yield\) over the time to the window's end "
                                        r"\(raise vol, or bring as_of nearer the window\)$"):
        excel("WARRANT_VALUE", INITIAL, serial(dt.date(2015, 5, 20)), INITIAL, 0.95, 0.75,
              serial(dt.date(2025, 5, 21)), serial(dt.date(2025, 6, 20)), serial(dt.date(2025, 10, 10)),
              serial(dt.date(2025, 10, 17)), 0.005, -0.5, 0.5)
