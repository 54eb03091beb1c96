"""The Excel functions, runtime-neutral: cell inputs in, numbers out, or a TermError naming the input.

Every argument arrives as a 2-D list of cells (a blank or error cell is None; an omitted
optional argument is its Python default). `udfs.py` registers these functions with xlwings
(classic add-in and Office.js); `engine.py` with the `formulas` engine that computes the
template workbooks. Docstrings and ARG_DOCS are the help Excel shows.
"""
import datetime as dt

import numpy as np

from . import payments, valuation
from .calendar import trading_days
from .market import Market
from .montecarlo import DEFAULT_PATHS, DEFAULT_SEED, MonteCarlo
from .terms import DEFAULT_PRINCIPAL, BufferNote, PutWarrant, TermError, finite

ARG_DOCS = {
    "final": "Final underlying value: one number, or a range of them for a result of the same shape.",
    "finals": "Final underlying values: a single column or row; one result row each.",
    "initial": "Initial underlying value (the closing value on the pricing date).",
    "participation": "Participation rate as a fraction: 300% is 3.",
    "buffer": "Buffer percentage as a fraction: 10% is 0.1.",
    "max_return": "Maximum return at maturity as a fraction of principal: 23% is 0.23.",
    "min_payment": "Minimum payment at maturity as a fraction of principal: 10% is 0.1.",
    "principal": "Stated principal amount per security; blank or omitted means 1000.",
    "price": "Price per security or warrant: the payment to break even on, or the value to match.",
    "closes": "Closes of the lookback window's trading days in order from its start (up to as_of); "
              "blank or error cells are disrupted days, skipped.",
    "lookback": "Lookback underlying value: the highest window close, never below the initial value.",
    "upper_strike": "Upper strike as a fraction of the lookback value: 95% is 0.95.",
    "lower_strike": "Lower strike as a fraction of the initial value: 75% is 0.75.",
    "premium": "Premium as a fraction of notional: 2.728% is 0.02728.",
    "notional": "Notional amount per warrant; blank or omitted means 1000.",
    "spot": "Underlying value after the close on as_of.",
    "as_of": "Valuation date, after that day's close: a date or an Excel date serial.",
    "final_date": "The note's valuation date, when the final underlying value is fixed.",
    "payment_date": "The note's maturity date, when the payment is made.",
    "vol": "Flat volatility as a fraction: 16.7% is 0.167.",
    "rate": "Continuously compounded flat interest rate: 4.3% is 0.043.",
    "div_yield": "Continuously compounded dividend yield: 1.3% is 0.013.",
    "funding_spread": "Issuer's funding spread over rate, for the note's bond component: 1% is 0.01.",
    "window_start": "First day of the lookback observation period.",
    "window_end": "Last day of the lookback observation period.",
    "expiration": "The warrant's expiration date, when the final underlying value is fixed.",
    "settlement": "The warrant's exercise settlement date, when the payment is made.",
    "paths": f"Monte Carlo paths, at least 1000; blank or omitted means {DEFAULT_PATHS}.",
    "seed": f"Random seed: the same inputs and seed give the same digits; blank means {DEFAULT_SEED}.",
    "target_value": "Value per security the maximum return should give, e.g. the estimated value.",
    "start": "First calendar date to list.",
    "end": "Last calendar date to list.",
    "holidays": "Optional range of holiday dates that replaces the NYSE holiday rules.",
}

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (for serials after Feb 1900)


def serial(day: dt.date) -> int:
    """The Excel date serial of a date (or of a datetime's day)."""
    return ((day.date() if isinstance(day, dt.datetime) else day) - EXCEL_EPOCH).days


def cells(value) -> list:
    """Any Excel input as a 2-D list of cells."""
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if not value or not isinstance(value[0], (list, tuple)):
        return [list(value)]
    return [list(row) for row in value]


def shape(rows) -> str:
    """Rows x columns of a 2-D list or array, as Excel writes a range's size."""
    return f"{len(rows)}x{len(rows[0])}"


def single_cell(value, name, blank_allowed: bool = False):
    """The one cell of an argument: an error for a range, and for a blank unless allowed."""
    rows = cells(value)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise TermError(f"{name} must be a single cell, got a {shape(rows)} range")
    if rows[0][0] is None and not blank_allowed:
        raise TermError(f"{name} is required but blank")
    return rows[0][0]


def number(value, name, default=None) -> float:
    """One cell as a finite number; a blank cell is `default`, or an error if there is none."""
    cell = single_cell(value, name, blank_allowed=default is not None)
    return default if cell is None else finite(name, cell)


def date(value, name) -> dt.date:
    """One cell as a date: an Excel date serial (as Office.js sends it) or a date (classic)."""
    cell = single_cell(value, name)
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        day_number = finite(name, cell)
    except TermError:
        raise TermError(f"{name} must be a date, got {cell!r}") from None
    if not 61 <= day_number < 2958466:
        raise TermError(f"{name} must be a date (an Excel serial from 61 to 2958465), got {day_number:g}")
    return EXCEL_EPOCH + dt.timedelta(days=int(day_number))


def dates(value, name) -> tuple[dt.date, ...]:
    """A range of date cells, blanks skipped."""
    return tuple(date(cell, name) for row in cells(value) for cell in row if cell is not None)


def number_grid(value, name) -> np.ndarray:
    """A range of cells as a 2-D float array; blank cells become NaN, a lone blank cell is an error."""
    rows = cells(value)
    if any(len(row) != len(rows[0]) for row in rows):
        raise TermError(f"{name} must be a rectangular range")
    if len(rows) == 1 and len(rows[0]) == 1 and rows[0][0] is None:
        raise TermError(f"{name} is required but blank")
    grid = np.full((len(rows), len(rows[0])), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is not None:
                try:
                    grid[i, j] = finite(name, cell)
                except TermError as error:
                    where = f" (row {i + 1}, column {j + 1} of the range)" if grid.size > 1 else ""
                    raise TermError(f"{error}{where}") from None
    return grid


def number_list(value, name) -> np.ndarray:
    """A single row or column of cells as a 1-D float array (NaN for blanks)."""
    grid = number_grid(value, name)
    if min(grid.shape) != 1:
        raise TermError(f"{name} must be a single row or column, got a {shape(grid)} range")
    return grid.ravel()


def results(array: np.ndarray):
    """Numbers back to Excel: a single number as itself, an array as rows with blanks for NaN."""
    array = np.asarray(array, dtype=float)
    if array.size == 1:
        return float(array.flat[0])
    out = array.astype(object)
    out[np.isnan(array)] = None
    return out.tolist()


def buffer_note(initial, participation, buffer, max_return, min_payment, principal) -> BufferNote:
    return BufferNote(initial=number(initial, "initial"),
                      participation=number(participation, "participation"),
                      buffer=number(buffer, "buffer"),
                      max_return=number(max_return, "max_return"),
                      min_payment=number(min_payment, "min_payment"),
                      principal=number(principal, "principal", DEFAULT_PRINCIPAL))


def put_warrant(initial, upper_strike, lower_strike, notional) -> PutWarrant:
    return PutWarrant(initial=number(initial, "initial"),
                      upper_strike=number(upper_strike, "upper_strike"),
                      lower_strike=number(lower_strike, "lower_strike"),
                      notional=number(notional, "notional", DEFAULT_PRINCIPAL))


def NOTE_PAYMENT(final, initial, participation, buffer, max_return, min_payment,
                 principal=DEFAULT_PRINCIPAL):
    """Payment at maturity per security of the Bearish Buffer Securities for a final underlying value."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(payments.note_payment(note, number_grid(final, "final")))


def NOTE_BREAKEVEN(price, initial, participation, buffer, max_return, min_payment,
                   principal=DEFAULT_PRINCIPAL):
    """Highest final underlying value at which the note still pays at least `price`."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return payments.note_breakeven(note, number(price, "price"))


def NOTE_TABLE(finals, initial, participation, buffer, max_return, min_payment,
               principal=DEFAULT_PRINCIPAL):
    """Scenario rows of the note: final value, underlying return, payment, total return."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(np.atleast_2d(payments.note_table(note, number_list(finals, "finals"))))


def LOOKBACK_VALUE(closes, initial):
    """Lookback underlying value: the highest close in the window, never below the initial value."""
    return payments.lookback_value(number_grid(closes, "closes"), number(initial, "initial"))


def WARRANT_PAYMENT(final, initial, lookback, upper_strike, lower_strike,
                    notional=DEFAULT_PRINCIPAL):
    """Payment upon exercise per Bearish Put Warrant for a final underlying value."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return results(payments.warrant_payment(warrant, number(lookback, "lookback"),
                                            number_grid(final, "final")))


def WARRANT_BREAKEVEN(premium, initial, lookback, upper_strike, lower_strike,
                      notional=DEFAULT_PRINCIPAL):
    """Final underlying value at which the warrant's payment upon exercise equals its premium."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return payments.warrant_breakeven(warrant, number(lookback, "lookback"),
                                      number(premium, "premium"))


def WARRANT_TABLE(finals, initial, lookback, upper_strike, lower_strike, premium,
                  notional=DEFAULT_PRINCIPAL):
    """Scenario rows of the warrant with the columns of the supplement's Tables 1 and 2 (blank for N/A)."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    table = payments.warrant_table(warrant, number(lookback, "lookback"),
                                   number(premium, "premium"), number_list(finals, "finals"))
    return results(np.atleast_2d(table))


def market(spot, as_of, vol, rate, div_yield) -> Market:
    return Market(spot=number(spot, "spot"), as_of=date(as_of, "as_of"), vol=number(vol, "vol"),
                  rate=number(rate, "rate"), div_yield=number(div_yield, "div_yield"))


def monte_carlo(paths, seed) -> MonteCarlo:
    return MonteCarlo(paths=number(paths, "paths", DEFAULT_PATHS), seed=number(seed, "seed", DEFAULT_SEED))


def note_valuation(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
                   initial, participation, buffer, max_return, min_payment, principal):
    """The arguments of valuation.note_value from the cells of NOTE_VALUE."""
    return (buffer_note(initial, participation, buffer, max_return, min_payment, principal),
            market(spot, as_of, vol, rate, div_yield), date(final_date, "final_date"),
            date(payment_date, "payment_date"), number(funding_spread, "funding_spread"))


def warrant_valuation(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                      expiration, settlement, vol, rate, div_yield, closes, notional, paths, seed):
    """The arguments of valuation.warrant_mc_value from the cells of WARRANT_MC_VALUE."""
    schedule = valuation.LookbackSchedule(
        date(window_start, "window_start"), date(window_end, "window_end"),
        date(expiration, "expiration"), date(settlement, "settlement"))
    observed = () if closes is None else tuple(
        None if np.isnan(close) else float(close) for close in number_list(closes, "closes"))
    return (put_warrant(initial, upper_strike, lower_strike, notional),
            market(spot, as_of, vol, rate, div_yield), schedule, observed, monte_carlo(paths, seed))


def NOTE_VALUE(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
               initial, participation, buffer, max_return, min_payment, principal=DEFAULT_PRINCIPAL):
    """Closed-form value per security of the Bearish Buffer Securities (bond plus puts and calls)."""
    return valuation.note_value(*note_valuation(
        spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
        initial, participation, buffer, max_return, min_payment, principal))


def NOTE_MC_VALUE(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
                  initial, participation, buffer, max_return, min_payment, principal=DEFAULT_PRINCIPAL,
                  paths=DEFAULT_PATHS, seed=DEFAULT_SEED):
    """Monte Carlo value per security of the note and its standard error, as a 1x2 row."""
    estimate = valuation.note_mc_value(*note_valuation(
        spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
        initial, participation, buffer, max_return, min_payment, principal), monte_carlo(paths, seed))
    return results(np.array([[estimate.value, estimate.stderr]]))


def NOTE_GREEKS(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
                initial, participation, buffer, max_return, min_payment, principal=DEFAULT_PRINCIPAL):
    """Note delta (per index point), gamma, vega (per vol point), theta (per day), rho (per 1%): 1x5 row."""
    return results(np.atleast_2d(valuation.note_greeks(*note_valuation(
        spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
        initial, participation, buffer, max_return, min_payment, principal))))


def NOTE_SOLVE_MAX_RETURN(target_value, spot, as_of, final_date, payment_date, vol, rate, div_yield,
                          funding_spread, initial, participation, buffer, min_payment,
                          principal=DEFAULT_PRINCIPAL):
    """Maximum return (fraction of principal) at which the note's value equals target_value."""
    note, *rest = note_valuation(spot, as_of, final_date, payment_date, vol, rate, div_yield,
                                 funding_spread, initial, participation, buffer, 0.0, min_payment,
                                 principal)
    return valuation.solve_max_return(number(target_value, "target_value"), note, *rest)


def WARRANT_MC_VALUE(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                     expiration, settlement, vol, rate, div_yield, closes=None,
                     notional=DEFAULT_PRINCIPAL, paths=DEFAULT_PATHS, seed=DEFAULT_SEED):
    """Value per Bearish Put Warrant and its standard error, as a 1x2 row (closed form after the window)."""
    estimate = valuation.warrant_mc_value(*warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, vol, rate, div_yield, closes, notional, paths, seed))
    return results(np.array([[estimate.value, estimate.stderr]]))


def WARRANT_GREEKS(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                   expiration, settlement, vol, rate, div_yield, closes=None,
                   notional=DEFAULT_PRINCIPAL, paths=DEFAULT_PATHS, seed=DEFAULT_SEED):
    """Warrant delta (per index point), gamma, vega (per vol point), theta (per day), rho (per 1%): 1x5 row."""
    return results(np.atleast_2d(valuation.warrant_greeks(*warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, vol, rate, div_yield, closes, notional, paths, seed))))


def WARRANT_IMPLIED_VOL(price, spot, as_of, initial, upper_strike, lower_strike, window_start,
                        window_end, expiration, settlement, rate, div_yield, closes=None,
                        notional=DEFAULT_PRINCIPAL, paths=DEFAULT_PATHS, seed=DEFAULT_SEED):
    """Flat volatility at which the warrant's value equals price (per warrant)."""
    any_vol = 0.2  # the solver replaces it
    return valuation.warrant_implied_vol(number(price, "price"), *warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, any_vol, rate, div_yield, closes, notional, paths, seed))


def TRADING_DAYS(start, end, holidays=None):
    """Scheduled NYSE trading days from start to end, both included, as a column of dates."""
    days = trading_days(date(start, "start"), date(end, "end"),
                        None if holidays is None else dates(holidays, "holidays"))
    if not days:
        raise TermError("there is no scheduled trading day from start to end")
    return [[dt.datetime.combine(day, dt.time())] for day in days]


FUNCTIONS = (NOTE_PAYMENT, NOTE_BREAKEVEN, NOTE_TABLE, LOOKBACK_VALUE, WARRANT_PAYMENT, WARRANT_BREAKEVEN, WARRANT_TABLE, NOTE_VALUE, NOTE_MC_VALUE, NOTE_GREEKS, NOTE_SOLVE_MAX_RETURN, WARRANT_MC_VALUE, WARRANT_GREEKS, WARRANT_IMPLIED_VOL, TRADING_DAYS)
