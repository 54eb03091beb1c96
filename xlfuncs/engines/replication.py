"""A payment replicated by a bond and European options that all fix on one date and pay on another.

The payment at `payment` is `principal` plus option legs (weight, is_call, strike) on the
underlying's value at `fixing`, every one of them the payer's unsecured obligation: the whole
payment is discounted at rate + spread (a note's funding spread over the rate). The value is
held between the present values of the lowest and the largest payment, which only rounding of
the legs could cross. The engine knows legs and dates, never a product.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from ..core.market import Market
from .black_scholes import black_scholes, option_value

Leg = tuple[float, bool, float]  # weight, is_call, strike


def discount(market: Market, spread: float, t_pay: float) -> float:
    """The discount factor of every payment at the payer's funding rate (rate + spread)."""
    return float(np.exp(-(market.rate + spread) * t_pay))


def value(principal: float, legs: list[Leg], fixing: dt.date, payment: dt.date, market: Market, spread: float,
          lowest: float, largest: float) -> float:
    """The payment's value: principal plus legs, discounted at rate + spread, held between the
    present values of `lowest` and `largest`."""
    t_fix, t_pay = market.time_to(fixing), market.time_to(payment)
    args = (t_fix, t_pay, market.vol, market.rate, market.div_yield, spread)
    options = sum(weight * option_value(is_call, market.spot, strike, *args) for weight, is_call, strike in legs)
    factor = discount(market, spread, t_pay)
    total = float(principal * factor + options)
    return min(max(total, lowest * factor), largest * factor)


def greeks_per_unit(principal: float, legs: list[Leg], fixing: dt.date, payment: dt.date, market: Market,
                    spread: float) -> np.ndarray:
    """Value and greeks of the payment, rows as black_scholes, per-unit conventions."""
    t_fix, t_pay = market.time_to(fixing), market.time_to(payment)
    bond = principal * discount(market, spread, t_pay)
    funding = market.rate + spread
    total = np.array([bond, 0.0, 0.0, 0.0, funding * bond if t_pay > 0 else 0.0, -t_pay * bond])  # paid: no accrual
    for weight, is_call, strike in legs:
        total += weight * black_scholes(is_call, market.spot, strike, t_fix, t_pay, market.vol, market.rate,
                                        market.div_yield, spread)
    return total
