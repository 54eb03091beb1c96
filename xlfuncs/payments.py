"""Payments, breakevens, lookback values and scenario tables: the only place each formula lives.

Everything takes numpy arrays of final values and returns arrays of the same shape;
NaN stands for a blank scenario cell and comes back as NaN.
"""
from __future__ import annotations

import numpy as np

from .fields import TermError, check, require
from .terms import BufferNote, PutWarrant


def final_values(final) -> np.ndarray:
    """Final underlying values as a float array; NaN (a blank cell) is kept, negatives are refused."""
    final = np.asarray(final, dtype=float)
    if np.isinf(final).any():
        raise TermError("final must be finite, got inf")
    negative = final < 0
    if negative.any():
        raise TermError(f"final must be at least 0, got {final[negative].flat[0]:g}")
    return final


def change(value, base):
    """Relative change from `base` to `value`, as the supplements define returns: (value - base) / base."""
    return (value - base) / base


# Bearish Buffer Securities

def note_payment(note: BufferNote, final) -> np.ndarray:
    """Payment at maturity per security for each final underlying value."""
    final = final_values(final)
    principal = note.principal
    underlying_return = change(final, note.initial)
    return_amount = np.minimum(principal * -underlying_return * note.participation,
                               principal * note.max_return)
    loss_beyond_buffer = principal * (underlying_return - note.buffer)
    return np.where(
        final < note.initial, principal + return_amount,
        np.where(final <= note.final_buffer_value, principal,
                 np.maximum(principal - loss_beyond_buffer, note.minimum_payment)))


def note_breakeven(note: BufferNote, price) -> float:
    """The highest final underlying value at which the payment is still at least `price`."""
    price = check("price", price)
    require(price <= note.maximum_payment, "price",
            f"must not exceed the maximum payment, principal x (1 + min(max_return, participation)) = "
            f"{note.maximum_payment:g}: no final value pays that much", price)
    require(price > note.minimum_payment, "price",
            f"must be above the minimum payment, principal x min_payment = {note.minimum_payment:g}: "
            "every final value pays at least that", price)
    gain = price / note.principal - 1
    if gain > 0:  # on the participation slope; at most a fall to 0 (max() only drops rounding)
        return max(0.0, note.initial * (1 - gain / note.participation))
    return note.initial * (1 + note.buffer - gain)


def note_table(note: BufferNote, finals) -> np.ndarray:
    """Rows of final, underlying return, payment and total return (fraction of principal)."""
    finals = final_values(finals).ravel()
    payment = note_payment(note, finals)
    return np.column_stack([finals, change(finals, note.initial), payment,
                            change(payment, note.principal)])


# Bearish Put Warrants

def lookback_value(closes, initial) -> float:
    """Highest close in the lookback window, floored at the initial value; NaN closes are skipped."""
    initial = check("initial", initial)
    closes = np.asarray(closes, dtype=float).ravel()
    closes = closes[~np.isnan(closes)]
    if closes.size == 0:
        raise TermError("closes must hold at least one closing value, got none")
    bad = ~np.isfinite(closes) | (closes <= 0)
    if bad.any():
        raise TermError(f"closes must be greater than 0, got {closes[bad][0]:g}")
    return max(initial, float(closes.max()))


def strike_differentials(warrant: PutWarrant, lookback, final) -> tuple[np.ndarray, np.ndarray]:
    """Long and short strike differential percentages as defined, before any exercise test."""
    lookback = warrant.checked_lookback(lookback)
    final = final_values(final)
    long = (warrant.upper_strike * lookback - final) / lookback
    short = (warrant.lower_strike_value - final) / warrant.initial
    return long, short


def warrant_payment(warrant: PutWarrant, lookback, final) -> np.ndarray:
    """Payment upon exercise per warrant: a long put at the upper strike, a short put at the lower."""
    long, short = strike_differentials(warrant, lookback, final)
    return warrant.notional * (np.maximum(long, 0) - np.maximum(short, 0))


def warrant_breakeven(warrant: PutWarrant, lookback, premium) -> float:
    """Final underlying value at which the payment upon exercise equals the premium."""
    lookback = warrant.checked_lookback(lookback)
    premium = check("premium", premium)
    most = (warrant.upper_strike * lookback - warrant.lower_strike_value) / lookback
    require(premium <= most, "premium",
            f"must not exceed the largest payment, upper_strike - lower_strike x initial / lookback = "
            f"{most:g} of notional: no final value pays that much", premium)
    return (warrant.upper_strike - premium) * lookback


def warrant_table(warrant: PutWarrant, lookback, premium, finals) -> np.ndarray:
    """Rows with the columns of the supplement's Tables 1 and 2; NaN where it prints N/A.

    Columns: final, change from lookback, change from initial, long strike
    differential, short strike differential, payment, payment minus premium, total return.
    """
    lookback = warrant.checked_lookback(lookback)
    premium_amount = check("premium", premium) * warrant.notional
    finals = final_values(finals).ravel()
    long, short = strike_differentials(warrant, lookback, finals)
    payment = warrant_payment(warrant, lookback, finals)
    exercised = finals < warrant.upper_strike * lookback
    return np.column_stack([
        finals, change(finals, lookback), change(finals, warrant.initial),
        np.where(exercised, long, np.nan),
        np.where(finals <= warrant.lower_strike_value, short, np.nan),
        payment, payment - premium_amount, (payment - premium_amount) / premium_amount])
