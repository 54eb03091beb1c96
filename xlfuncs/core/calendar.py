"""NYSE scheduled trading days: the exchange's holiday rules, in plain Python."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from .fields import Field, TermError, date, in_order, table

ONE_DAY = dt.timedelta(days=1)


def easter(year: int) -> dt.date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian computus."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday_shift) // 433
    month = (h + weekday_shift - 7 * m + 90) // 25
    return dt.date(year, month, (h + weekday_shift - 7 * m + 33 * month + 19) % 32)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (Monday 0) of a month; n = -1 is the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - ONE_DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def observed(day: dt.date) -> dt.date:
    """A fixed-date holiday on a Saturday is observed on Friday, on a Sunday on Monday."""
    return day + {5: -ONE_DAY, 6: ONE_DAY}.get(day.weekday(), dt.timedelta(0))


@lru_cache(maxsize=None)
def nyse_holidays(year: int) -> frozenset[dt.date]:
    """The NYSE's regular full-day holidays in `year` (unscheduled closures are not rules)."""
    monday, thursday = 0, 3
    days = {
        nth_weekday(year, 1, monday, 3),        # Martin Luther King Jr. Day
        nth_weekday(year, 2, monday, 3),        # Washington's Birthday (Presidents Day)
        easter(year) - 2 * ONE_DAY,             # Good Friday
        nth_weekday(year, 5, monday, -1),       # Memorial Day
        observed(dt.date(year, 7, 4)),          # Independence Day
        nth_weekday(year, 9, monday, 1),        # Labor Day
        nth_weekday(year, 11, thursday, 4),     # Thanksgiving Day
        observed(dt.date(year, 12, 25)),        # Christmas Day
    }
    if dt.date(year, 1, 1).weekday() != 5:      # on a Saturday, not moved into the old year
        days.add(observed(dt.date(year, 1, 1)))  # New Year's Day
    if year >= 2022:
        days.add(observed(dt.date(year, 6, 19)))  # Juneteenth National Independence Day
    return frozenset(days)


def trading_days(start: dt.date, end: dt.date, holidays=None) -> list[dt.date]:
    """Scheduled trading days from `start` to `end` (in order, checked by the caller), both
    included: weekdays that are not NYSE holidays, or not in `holidays` when that list is given
    (it replaces the rules)."""
    closed = (frozenset(holidays) if holidays is not None
              else frozenset().union(*(nyse_holidays(y) for y in range(start.year, end.year + 1))))
    days = (start + n * ONE_DAY for n in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5 and day not in closed]


FIELDS = table(date("first_day", "First calendar date to list."), date("last_day", "Last calendar date to list."),
               Field("holidays", "Optional range of holiday dates that replaces the NYSE holiday rules (blank: the "
                                 "rules).", "date", shape="dates", default=None))


def trading_days_column(first_day: dt.date, last_day: dt.date, holidays) -> list[list[dt.datetime]]:
    in_order(("first_day", first_day), ("last_day", last_day))
    days = trading_days(first_day, last_day, holidays)
    if not days:
        raise TermError("there is no scheduled trading day from first_day to last_day")
    return [[dt.datetime.combine(day, dt.time())] for day in days]
