"""Invariants of the payments for any valid terms (hypothesis)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xlfuncs.products.bearish_note import BearishBufferNote as BufferNote
from xlfuncs.products.put_warrant import PutWarrant

positive_value = st.floats(min_value=1.0, max_value=1e5)
notes = st.builds(
    BufferNote,
    initial=positive_value,
    participation=st.floats(min_value=0.01, max_value=10.0),
    buffer=st.floats(min_value=0.0, max_value=0.99),
    max_return=st.floats(min_value=0.0, max_value=5.0),
    min_payment=st.floats(min_value=0.0, max_value=1.0),
    principal=st.floats(min_value=1.0, max_value=1e6),
)
relative_finals = st.lists(st.floats(min_value=0.0, max_value=4.0), min_size=1, max_size=50)


@given(notes, relative_finals)
def test_note_payment_stays_between_floor_and_cap_and_never_rises_with_final(note, relative):
    finals = np.sort(np.array(relative) * note.initial)
    paid = note.payment(finals)
    rounding = 1e-12 * note.principal
    assert (paid <= note.principal * (1 + note.max_return) + rounding).all()
    assert (paid >= note.principal * note.min_payment - rounding).all()
    assert (np.diff(paid) <= rounding).all()


@given(notes, st.floats(min_value=0.0, max_value=1.0))
def test_note_breakeven_pays_the_price_and_nothing_above_it_does(note, where):
    low, high = note.minimum_payment, note.maximum_payment
    price = low + (high - low) * where
    if not low < price <= high:
        return
    breakeven = note.breakeven(price)
    rounding = 1e-9 * note.principal
    assert note.payment(breakeven) >= price - rounding
    assert note.payment(breakeven * (1 + 1e-6) + 1e-9) < price + rounding


@st.composite
def warrants(draw):
    initial = draw(positive_value)
    upper = draw(st.floats(min_value=0.05, max_value=1.5))
    lower = draw(st.floats(min_value=0.0, max_value=upper * 0.999))
    warrant = PutWarrant(initial, upper, lower, draw(st.floats(min_value=1.0, max_value=1e6)))
    lookback = initial * draw(st.floats(min_value=1.0, max_value=2.0))
    return warrant, lookback


@given(warrants(), relative_finals, relative_finals)
def test_warrant_payment_is_continuous_nonnegative_and_zero_from_the_upper_strike(
        deal, relative_a, relative_b):
    warrant, lookback = deal
    n = min(len(relative_a), len(relative_b))
    a = np.array(relative_a[:n]) * warrant.initial
    b = np.array(relative_b[:n]) * warrant.initial
    paid_a = warrant.payment(lookback, a)
    paid_b = warrant.payment(lookback, b)
    rounding = 1e-9 * warrant.notional
    assert (paid_a >= -rounding).all()
    # Lipschitz in the final value with constant notional / initial: continuous, no jumps.
    assert (np.abs(paid_a - paid_b) <= warrant.notional * np.abs(a - b) / warrant.initial + rounding).all()
    at_or_above = a >= warrant.lookback_strike_value(lookback)
    assert (paid_a[at_or_above] == 0).all()
