"""The supplements' hypothetical examples and tables, formatted the way they are printed."""
from __future__ import annotations

import numpy as np

from .products.bearish_note import EXAMPLES
from .products.bearish_note import SUPPLEMENT as NOTE
from .products.put_warrant import SUPPLEMENT as WARRANT
from .products.put_warrant import SUPPLEMENT_TABLES, PutWarrant, table_finals

NOTE_EXAMPLE_FINALS = tuple(EXAMPLES.values())


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


def note_rows(note, finals) -> list[list[str]]:
    """Final value, underlying return, payment at maturity and total return, as printed."""
    return [[f"{final:.2f}", percent(ret, 2), money(pay), percent(total, 2)]
            for final, ret, pay, total in note.table(finals)]


def warrant_rows(warrant: PutWarrant, lookback: float, finals) -> list[list[str]]:
    """Rows of the supplement's Tables 1 and 2, as printed."""
    return [[f"{row[0]:.3f}", *(percent(x, 3) for x in row[1:5]), money(row[5]), money(row[6]),
             percent(row[7], 2)]
            for row in warrant.table(lookback, finals)]


def report() -> str:
    """The supplements' worked examples and hypothetical tables, computed from their terms."""
    lines = ["Bearish Buffer Securities: hypothetical examples (initial 100.00)",
             "final | underlying return | payment at maturity | total return"]
    lines += [" | ".join(row) for row in note_rows(NOTE, NOTE_EXAMPLE_FINALS)]
    lines.append(f"breakeven at $1,000.00: final value {NOTE.breakeven(NOTE.principal):.2f}")
    for title, lookback in SUPPLEMENT_TABLES.items():
        lines += ["", f"Bearish Put Warrants: {title} (initial 100.00, lookback {lookback:.2f}, "
                      f"premium {percent(WARRANT.premium, 3)}, breakeven {WARRANT.breakeven(lookback):.3f})",
                  "final | from lookback | from initial | long differential | "
                  "short differential | payment | minus premium | total return"]
        lines += [" | ".join(row) for row in warrant_rows(WARRANT, lookback, table_finals(WARRANT, lookback))]
    return "\n".join(lines)
