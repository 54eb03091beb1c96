"""Rate and dividend curves: continuously compounded zero rates at pillar dates.

A curve is quoted on its `anchor` date (the snapshot's as_of) as zero rates z_i to pillar dates
at t_i years (ACT/365F). The log discount factor is linear in time between its knots: 0 at the
anchor, -z_i t_i at each pillar, so forward rates are flat between pillars; beyond the last
pillar the last segment's forward goes on. Discounting between two later dates divides the
anchor's factors, which holds the forwards when as_of moves on (theta).
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .cells import cells, date_cell, error_cell, not_an_error, shape
from .fields import Field, TermError

MAX_FORWARD = 1.0  # forward rates between pillars: beyond 100% a pillar was mistyped


@dataclass(frozen=True)
class CurveQuotes:
    """A curve as typed: pillar dates and zero rates, both increasing in date."""

    dates: tuple[dt.date, ...]
    zeros: tuple[float, ...]

    def __hash__(self) -> int:  # every call with the same range hashes it: once is enough
        if "_hash" not in self.__dict__:
            object.__setattr__(self, "_hash", hash((self.dates, self.zeros)))
        return self.__dict__["_hash"]

    def cells(self) -> list[list]:
        """The range as typed: a date and a zero rate per row."""
        return [[day, zero] for day, zero in zip(self.dates, self.zeros)]


@dataclass(frozen=True)
class Curve:
    """Zero rates at pillar times (years from `anchor`), log-linear discount factors between them."""

    anchor: dt.date
    times: tuple[float, ...]
    zeros: tuple[float, ...]

    @cached_property
    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        times = np.array((0.0, *self.times))
        return times, np.concatenate([[0.0], -np.array(self.zeros) * times[1:]])

    @cached_property
    def segments(self) -> tuple[list, list, float]:
        """Knot times and log discount factors as lists, and the last segment's slope (goes on beyond)."""
        times, logs = self.knots
        return times.tolist(), logs.tolist(), float((logs[-1] - logs[-2]) / (times[-1] - times[-2]))

    def log_discount(self, t):
        """log of the discount factor from the anchor to t years after it (vectorised)."""
        times, logs, last_slope = self.segments
        if isinstance(t, float):  # one date, as a note's valuation asks: no arrays
            if t >= times[-1]:
                return logs[-1] + last_slope * (t - times[-1])
            i = max(bisect_right(times, t), 1)
            return logs[i - 1] + (logs[i] - logs[i - 1]) * (t - times[i - 1]) / (times[i] - times[i - 1])
        t = np.asarray(t, float)
        return np.where(t <= times[-1], np.interp(t, times, logs), logs[-1] + last_slope * (t - times[-1]))

    def forward_at(self, t: float) -> float:
        """The instantaneous forward rate t years after the anchor (a segment's, from its start on)."""
        times, logs = self.knots
        i = min(int(np.searchsorted(times, t, side="right")), len(times) - 1)
        return float(-(logs[i] - logs[i - 1]) / (times[i] - times[i - 1]))

    def log_discount_between(self, start: float, t) -> np.ndarray:
        """log of the discount factor from `start` to `start + t` years after the anchor."""
        later = start + t if isinstance(t, float) else start + np.asarray(t, float)
        return self.log_discount(later) - self.log_discount(start)

    def shifted(self, change: float) -> "Curve":
        """Every zero rate moved by `change` (a parallel shift: every forward moves by it too)."""
        return Curve(self.anchor, self.times, tuple(zero + change for zero in self.zeros))


def curve_of(quotes: CurveQuotes, anchor: dt.date, name: str) -> Curve:
    """The curve of `quotes` as of `anchor`: pillars after it, forwards within +-MAX_FORWARD."""
    late = [day for day in quotes.dates if day <= anchor]
    if late:
        raise TermError(f"{name} curve pillar dates must be after as_of ({anchor.isoformat()}), "
                        f"got {late[0].isoformat()}")
    times = tuple((day - anchor).days / 365.0 for day in quotes.dates)
    curve = Curve(anchor, times, quotes.zeros)
    knot_times, logs = curve.knots
    forwards = -np.diff(logs) / np.diff(knot_times)
    wild = np.flatnonzero(np.abs(forwards) > MAX_FORWARD)
    if wild.size:
        i = int(wild[0])
        start = anchor.isoformat() if i == 0 else quotes.dates[i - 1].isoformat()
        raise TermError(f"{name} curve's forward rate from {start} to {quotes.dates[i].isoformat()} must be within "
                        f"+-{MAX_FORWARD:.0%}, got {forwards[i]:.2%}: check the zero rates there")
    return curve


def curve_quotes(value, field: Field) -> CurveQuotes:
    """A two-column range of pillar dates and zero rates (fractions held to `field`'s rule) as
    quotes; rows wholly blank are skipped, and so is a first row of text (headers)."""
    name, rows = field.name, cells(value)
    if any(len(row) != 2 for row in rows):
        raise TermError(f"{name} must be one number or a two-column range of dates and zero rates, "
                        f"got a {shape(rows)} range")
    if rows and all(isinstance(cell, str) and error_cell(cell) is None for cell in rows[0]):
        rows = rows[1:]
    dates, zeros = [], []
    for i, (day, zero) in enumerate(rows):
        where = f" (row {i + 1} of the {name} curve)"
        day, zero = not_an_error(day, name, where), not_an_error(zero, name, where)
        if day is None and zero is None:
            continue
        if day is None or zero is None:
            raise TermError(f"{name} curve needs a date and a zero rate in every row, got a blank cell{where}")
        dates.append(date_cell(day, f"{name} curve date{where}"))
        try:
            zeros.append(field.check(zero))
        except TermError as error:
            raise TermError(f"{error}{where}") from None
    if not dates:
        raise TermError(f"{name} curve has no pillars: give dates and zero rates, or one number for a flat {name}")
    for before, after in zip(dates, dates[1:]):
        if after <= before:
            raise TermError(f"{name} curve dates must increase, got {after.isoformat()} after {before.isoformat()}")
    return CurveQuotes(tuple(dates), tuple(zeros))
