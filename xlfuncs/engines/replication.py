"""A payment replicated by a bond and European options that all fix on one date and pay on another.

The payment at `payment` is `principal` plus option legs (weight, is_call, strike) on the
underlying's value at `fixing`, every one of them the payer's unsecured obligation: the whole
payment is discounted at the rate (flat or its curve) plus `spread` (a note's funding spread).
Each leg is Black's formula at its own strike's implied vol (flat or from the surface), with
the forward from the rate and dividend curves. The value is held between the present values
of the lowest and the largest payment, which only rounding of the legs could cross. The engine
knows legs and dates, never a product.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from ..core.market import Market
from .black_scholes import black_scholes, option_value

Leg = tuple[float, bool, float]  # weight, is_call, strike


def discount(market: Market, spread: float, t_pay: float) -> float:
    """The discount factor of every payment at the payer's funding rate (rate + spread)."""
    return float(market.discount(t_pay, spread))


def leg_inputs(legs: list[Leg], t_fix: float, t_pay: float, market: Market) -> tuple[list, float, float]:
    """Each leg's vol and the flat rate and dividend yield that give the market's discount factor
    to the payment and forward to the fixing: Black's formula needs no more."""
    if market.flat:
        return np.full(len(legs), market.vol), market.rate, market.div_yield
    vols = market.implied_vols([strike for _, _, strike in legs], t_fix) if t_fix > 0 else [0.0] * len(legs)
    return vols, *market.flat_equivalent(t_fix, t_pay)


def value(principal: float, legs: list[Leg], fixing: dt.date, payment: dt.date, market: Market, spread: float,
          lowest: float, largest: float, spots=None):
    """The payment's value: principal plus legs, discounted at rate + spread, held between the
    present values of `lowest` and `largest`; with `spots`, an array: the values at each of
    those spots instead of the market's, each leg at its strike's vol (sticky strike)."""
    t_fix, t_pay = market.time_to(fixing), market.time_to(payment)
    vols, rate, div_yield = leg_inputs(legs, t_fix, t_pay, market)
    spot = market.spot if spots is None else np.asarray(spots, float)
    options = sum(weight * option_value(is_call, spot, strike, t_fix, t_pay, vol, rate, div_yield, spread)
                  for (weight, is_call, strike), vol in zip(legs, vols))
    factor = discount(market, spread, t_pay)
    if spots is not None:
        return np.clip(principal * factor + options, lowest * factor, largest * factor)
    total = float(principal * factor + options)
    return min(max(total, lowest * factor), largest * factor)


def greeks_per_unit(principal: float, legs: list[Leg], fixing: dt.date, payment: dt.date, market: Market,
                    spread: float) -> np.ndarray:
    """Value and greeks of the payment, rows as black_scholes, per-unit conventions: delta and
    gamma with each leg's vol held (sticky strike), vega for every vol moved alike, rho for the
    rate curve moved in parallel, theta with the curves' forwards and each strike's implied vol
    at the fixing date held."""
    t_fix, t_pay = market.time_to(fixing), market.time_to(payment)
    vols, rate, div_yield = leg_inputs(legs, t_fix, t_pay, market)
    short_rate, short_yield = market.short_rate(market.rate), market.short_rate(market.div_yield)
    bond = principal * discount(market, spread, t_pay)
    funding = short_rate + spread
    total = np.array([bond, 0.0, 0.0, 0.0, funding * bond if t_pay > 0 else 0.0, -t_pay * bond])  # paid: no accrual
    for (weight, is_call, strike), vol in zip(legs, vols):
        leg = black_scholes(is_call, market.spot, strike, t_fix, t_pay, vol, rate, div_yield, spread)
        if not market.flat and t_pay > 0:  # the carry at as_of is the curves' short rates, not the averages
            leg[4] = funding * leg[0] - ((short_rate - short_yield) * market.spot * leg[1]
                                         + leg[3] * vol / (2 * t_fix) if t_fix > 0 else 0.0)
        total += weight * leg
    return total
