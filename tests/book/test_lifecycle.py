"""A deal's stage in its life from the closes history, and the history's own rules: the supplement
warrant's window (2025-05-21 to 2025-06-20, expiration 2025-10-10, settlement 2025-10-17) and
note (final date 2024-12-02, payment 2024-12-05) walked through every stage."""
import datetime as dt

import pytest

from xlfuncs.batch.deals import DealListError
from xlfuncs.book.positions import read_history
from xlfuncs.core.calendar import trading_days
from xlfuncs.core.fields import TermError
from xlfuncs.core.history import History
from xlfuncs.products import BY_KEY

WARRANT = BY_KEY["warrant"].contract.of(dict(
    initial=5907.55, upper_strike=0.95, lower_strike=0.75, notional=1000.0, premium=0.02728,
    window_start=dt.date(2025, 5, 21), window_end=dt.date(2025, 6, 20), expiration=dt.date(2025, 10, 10),
    settlement=dt.date(2025, 10, 17)))
NOTE = BY_KEY["note"].contract.of(dict(
    initial=4550.58, participation=3.0, buffer=0.1, max_return=0.23, min_payment=0.1, principal=1000.0,
    final_date=dt.date(2024, 12, 2), payment_date=dt.date(2024, 12, 5), funding_spread=0.01))
DISRUPTED = dt.date(2025, 5, 28)


def history(first: dt.date, last: dt.date, level=6000.0, step=1.0, blank=(), drop=()) -> History:
    days = [day for day in trading_days(first, last) if day not in drop]
    return History.of({day: None if day in blank else level + step * i for i, day in enumerate(days)})


WINDOW_HISTORY = history(dt.date(2025, 5, 1), dt.date(2025, 10, 20), blank=(DISRUPTED,))


def stage(contract, as_of, past=WINDOW_HISTORY, since=None):
    return BY_KEY["warrant" if contract is WARRANT else "note"].life.stage(contract, as_of, past,
                                                                           since or as_of - dt.timedelta(days=1))


def test_a_warrant_before_its_window_has_no_close_yet():
    result = stage(WARRANT, dt.date(2025, 5, 20))
    assert (result.status, result.closes, result.payment) == ("before window", (), None)


def test_in_its_window_the_closes_so_far_come_from_the_history_a_blank_one_a_disrupted_day():
    result = stage(WARRANT, dt.date(2025, 5, 29))
    days = trading_days(dt.date(2025, 5, 21), dt.date(2025, 5, 29))
    assert result.status == "in window"
    assert result.closes == tuple(WINDOW_HISTORY.closes[day] for day in days)
    assert result.closes[days.index(DISRUPTED)] is None and len(result.closes) == 6


def test_after_its_window_every_close_is_known():
    result = stage(WARRANT, dt.date(2025, 6, 23))
    assert result.status == "window closed" and len(result.closes) == len(WARRANT.window_days) == 21  # Juneteenth


def test_from_expiration_the_payment_is_fixed_by_the_history_s_closes():
    """The supplement's payment rule on the history's numbers: lookback = the highest window
    close (the last, as the test history rises), final = the close of expiration."""
    result = stage(WARRANT, dt.date(2025, 10, 13))
    lookback = WINDOW_HISTORY.closes[dt.date(2025, 6, 20)]
    final = WINDOW_HISTORY.closes[dt.date(2025, 10, 10)]
    assert result.status == "final fixed"
    assert result.payment == pytest.approx(float(WARRANT.payment(lookback, final)), rel=1e-15)
    low = history(dt.date(2025, 5, 1), dt.date(2025, 10, 20), level=6500.0, step=-6.0)
    fallen = stage(WARRANT, dt.date(2025, 10, 13), low)
    lookback, final = max(low.closes[day] for day in WARRANT.window_days), low.closes[dt.date(2025, 10, 10)]
    # 1000 x ((0.95 L - F) / L - (0.75 x 5907.55 - F) / 5907.55 floored): a put spread in the money
    expected = 1000 * (max(0.95 * lookback - final, 0) / lookback - max(0.75 * 5907.55 - final, 0) / 5907.55)
    assert fallen.payment == pytest.approx(expected, rel=1e-13) and fallen.payment > 0


def test_settled_on_settlement_its_cash_is_this_day_s_once():
    today = stage(WARRANT, dt.date(2025, 10, 17), since=dt.date(2025, 10, 16))
    later = stage(WARRANT, dt.date(2025, 10, 20), since=dt.date(2025, 10, 17))
    assert today.status == later.status == "settled"
    assert today.payment is not None and later.payment is None


def test_a_disrupted_expiration_is_refused_never_guessed():
    past = history(dt.date(2025, 5, 1), dt.date(2025, 10, 20), blank=(dt.date(2025, 10, 10),))
    with pytest.raises(TermError, match="expiration date 2025-10-10 disrupted"):
        stage(WARRANT, dt.date(2025, 10, 13), past)


def test_a_window_before_the_history_names_the_days_it_lacks():
    past = history(dt.date(2025, 5, 23), dt.date(2025, 6, 30))
    with pytest.raises(TermError, match="no close for 2025-05-21, 2025-05-22, the lookback window's"):
        stage(WARRANT, dt.date(2025, 5, 28), past)


def test_a_note_is_live_before_its_final_date_fixed_after_and_settled_on_payment():
    past = history(dt.date(2024, 11, 1), dt.date(2024, 12, 10), level=4000.0)
    assert stage(NOTE, dt.date(2024, 11, 29), past).status == "before final date"
    fixed = stage(NOTE, dt.date(2024, 12, 2), past)
    final = past.closes[dt.date(2024, 12, 2)]
    assert final < 4550.58 * 0.9  # a fall beyond the buffer: the capped upside of the bearish note
    assert fixed.status == "final fixed" and fixed.payment == pytest.approx(1230.0, rel=1e-15)
    assert stage(NOTE, dt.date(2024, 12, 5), past).payment == fixed.payment
    assert stage(NOTE, dt.date(2024, 12, 6), past, since=dt.date(2024, 12, 5)).payment is None


def test_the_history_refuses_a_gap_naming_the_days():
    with pytest.raises(TermError, match="skips 2 scheduled trading day.*2025-05-27, 2025-05-28"):
        history(dt.date(2025, 5, 20), dt.date(2025, 6, 5), drop=(dt.date(2025, 5, 27), dt.date(2025, 5, 28)))


def test_the_history_refuses_a_close_on_a_holiday_or_weekend():
    closes = {day: 6000.0 for day in trading_days(dt.date(2025, 5, 20), dt.date(2025, 5, 30))}
    closes[dt.date(2025, 5, 26)] = 6000.0  # Memorial Day
    with pytest.raises(TermError, match="2025-05-26, which are no scheduled trading days"):
        History.of(closes)


def test_the_history_must_reach_the_snapshot_s_date():
    past = history(dt.date(2025, 5, 1), dt.date(2025, 6, 10))
    past.reaching(dt.date(2025, 6, 10))
    with pytest.raises(TermError, match="ends on 2025-06-10, before 2025-06-12: add the close of 2025-06-11, "
                                        "2025-06-12"):
        past.reaching(dt.date(2025, 6, 12))


@pytest.mark.parametrize("text, message", [
    ("date,close\n2025-06-02,6000\n2025-06-02,6001\n", "row 3: 2025-06-02 is given twice"),
    ("date,close\n2025-06-02,6000\n2025-06-03,6,001.5\n", "row 3"),
    ("date,close\n2025-06-02,6000\n2025-06-04,6001\n", "skips 1 scheduled trading day.*2025-06-03"),
    ("date,close\n2025-06-02,-6000\n", "row 2: close must be"),
    ("date,close\n02/06/2025,6000\n", "row 2: date must be an ISO date"),
    ("when,close\n2025-06-02,6000\n", "unknown column 'when'"),
])
def test_a_bad_history_file_stops_the_run_naming_its_row(tmp_path, text, message):
    path = tmp_path / "closes.csv"
    path.write_text(text)
    with pytest.raises(DealListError, match=message):
        read_history(path, [])


def test_a_history_saved_by_excel_in_a_semicolon_locale_reads_the_same(tmp_path):
    path = tmp_path / "closes.csv"
    path.write_bytes("sep=;\r\ndate;close\r\n2025-06-02;6000,25\r\n2025-06-03;\r\n2025-06-04;6010,5\r\n".encode("cp1252"))
    past = read_history(path, [])
    assert past.closes == {dt.date(2025, 6, 2): 6000.25, dt.date(2025, 6, 3): None, dt.date(2025, 6, 4): 6010.5}
