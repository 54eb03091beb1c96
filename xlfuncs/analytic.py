"""Closed forms: Black-Scholes legs with their greeks, and a buffer note as bond plus options.

A leg fixes at `t_fix` (forward S e^{(r-q) t_fix}) and pays at `t_pay` (discount
e^{-(r + spread) t_pay}, the spread over the rate of whoever owes the payment: 0 for the
warrant's legs), years from `as_of`. Greeks per unit: delta, gamma, vega (per 1.00 of vol),
theta (change of value per year of `as_of` moving forward) and rho (per 1.00 of rate, which
moves the forward and the discount alike).

A buffer note is its principal plus the option legs of its replication
(products/buffer_note.py, BufferNote.legs), every one of them the issuer's unsecured
obligation: the whole payment is discounted at rate + funding_spread.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from .fields import in_order
from .market import Market

if TYPE_CHECKING:
    from .products.buffer_note import BufferNote
    from .products.put_warrant import PutWarrant


def normal_pdf(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def d1_of(forward, strike, stdev):
    """Black-Scholes d1 for a forward, a strike and the stdev of the log price at fixing."""
    with np.errstate(divide="ignore"):
        return (np.log(forward / strike) + 0.5 * stdev ** 2) / stdev


def option_value(is_call: bool, spot, strike, t_fix: float, t_pay: float, vol: float, rate: float,
                 div_yield: float, spread: float = 0.0):
    """Value of a European option per unit, vectorised over spot and strike (the Monte Carlo
    inner loop needs only this row of black_scholes)."""
    forward = np.asarray(spot, float) * np.exp((rate - div_yield) * t_fix)
    discount, sign = np.exp(-(rate + spread) * t_pay), 1.0 if is_call else -1.0
    if t_fix <= 0:
        return discount * np.maximum(sign * (forward - strike), 0.0)
    stdev = vol * np.sqrt(t_fix)
    d1 = d1_of(forward, strike, stdev)
    return discount * sign * (forward * ndtr(sign * d1) - strike * ndtr(sign * (d1 - stdev)))


def black_scholes(is_call: bool, spot, strike, t_fix: float, t_pay: float, vol: float,
                  rate: float, div_yield: float, spread: float = 0.0) -> np.ndarray:
    """Value and greeks of a European option per unit (rows: value, delta, gamma, vega, theta, rho); vectorised over
    spot and strike. At t_fix = 0 the option is its intrinsic value, paid at t_pay."""
    spot, strike = np.broadcast_arrays(np.asarray(spot, float), np.asarray(strike, float))
    growth = np.exp((rate - div_yield) * t_fix)
    discount = np.exp(-(rate + spread) * t_pay)
    forward = spot * growth
    sign = 1.0 if is_call else -1.0
    value = option_value(is_call, spot, strike, t_fix, t_pay, vol, rate, div_yield, spread)
    if t_fix <= 0:
        delta = discount * sign * (sign * (forward - strike) > 0)
        gamma = vega = np.zeros_like(value)
    else:
        stdev = vol * np.sqrt(t_fix)
        d1 = d1_of(forward, strike, stdev)
        delta = discount * growth * sign * ndtr(sign * d1)
        density = normal_pdf(d1)
        gamma = discount * growth * density / (spot * stdev)
        vega = discount * forward * density * np.sqrt(t_fix)
        slope = discount * forward * density * vol / (2 * np.sqrt(t_fix))
    if t_pay <= 0:  # paid: nothing moves with as_of
        theta = np.zeros_like(value)
    else:  # once fixed, only the discounting to the payment date moves with as_of
        theta = (rate + spread) * value - ((rate - div_yield) * spot * delta + slope if t_fix > 0 else 0.0)
    rho = -t_pay * value + t_fix * spot * delta
    return np.array([value, delta, gamma, vega, theta, rho])


def note_times(note: BufferNote, market: Market) -> tuple[float, float]:
    """Years to the note's fixing and payment, with the dates checked to be in order."""
    note.need("final_date", "payment_date", "funding_spread")
    in_order(("as_of", market.as_of), ("final_date", note.final_date), ("payment_date", note.payment_date))
    return market.time_to(note.final_date), market.time_to(note.payment_date)


def note_discount(note: BufferNote, market: Market, t_pay: float) -> float:
    """The discount factor of every payment of the note, at the issuer's funding rate (rate + funding_spread)."""
    return float(np.exp(-(market.rate + note.funding_spread) * t_pay))


def note_value(note: BufferNote, market: Market) -> float:
    """Closed-form value of a buffer note per security: its principal plus the legs of its
    replication, all discounted at rate + funding_spread; held between the present values of
    its lowest and its largest payment, which only rounding of the legs could cross."""
    t_fix, t_pay = note_times(note, market)
    args = (t_fix, t_pay, market.vol, market.rate, market.div_yield, note.funding_spread)
    legs = sum(weight * option_value(is_call, market.spot, strike, *args) for weight, is_call, strike in note.legs())
    discount = note_discount(note, market, t_pay)
    value = float(note.principal * discount + legs)
    return min(max(value, note.lowest_payment * discount), note.maximum_payment * discount)


def note_greeks_per_unit(note: BufferNote, market: Market) -> np.ndarray:
    """Value and greeks of the note per security, rows as black_scholes, per-unit conventions."""
    t_fix, t_pay = note_times(note, market)
    discount_rate = market.rate + note.funding_spread
    bond = note.principal * note_discount(note, market, t_pay)
    total = np.array([bond, 0.0, 0.0, 0.0, discount_rate * bond if t_pay > 0 else 0.0, -t_pay * bond])  # paid: no accrual
    for weight, is_call, strike in note.legs():
        total += weight * black_scholes(is_call, market.spot, strike, t_fix, t_pay, market.vol,
                                        market.rate, market.div_yield, note.funding_spread)
    return total


def display_greeks(per_unit: np.ndarray) -> np.ndarray:
    """Delta per index point, gamma, vega per 1 vol point, theta per calendar day, rho per 1% of rate."""
    value, delta, gamma, vega, theta, rho = per_unit
    return np.array([delta, gamma, vega / 100, theta / 365, rho / 100])


def lookback_put(warrant: PutWarrant, lookback, spot, t_fix: float, t_pay: float, vol: float,
                 rate: float, div_yield: float):
    """The long leg: notional/lookback puts struck at the upper strike value; vectorised over
    spot and lookback."""
    lookback = np.asarray(lookback, float)
    return warrant.notional / lookback * option_value(False, spot, warrant.upper_strike * lookback, t_fix,
                                                      t_pay, vol, rate, div_yield)


def lower_put(warrant: PutWarrant, spot, t_fix: float, t_pay: float, vol: float, rate: float, div_yield: float):
    """The short leg: notional/initial puts struck at the lower strike value."""
    return warrant.notional / warrant.initial * option_value(False, spot, warrant.lower_strike_value, t_fix,
                                                             t_pay, vol, rate, div_yield)


def put_spread_value(warrant: PutWarrant, lookback, spot, t_fix: float, t_pay: float, vol: float,
                     rate: float, div_yield: float):
    """The warrant's payment valued as its long leg less its short leg."""
    args = (t_fix, t_pay, vol, rate, div_yield)
    return lookback_put(warrant, lookback, spot, *args) - lower_put(warrant, spot, *args)
