"""The supplements' hypothetical terms and scenario tables, formatted the way they are printed."""
from __future__ import annotations

import numpy as np

from .payments import note_breakeven, note_table, warrant_breakeven, warrant_table
from .terms import BufferNote, PutWarrant

# Bearish Buffer Securities, "Hypothetical Examples": initial 100, maximum return at its
# lowest value ($230.00), minimum payment $100.00.
NOTE = BufferNote(initial=100.0, participation=3.0, buffer=0.10, max_return=0.23, min_payment=0.10)
NOTE_EXAMPLE_FINALS = (95.0, 40.0, 105.0, 170.0, 220.0)

# Bearish Put Warrants: initial 100, upper strike 95% of lookback, lower strike 75% of initial.
WARRANT = PutWarrant(initial=100.0, upper_strike=0.95, lower_strike=0.75)
WARRANT_PREMIUM = 0.02728
WARRANT_TABLE_LOOKBACKS = {"Table 1": 100.0, "Table 2": 102.0}
TABLE_GRID = (150, 125, 110, 105, 102, 100, 95, 90, 85, 80, 75, 70, 60, 50, 40, 30, 20, 10, 0)


def warrant_table_finals(warrant: PutWarrant, lookback: float, premium: float) -> np.ndarray:
    """The supplement's grid of final values plus the upper strike and breakeven rows, highest first."""
    rows = set(TABLE_GRID) | {warrant.upper_strike_value(lookback),
                              warrant_breakeven(warrant, lookback, premium)}
    return np.array(sorted(rows, reverse=True), dtype=float)


def money(x: float) -> str:
    """$1,150.00 and -$27.28, as printed; N/A for a blank."""
    if np.isnan(x):
        return "N/A"
    cents = round(float(x), 2) + 0.0
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"


def percent(x: float, decimals: int) -> str:
    """A fraction as a percentage with `decimals` places (0.5 -> 50.000%); N/A for a blank."""
    if np.isnan(x):
        return "N/A"
    return f"{round(float(x) * 100, decimals) + 0.0:.{decimals}f}%"


def note_rows(note: BufferNote, finals) -> list[list[str]]:
    """Final value, underlying return, payment at maturity and total return, as printed."""
    return [[f"{final:.2f}", percent(ret, 2), money(pay), percent(total, 2)]
            for final, ret, pay, total in note_table(note, finals)]


def warrant_rows(warrant: PutWarrant, lookback: float, premium: float, finals) -> list[list[str]]:
    """Rows of the supplement's Tables 1 and 2, as printed."""
    return [[f"{row[0]:.3f}", *(percent(x, 3) for x in row[1:5]), money(row[5]), money(row[6]),
             percent(row[7], 2)]
            for row in warrant_table(warrant, lookback, premium, finals)]


def report() -> str:
    """The supplements' worked examples and hypothetical tables, computed from the terms above."""
    lines = ["Bearish Buffer Securities: hypothetical examples (initial 100.00)",
             "final | underlying return | payment at maturity | total return"]
    lines += [" | ".join(row) for row in note_rows(NOTE, NOTE_EXAMPLE_FINALS)]
    lines.append(f"breakeven at $1,000.00: final value {note_breakeven(NOTE, NOTE.principal):.2f}")
    for title, lookback in WARRANT_TABLE_LOOKBACKS.items():
        breakeven = warrant_breakeven(WARRANT, lookback, WARRANT_PREMIUM)
        lines += ["", f"Bearish Put Warrants: {title} (initial 100.00, lookback {lookback:.2f}, "
                      f"premium {percent(WARRANT_PREMIUM, 3)}, breakeven {breakeven:.3f})",
                  "final | from lookback | from initial | long differential | "
                  "short differential | payment | minus premium | total return"]
        finals = warrant_table_finals(WARRANT, lookback, WARRANT_PREMIUM)
        lines += [" | ".join(row) for row in warrant_rows(WARRANT, lookback, WARRANT_PREMIUM, finals)]
    return "\n".join(lines)
