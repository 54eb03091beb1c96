"""Valuation engines: Black-Scholes, replication, the lookback engines, Monte Carlo and generic solvers.
They take what they price (legs, schedules, strikes) and a market, never a product."""
