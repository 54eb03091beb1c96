"""Bearish Buffer Securities (Citigroup, CUSIP 17291TGZ5): inverse exposure to the S&P 500 with
participation up to a maximum return, a buffer against a rise, and a minimum payment."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .buffer_note import BufferNote, note_fields, note_layout, note_product

TITLE = "Bearish Buffer Securities"


@dataclass(frozen=True)
class BearishBufferNote(BufferNote):
    """Bearish Buffer Securities: the payment rises as the underlying falls."""

    FIELDS = note_fields("rise")
    DIRECTION = -1
    MOST_FAVOURABLE = 1.0  # a fall of at most 100%
    MAXIMUM_RULE = "principal x (1 + min(max_return, participation))"
    LOWEST_RULE = "the minimum payment, principal x min_payment"


# The supplement's hypothetical examples (initial 100, maximum return at its lowest value,
# $230.00; minimum payment $100.00) and their final values.
SUPPLEMENT = BearishBufferNote(initial=100.0, participation=3.0, buffer=0.10, max_return=0.23, min_payment=0.10)
EXAMPLES = {"Example 1: upside scenario A": 95.0, "Example 2: upside scenario B": 40.0,
            "Example 3: par scenario": 105.0, "Example 4: downside scenario A": 170.0,
            "Example 5: downside scenario B": 220.0}


def layout():
    return note_layout(
        PRODUCT, heading=f"{TITLE} Linked to the S&P 500® Index Due December 5, 2024",
        subtitle="Citigroup Global Markets Holdings Inc. · preliminary pricing supplement of November 8, 2023 · "
                 "CUSIP 17291TGZ5 · blue cells are inputs",
        cusip_isin="17291TGZ5 / US17291TGZ57",
        example=BearishBufferNote(100.0, 3.0, 0.10, 0.23, 0.10, 1000.0, dt.date(2024, 12, 2), dt.date(2024, 12, 5),
                                  0.01),
        notes={"principal": "per security", "final_date": "its closing value is the final underlying value",
               "initial": "closing value on the pricing date (hypothetical 100.00 until then)",
               "max_return": "of the principal; set on the pricing date, at least 23.00% ($230.00)",
               "min_payment": "of the principal"},
        examples=EXAMPLES,
        payment_lines=(
            "Final below the initial value: $1,000 + $1,000 x |underlying return| x participation rate, up to the "
            "maximum return.",
            "Final from the initial value up to the final buffer value: $1,000.",
            "Final above the final buffer value: $1,000 - $1,000 x (underlying return - buffer percentage), at "
            "least the minimum payment."))


PRODUCT = note_product(
    "note", "NOTE", BearishBufferNote, title=TITLE,
    breakeven_help="Highest final underlying value at which the note still pays at least price.",
    layout=layout, template="bearish_buffer_note.xlsx",
    issuer="Citigroup Global Markets Holdings Inc.", guarantor="Citigroup Inc.")
