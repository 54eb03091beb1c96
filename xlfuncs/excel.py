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
from .fields import DATE_HELP, FIELDS, TermError, check, finite
from .market import Market
from .montecarlo import DEFAULT_SEED, MAX_PATHS, MIN_PATHS, MonteCarlo
from .terms import DEFAULT_PRINCIPAL, BufferNote, PutWarrant

ARG_DOCS = {
    **{name: field.help for name, field in FIELDS.items()},
    **DATE_HELP,
    "paths": f"Monte Carlo paths, {MIN_PATHS} to {MAX_PATHS}; blank or omitted: as many as give a standard "
             "error of $0.01 per $1,000 of notional.",
    "seed": f"Random seed: the same inputs and seed give the same digits; blank means {DEFAULT_SEED}.",
}

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (for serials after Feb 1900)
ERROR_CELLS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                         "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
                         "#PYTHON!", "#TIMEOUT!", "#EXTERNAL!"})


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
    return f"{len(rows)}x{len(rows[0]) if len(rows) else 0}"


def not_an_error(cell, name, where=""):
    """The cell, unless it holds an Excel error (#REF!, #N/A, ...): that is never read as blank."""
    if isinstance(cell, str) and cell.strip().upper() in ERROR_CELLS:
        raise TermError(f"{name} is an error cell ({cell.strip().upper()}){where}: fix or clear it")
    return cell


def single_cell(value, name, blank_allowed: bool = False):
    """The one cell of an argument: an error for a range, an error cell, and a blank unless allowed."""
    rows = cells(value)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise TermError(f"{name} must be a single cell, got a {shape(rows)} range")
    cell = not_an_error(rows[0][0], name)
    if cell is None and not blank_allowed:
        raise TermError(f"{name} is required but blank")
    return cell


def checked_number(name, cell) -> float:
    """A cell's number, held to its field's rule where it has one."""
    return check(name, cell) if name in FIELDS else finite(name, cell)


def number(value, name, default=None) -> float:
    """One cell as a number that keeps its rule; a blank cell is `default`, or an error if there is none."""
    cell = single_cell(value, name, blank_allowed=default is not None)
    return default if cell is None else checked_number(name, cell)


def optional(value, name):
    """One cell as a number, or None when blank or omitted (the callee picks the default)."""
    cell = single_cell(value, name, blank_allowed=True)
    return None if cell is None else finite(name, cell)


def date(value, name) -> dt.date:
    """One cell as a date: an Excel date serial (as Office.js sends it) or a date (classic)."""
    return date_cell(single_cell(value, name), name)


def date_cell(cell, name) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        day_number = finite(name, cell)
    except TermError:
        raise TermError(f"{name} must be a date (a date cell or an Excel date serial), got {cell!r}") from None
    if not 61 <= day_number < 2958466:
        raise TermError(f"{name} must be a date (an Excel serial from 61 to 2958465), got {day_number:g}")
    return EXCEL_EPOCH + dt.timedelta(days=int(day_number))


def dates(value, name) -> tuple[dt.date, ...]:
    """A range of date cells, blanks skipped."""
    given = (not_an_error(cell, name) for row in cells(value) for cell in row)
    return tuple(date_cell(cell, name) for cell in given if cell is not None)


def number_grid(value, name, required: bool = True) -> np.ndarray:
    """A range of cells as a 2-D float array that keeps the rule of `name`; blank cells become
    NaN, a lone blank cell is an error when the argument is `required`."""
    rows = cells(value)
    if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
        raise TermError(f"{name} must be a rectangular range")
    if required and len(rows) == 1 and len(rows[0]) == 1 and rows[0][0] is None:
        raise TermError(f"{name} is required but blank")
    grid = np.full((len(rows), len(rows[0])), np.nan)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            where = f" (row {i + 1}, column {j + 1} of the range)" if grid.size > 1 else ""
            if not_an_error(cell, name, where) is not None:
                try:
                    grid[i, j] = checked_number(name, cell)
                except TermError as error:
                    raise TermError(f"{error}{where}") from None
    return grid


def number_list(value, name, required: bool = True) -> np.ndarray:
    """A single row or column of cells as a 1-D float array (NaN for blanks)."""
    grid = number_grid(value, name, required)
    if min(grid.shape) != 1:
        raise TermError(f"{name} must be a single row or column, got a {shape(grid)} range")
    return grid.ravel()


def results(array, blanks: bool = False):
    """Numbers back to Excel: a single number as itself, an array as rows, with blanks for NaN
    where a blank is an answer (`blanks`: N/A table cells, blank scenario cells). Anything else
    not finite is an error, never a number that looks like one."""
    array = np.asarray(array, dtype=float)
    if np.isinf(array).any() or (not blanks and np.isnan(array).any()):
        raise TermError("these inputs give no finite result: check the magnitudes of the inputs")
    if array.size == 1:
        return None if np.isnan(array.flat[0]) else float(array.flat[0])
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
    return results(payments.note_payment(note, number_grid(final, "final")), blanks=True)


def NOTE_BREAKEVEN(price, initial, participation, buffer, max_return, min_payment,
                   principal=DEFAULT_PRINCIPAL):
    """Highest final underlying value at which the note still pays at least `price`."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(payments.note_breakeven(note, number(price, "price")))


def NOTE_TABLE(finals, initial, participation, buffer, max_return, min_payment,
               principal=DEFAULT_PRINCIPAL):
    """Scenario rows of the note: final value, underlying return, payment, total return."""
    note = buffer_note(initial, participation, buffer, max_return, min_payment, principal)
    return results(np.atleast_2d(payments.note_table(note, number_list(finals, "finals"))), blanks=True)


def LOOKBACK_VALUE(closes, initial):
    """Lookback underlying value: the highest close in the window, never below the initial value."""
    return results(payments.lookback_value(number_grid(closes, "closes"), number(initial, "initial")))


def WARRANT_PAYMENT(final, initial, lookback, upper_strike, lower_strike,
                    notional=DEFAULT_PRINCIPAL):
    """Payment upon exercise per Bearish Put Warrant for a final underlying value."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return results(payments.warrant_payment(warrant, number(lookback, "lookback"),
                                            number_grid(final, "final")), blanks=True)


def WARRANT_BREAKEVEN(premium, initial, lookback, upper_strike, lower_strike,
                      notional=DEFAULT_PRINCIPAL):
    """Final underlying value at which the warrant's payment upon exercise equals its premium."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    return results(payments.warrant_breakeven(warrant, number(lookback, "lookback"),
                                              number(premium, "premium")))


def WARRANT_TABLE(finals, initial, lookback, upper_strike, lower_strike, premium,
                  notional=DEFAULT_PRINCIPAL):
    """Scenario rows of the warrant with the columns of the supplement's Tables 1 and 2 (blank for N/A)."""
    warrant = put_warrant(initial, upper_strike, lower_strike, notional)
    table = payments.warrant_table(warrant, number(lookback, "lookback"),
                                   number(premium, "premium"), number_list(finals, "finals"))
    return results(np.atleast_2d(table), blanks=True)


def market(spot, as_of, vol, rate, div_yield) -> Market:
    return Market(spot=number(spot, "spot"), as_of=date(as_of, "as_of"), vol=number(vol, "vol"),
                  rate=number(rate, "rate"), div_yield=number(div_yield, "div_yield"))


def monte_carlo(paths, seed) -> MonteCarlo:
    return MonteCarlo(paths=optional(paths, "paths"), seed=number(seed, "seed", DEFAULT_SEED))


def note_valuation(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
                   initial, participation, buffer, max_return, min_payment, principal):
    """The arguments of valuation.note_value from the cells of NOTE_VALUE."""
    return (buffer_note(initial, participation, buffer, max_return, min_payment, principal),
            market(spot, as_of, vol, rate, div_yield), date(final_date, "final_date"),
            date(payment_date, "payment_date"), number(funding_spread, "funding_spread"))


def warrant_valuation(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                      expiration, settlement, vol, rate, div_yield, closes, notional):
    """The arguments of valuation.warrant_value from the cells of WARRANT_VALUE."""
    schedule = valuation.LookbackSchedule(
        date(window_start, "window_start"), date(window_end, "window_end"),
        date(expiration, "expiration"), date(settlement, "settlement"))
    observed = () if closes is None else tuple(  # a blank close, even a lone one, is a disrupted day
        None if np.isnan(close) else float(close) for close in number_list(closes, "closes", required=False))
    return (put_warrant(initial, upper_strike, lower_strike, notional),
            market(spot, as_of, vol, rate, div_yield), schedule, observed)


def NOTE_VALUE(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
               initial, participation, buffer, max_return, min_payment, principal=DEFAULT_PRINCIPAL):
    """Closed-form value per security of the Bearish Buffer Securities (bond plus puts and calls)."""
    return results(valuation.note_value(*note_valuation(
        spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
        initial, participation, buffer, max_return, min_payment, principal)))


def NOTE_MC_VALUE(spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread,
                  initial, participation, buffer, max_return, min_payment, principal=DEFAULT_PRINCIPAL,
                  paths=None, seed=DEFAULT_SEED):
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
    return results(valuation.solve_max_return(number(target_value, "target_value"), note, *rest))


def WARRANT_VALUE(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
                  settlement, vol, rate, div_yield, closes=None, notional=DEFAULT_PRINCIPAL):
    """Exact value per Bearish Put Warrant on any day of its life (no simulation: the lookback's distribution)."""
    return results(valuation.warrant_value(*warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, vol, rate, div_yield, closes, notional)))


def WARRANT_MC_VALUE(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                     expiration, settlement, vol, rate, div_yield, closes=None,
                     notional=DEFAULT_PRINCIPAL, paths=None, seed=DEFAULT_SEED):
    """Monte Carlo value per Bearish Put Warrant and its standard error, as a 1x2 row: WARRANT_VALUE's check."""
    estimate = valuation.warrant_mc_value(*warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, vol, rate, div_yield, closes, notional), monte_carlo(paths, seed))
    return results(np.array([[estimate.value, estimate.stderr]]))


def WARRANT_GREEKS(spot, as_of, initial, upper_strike, lower_strike, window_start, window_end,
                   expiration, settlement, vol, rate, div_yield, closes=None, notional=DEFAULT_PRINCIPAL):
    """Warrant delta (per index point), gamma, vega (per vol point), theta (per day), rho (per 1%): 1x5 row."""
    return results(np.atleast_2d(valuation.warrant_greeks(*warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, vol, rate, div_yield, closes, notional))))


def WARRANT_IMPLIED_VOL(price, spot, as_of, initial, upper_strike, lower_strike, window_start,
                        window_end, expiration, settlement, rate, div_yield, closes=None,
                        notional=DEFAULT_PRINCIPAL):
    """Flat volatility at which the warrant's exact value equals price (per warrant)."""
    any_vol = 0.2  # the solver replaces it
    return results(valuation.warrant_implied_vol(number(price, "price"), *warrant_valuation(
        spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, expiration,
        settlement, any_vol, rate, div_yield, closes, notional)))


def TRADING_DAYS(start, end, holidays=None):
    """Scheduled NYSE trading days from start to end, both included, as a column of dates."""
    days = trading_days(date(start, "start"), date(end, "end"),
                        None if holidays is None else dates(holidays, "holidays"))
    if not days:
        raise TermError("there is no scheduled trading day from start to end")
    return [[dt.datetime.combine(day, dt.time())] for day in days]


FUNCTIONS = (NOTE_PAYMENT, NOTE_BREAKEVEN, NOTE_TABLE, LOOKBACK_VALUE, WARRANT_PAYMENT, WARRANT_BREAKEVEN,
             WARRANT_TABLE, NOTE_VALUE, NOTE_MC_VALUE, NOTE_GREEKS, NOTE_SOLVE_MAX_RETURN, WARRANT_VALUE,
             WARRANT_MC_VALUE, WARRANT_GREEKS, WARRANT_IMPLIED_VOL, TRADING_DAYS)
