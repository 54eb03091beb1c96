"""Buffer Securities, the bullish mirror of the bearish note: at maturity principal plus
participation x the underlying's gain up to the maximum return; principal if the underlying
falls by no more than the buffer; 1:1 loss beyond the buffer, floored at the minimum payment.

No supplement is bundled for it: the template's terms are hypothetical."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .buffer_note import BufferNote, note_fields, note_layout, note_product

TITLE = "Buffer Securities"


@dataclass(frozen=True)
class BullishBufferNote(BufferNote):
    """Buffer Securities: the payment rises with the underlying."""

    FIELDS = note_fields("fall")
    DIRECTION = 1
    MOST_FAVOURABLE = float("inf")  # a rise has no bound
    MAXIMUM_RULE = "principal x (1 + max_return)"
    LOWEST_RULE = "the lowest payment, principal x max(min_payment, buffer)"


EXAMPLES = {"Example 1: upside scenario A": 105.0, "Example 2: upside scenario B": 150.0,
            "Example 3: par scenario": 95.0, "Example 4: downside scenario A": 70.0,
            "Example 5: downside scenario B": 10.0}


def layout():
    return note_layout(
        PRODUCT, heading=f"{TITLE} Linked to the S&P 500® Index (hypothetical terms)",
        subtitle="A hypothetical issue with the bearish note's issuer and dates · no CUSIP · blue cells are inputs",
        cusip_isin="hypothetical",
        example=BullishBufferNote(100.0, 1.5, 0.10, 0.25, 0.10, 1000.0, dt.date(2024, 12, 2), dt.date(2024, 12, 5),
                                  0.01),
        notes={"principal": "per security", "final_date": "its closing value is the final underlying value",
               "initial": "closing value on the pricing date (hypothetical 100.00)",
               "max_return": "of the principal; set on the pricing date", "min_payment": "of the principal"},
        examples=EXAMPLES,
        payment_lines=(
            "Final above the initial value: $1,000 + $1,000 x underlying return x participation rate, up to the "
            "maximum return.",
            "Final from the final buffer value up to the initial value: $1,000.",
            "Final below the final buffer value: $1,000 + $1,000 x (underlying return + buffer percentage), at "
            "least the minimum payment."))


PRODUCT = note_product(
    "bullish_note", "BULL_NOTE", BullishBufferNote, title=TITLE,
    breakeven_help="Lowest final underlying value at which the note still pays at least price.",
    layout=layout, template="buffer_note.xlsx",
    issuer="Citigroup Global Markets Holdings Inc.", guarantor="Citigroup Inc.")
