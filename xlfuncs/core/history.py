"""The index's history of official closes: the source of every fixing a product's life needs.

A history holds one entry per scheduled trading day from its first date to its last, each a
close or None (a disrupted day, as the history says so with a blank close). A day the history
does not reach is an error naming it, never a close guessed.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .calendar import trading_days
from .fields import TermError


@dataclass(frozen=True)
class History:
    """Closes by date (None: disrupted), every scheduled trading day from `first` to `last` held."""

    closes: dict[dt.date, float | None]
    first: dt.date
    last: dt.date

    @classmethod
    def of(cls, closes: dict[dt.date, float | None]) -> "History":
        """The history of these dated closes, or a TermError naming the scheduled trading days it
        skips (a gap) and any day that is no scheduled trading day."""
        if not closes:
            raise TermError("the closes history holds no close")
        first, last = min(closes), max(closes)
        scheduled = trading_days(first, last)
        missing = sorted(set(scheduled) - set(closes))
        if missing:
            raise TermError(f"the closes history skips {len(missing)} scheduled trading day(s): {shown(missing)}; "
                            "give each its close, or a blank close for a disrupted day")
        extra = sorted(set(closes) - set(scheduled))
        if extra:
            raise TermError(f"the closes history has closes for {shown(extra)}, which are no scheduled trading days "
                            "(weekends or NYSE holidays)")
        return cls(dict(sorted(closes.items())), first, last)

    def reaching(self, as_of: dt.date) -> None:
        """A TermError unless the history holds every scheduled trading day up to `as_of`."""
        after = trading_days(self.last + dt.timedelta(days=1), as_of) if as_of > self.last else []
        if after:
            raise TermError(f"the closes history ends on {self.last.isoformat()}, before {as_of.isoformat()}: add the "
                            f"close of {shown(after)}")

    def close(self, day: dt.date, name: str) -> float | None:
        """The close of `day` (None: disrupted), `name` saying what it fixes for the message."""
        if not self.covers(day):
            raise TermError(f"the closes history ({self.first.isoformat()} to {self.last.isoformat()}) has no close "
                            f"for {day.isoformat()}, the {name}")
        if day not in self.closes:
            raise TermError(f"the {name} {day.isoformat()} is no scheduled trading day, so it has no close")
        return self.closes[day]

    def fixing(self, day: dt.date, name: str) -> float:
        """The close that fixes a final value on `day` (the `name` date): a disrupted day is
        refused, as the postponement a term sheet then provides is not modelled."""
        close = self.close(day, name)
        if close is None:
            raise TermError(f"the closes history marks the {name} {day.isoformat()} disrupted: the postponed "
                            f"{name} is not modelled; value this deal by hand")
        return close

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def window(self, days, name: str) -> tuple:
        """The closes of scheduled trading days `days` (None where disrupted)."""
        days = list(days)
        outside = [day for day in days if not self.covers(day)]
        if outside:
            raise TermError(f"the closes history ({self.first.isoformat()} to {self.last.isoformat()}) has no close "
                            f"for {shown(outside)}, {name}")
        return tuple(self.closes[day] for day in days)


def fixing_day(day: dt.date, name: str) -> None:
    """A TermError unless `day`, when a close fixes a final value, is a scheduled trading day."""
    if not trading_days(day, day):
        raise TermError(f"{name} {day.isoformat()} is no scheduled trading day: no close can fix the final value "
                        "on it")


def shown(days: list[dt.date], most: int = 5) -> str:
    """Dates as a message lists them: the first few, and how many more."""
    listed = ", ".join(day.isoformat() for day in days[:most])
    return listed + (f" and {len(days) - most} more" if len(days) > most else "")
