"""Closed forms: Black-Scholes European options with their greeks.

A leg fixes at `t_fix` (forward S e^{(r-q) t_fix}) and pays at `t_pay` (discount
e^{-(r + spread) t_pay}, the spread over the rate of whoever owes the payment: 0 for a
payment discounted at the rate), years from `as_of`. Greeks per unit: delta, gamma, vega (per 1.00 of vol),
theta (change of value per year of `as_of` moving forward) and rho (per 1.00 of rate, which
moves the forward and the discount alike).
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr


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


def display_greeks(per_unit: np.ndarray) -> np.ndarray:
    """Delta per index point, gamma, vega per 1 vol point, theta per calendar day, rho per 1% of rate."""
    value, delta, gamma, vega, theta, rho = per_unit
    return np.array([delta, gamma, vega / 100, theta / 365, rho / 100])
