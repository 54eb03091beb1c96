"""The bundled example book (examples/book/), made here so its provenance is code: a hypothetical
index history, two consecutive hypothetical snapshots and a book of positions in every stage of
life. None of it is market data.

    python3 tests/example_book.py examples/book

writes the files; tests/book/test_example.py checks the bundled ones are what this makes.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np

from xlfuncs.core.calendar import trading_days

from helpers import surface_grid

FIRST, PREVIOUS, TODAY = dt.date(2024, 10, 1), dt.date(2025, 6, 11), dt.date(2025, 6, 12)
DISRUPTED = dt.date(2025, 6, 3)  # a blank close: the history says the day was disrupted
NOTE = ("Hypothetical, not market data: made by tests/example_book.py (zero-rate curves shaped like the period's, "
        "vols sampled from an SSVI surface with an S&P 500-like skew).")
MONEYNESS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 1.0, 1.025, 1.05, 1.1, 1.15, 1.2, 1.3, 1.5)
EXPIRY_DAYS = (7, 14, 30, 61, 91, 122, 182, 273, 365, 547, 730, 1095, 1826)
CLIENTS = ("Northgate Capital", "Harbor Pension Trust", "Cedar Wealth Partners", "Meridian Endowment",
           "Alder Family Office", "Crestline Wealth")


def closes() -> dict[dt.date, float | None]:
    """A hypothetical index path: 15% vol, seed 20250612, from 5,700."""
    days = trading_days(FIRST, TODAY)
    moves = np.random.default_rng(20250612).normal(0.0003, 0.15 / math.sqrt(252), len(days) - 1)
    levels = 5700.0 * np.exp(np.concatenate([[0.0], np.cumsum(moves)]))
    return {day: (None if day == DISRUPTED else round(float(level), 2)) for day, level in zip(days, levels)}


def snapshot(as_of: dt.date, spot: float, atm_vol: float, shift: float) -> dict:
    """A snapshot: curves shaped like the period's (moved by `shift`), an SSVI vol grid."""
    rate = [[(as_of + dt.timedelta(days=days)).isoformat(), round(zero + shift, 5)]
            for days, zero in ((31, 0.0432), (92, 0.0433), (184, 0.0425), (365, 0.041), (730, 0.0395),
                               (1096, 0.039), (1826, 0.0395))]
    dividends = [[(as_of + dt.timedelta(days=days)).isoformat(), zero] for days, zero in
                 ((365, 0.013), (1096, 0.0135), (1826, 0.014))]
    grid = surface_grid(spot, as_of, EXPIRY_DAYS, MONEYNESS, atm_vol=atm_vol, variance_slope=0.008, eta=1.0,
                        rho=-0.7)
    vol = [[None, *grid[0][1:]]] + [[row[0].isoformat(), *(round(v, 6) for v in row[1:])] for row in grid[1:]]
    return {"note": NOTE, "as_of": as_of.isoformat(), "spot": spot, "rate": rate, "div_yield": dividends, "vol": vol}


def deals(history: dict) -> list[dict]:
    """Notes and warrants priced on past dates (initial: that day's close), one or more at each stage on TODAY."""
    def initial(day):
        return history[day]

    note_dates = {  # id: (pricing, final, payment); stage on 2025-06-12
        "N-LIVE-1": ("2025-03-03", "2026-03-02", "2026-03-05"),    # before its final date
        "N-LIVE-2": ("2024-12-02", "2025-12-01", "2025-12-04"),
        "N-FIX-TODAY": ("2024-12-12", "2025-06-12", "2025-06-17"),  # final value fixed today
        "N-FIXED": ("2024-12-09", "2025-06-09", "2025-06-13"),     # fixed, paid tomorrow
        "N-PAID-TODAY": ("2024-12-06", "2025-06-06", "2025-06-12"),  # paid today
        "N-PAID": ("2024-11-25", "2025-05-23", "2025-05-29"),      # paid before
    }
    rows = []
    for number, (deal_id, (priced, final, paid)) in enumerate(note_dates.items()):
        for product in ("note", "bullish_note"):
            rows.append(dict(deal_id=f"{deal_id}{'-B' if product == 'bullish_note' else ''}", product=product,
                             initial=initial(dt.date.fromisoformat(priced)),
                             participation=3 if product == "note" else 1.5, buffer=0.10,
                             max_return=0.23 if product == "note" else 0.25, min_payment=0.10, principal=1000,
                             final_date=final, payment_date=paid, funding_spread=0.010))
    warrant_dates = {  # id: (pricing, window start, window end, expiration, settlement); stage on 2025-06-12
        "W-BEFORE": ("2025-06-09", "2025-06-16", "2025-07-15", "2025-10-10", "2025-10-17"),
        "W-STARTS-TODAY": ("2025-06-04", "2025-06-12", "2025-07-11", "2025-10-03", "2025-10-10"),
        "W-IN": ("2025-05-23", "2025-05-30", "2025-06-27", "2025-09-26", "2025-10-03"),
        "W-CLOSED": ("2025-04-01", "2025-04-08", "2025-05-07", "2025-08-29", "2025-09-05"),
        "W-FIXED": ("2025-01-06", "2025-01-13", "2025-02-11", "2025-06-10", "2025-06-17"),
        "W-PAID-TODAY": ("2025-01-02", "2025-01-09", "2025-02-07", "2025-06-05", "2025-06-12"),
        "W-PAID": ("2024-12-02", "2024-12-09", "2025-01-08", "2025-05-02", "2025-05-09"),
    }
    for deal_id, (priced, start, end, expiration, settlement) in warrant_dates.items():
        rows.append(dict(deal_id=deal_id, product="warrant", initial=initial(dt.date.fromisoformat(priced)),
                         upper_strike=0.95, lower_strike=0.75, premium=0.02728, notional=1000, window_start=start,
                         window_end=end, expiration=expiration, settlement=settlement))
    return rows


TRADED_TODAY = {"N-LIVE-1": 1067.5, "W-IN": 24.5, "N-LIVE-2-B": 1036.0}  # price per security or warrant
COLUMNS = ("deal_id", "client", "product", "quantity", "trade_date", "trade_price", "initial", "participation",
           "buffer", "max_return", "min_payment", "principal", "final_date", "payment_date", "funding_spread",
           "upper_strike", "lower_strike", "premium", "notional", "window_start", "window_end", "expiration",
           "settlement")


def positions(history: dict) -> list[dict]:
    """Positions in every deal: the desk short what it issued to clients, long some hedges and
    buybacks; a few traded today (new since the previous snapshot)."""
    rng = np.random.default_rng(7)
    rows = []
    for deal in deals(history):
        count = 12 if deal["product"] == "warrant" else 16
        for i in range(count):
            quantity = int(rng.integers(1, 40)) * 10 * (1 if i % 4 == 3 else -1)
            row = {**deal, "client": CLIENTS[(i + len(rows)) % len(CLIENTS)], "quantity": quantity}
            if i == count - 1 and deal["deal_id"] in TRADED_TODAY:
                row.update(trade_date=TODAY.isoformat(), trade_price=TRADED_TODAY[deal["deal_id"]])
            rows.append(row)
    return rows


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    history = closes()
    with (folder / "closes.csv").open("w", newline="") as handle:
        handle.write("date,close\n")
        for day, close in history.items():
            handle.write(f"{day.isoformat()},{'' if close is None else close}\n")
    for as_of, vol, shift in ((PREVIOUS, 0.165, 0.0), (TODAY, 0.171, 0.0004)):
        path = folder / f"market-{as_of.isoformat()}.json"
        path.write_text(json.dumps(snapshot(as_of, history[as_of], vol, shift), indent=1) + "\n")
    with (folder / "positions.csv").open("w", newline="") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for row in positions(history):
            handle.write(",".join(str(row.get(column, "")) for column in COLUMNS) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
