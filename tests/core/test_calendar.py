"""NYSE holiday rules against the exchange's published calendars, and TRADING_DAYS."""
import datetime as dt

import pytest

from xlfuncs.core.calendar import easter, nyse_holidays, trading_days

# NYSE holidays as published for 2023-2026 (full-day closures by rule).
PUBLISHED = {
    2023: ["2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19",
           "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25"],
    2024: ["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19",
           "2024-07-04", "2024-09-02", "2024-11-28", "2024-12-25"],
    2025: ["2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
           "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25"],
    2026: ["2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
           "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"],
}


@pytest.mark.parametrize("year", PUBLISHED)
def test_holiday_rules_match_the_published_calendar(year):
    assert sorted(day.isoformat() for day in nyse_holidays(year)) == PUBLISHED[year]


@pytest.mark.parametrize("day", ["2019-04-21", "2020-04-12", "2021-04-04", "2022-04-17",
                                 "2027-03-28", "2038-04-25", "2285-03-22"])
def test_easter_sunday(day):
    assert easter(int(day[:4])).isoformat() == day


def test_new_year_on_a_saturday_is_not_moved_into_december():
    # 2022-01-01 was a Saturday: the NYSE traded on Friday 2021-12-31.
    assert dt.date(2021, 12, 31) in trading_days(dt.date(2021, 12, 30), dt.date(2022, 1, 3))
    assert dt.date(2021, 12, 31) not in nyse_holidays(2021) | nyse_holidays(2022)


def test_juneteenth_only_from_2022():
    assert dt.date(2021, 6, 18) not in nyse_holidays(2021)  # observed federally, NYSE open
    assert dt.date(2022, 6, 20) in nyse_holidays(2022)      # Sunday the 19th, observed Monday


def test_seed_window_has_21_trading_days_without_memorial_day_and_juneteenth(excel):
    days = trading_days(dt.date(2025, 5, 21), dt.date(2025, 6, 20))
    assert len(days) == 21
    assert dt.date(2025, 5, 26) not in days and dt.date(2025, 6, 19) not in days
    column = excel("TRADING_DAYS", 45798, 45828)  # Excel serials of 2025-05-21 and 2025-06-20
    serials = [row[0]["basicValue"] for row in column]
    assert serials == [(day - dt.date(1899, 12, 30)).days for day in days]
    assert column[0][0]["numberFormat"] == "M/d/yyyy"


def test_a_holidays_range_replaces_the_rules(excel):
    # Jan 9, 2025 (a national day of mourning) was an unscheduled closure, not a rule:
    # a desk supplies it, together with the holidays it keeps.
    closures = [[dt.date(2025, 1, 1).toordinal() - dt.date(1899, 12, 30).toordinal()],
                [dt.date(2025, 1, 9).toordinal() - dt.date(1899, 12, 30).toordinal()], [""]]
    column = excel("TRADING_DAYS", 45658, 45667, closures)  # 2025-01-01 .. 2025-01-10
    assert [row[0]["basicValue"] for row in column] == [45659, 45660, 45663, 45664, 45665, 45667]


def test_end_before_start_is_an_error(excel):
    with pytest.raises(Exception, match=r"last_day must not be before first_day \(2025-06-20\), got 2025-05-21"):
        excel("TRADING_DAYS", 45828, 45798)
