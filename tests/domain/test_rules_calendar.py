"""Working days across weekends, holidays and bridging working weekends; calendar months."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.calendar import (
    DEFAULT_CALENDAR,
    WorkingCalendar,
    add_months,
    deadline_at,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAIN = WorkingCalendar()

# A week in May 2026 without holidays: Monday 11 to Sunday 17.
MONDAY = date(2026, 5, 11)
FRIDAY = date(2026, 5, 15)
SATURDAY = date(2026, 5, 16)
SUNDAY = date(2026, 5, 17)


def test_weekdays_work_and_weekends_rest() -> None:
    assert [PLAIN.is_working_day(MONDAY + timedelta(days=n)) for n in range(7)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_a_holiday_is_not_a_working_day_and_a_bridging_weekend_is() -> None:
    calendar = WorkingCalendar(
        holidays=frozenset({MONDAY}), extra_working_days=frozenset({SATURDAY})
    )
    assert not calendar.is_working_day(MONDAY)
    assert calendar.is_working_day(SATURDAY)
    assert not calendar.is_working_day(SUNDAY)


def test_a_day_cannot_be_both_holiday_and_working_day() -> None:
    with pytest.raises(ValueError, match="2026-05-16"):
        WorkingCalendar(holidays=frozenset({SATURDAY}), extra_working_days=frozenset({SATURDAY}))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (MONDAY, 1, date(2026, 5, 12)),
        (MONDAY, 5, date(2026, 5, 18)),  # the start is not counted: Monday to next Monday
        (FRIDAY, 1, date(2026, 5, 18)),  # over the weekend
        (SATURDAY, 1, date(2026, 5, 18)),  # from a weekend day
        (SUNDAY, 5, date(2026, 5, 22)),
        (MONDAY, 10, date(2026, 5, 25)),
        (MONDAY, 0, MONDAY),
    ],
)
def test_add_working_days_over_weekends(start: date, days: int, expected: date) -> None:
    assert PLAIN.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday before the Spring Festival: Saturday 14 Feb is a bridging working day, then
        # 15-23 Feb are holidays.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        # Saturday 28 Feb is worked after the festival.
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        (date(2026, 2, 27), 2, date(2026, 3, 2)),
        # National Day week: 1-7 Oct off, Sunday 20 Sep and Saturday 10 Oct worked.
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        # Labour Day: 1-5 May off, Saturday 9 May worked.
        (date(2026, 4, 30), 5, date(2026, 5, 11)),
    ],
)
def test_add_working_days_over_holidays(start: date, days: int, expected: date) -> None:
    assert DEFAULT_CALENDAR.add_working_days(start, days) == expected


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        PLAIN.add_working_days(MONDAY, -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (MONDAY, MONDAY, 0),
        (FRIDAY, MONDAY, 0),  # end before start
        (FRIDAY, date(2026, 5, 18), 1),
        (MONDAY, SUNDAY, 4),
        (date(2026, 2, 13), date(2026, 2, 24), 2),
        (date(2026, 9, 30), date(2026, 10, 10), 3),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert DEFAULT_CALENDAR.working_days_between(start, end) == expected


DAYS_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    holidays = draw(st.frozensets(DAYS_2026, max_size=60))
    extra = draw(st.frozensets(DAYS_2026, max_size=20)) - holidays
    return WorkingCalendar(holidays=holidays, extra_working_days=extra)


@given(calendar=calendars(), start=DAYS_2026, days=st.integers(min_value=1, max_value=40))
def test_the_deadline_is_the_nth_working_day_after_start(
    calendar: WorkingCalendar, start: date, days: int
) -> None:
    result = calendar.add_working_days(start, days)
    assert result > start
    assert calendar.is_working_day(result)
    between = [start + timedelta(days=n) for n in range(1, (result - start).days + 1)]
    assert sum(calendar.is_working_day(day) for day in between) == days
    assert calendar.working_days_between(start, result) == days


@given(calendar=calendars(), start=DAYS_2026, end=DAYS_2026)
def test_working_days_between_counts_after_start_up_to_end(
    calendar: WorkingCalendar, start: date, end: date
) -> None:
    expected = sum(
        calendar.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1)
    )
    assert calendar.working_days_between(start, end) == expected


def test_the_default_calendar_bridges_only_weekends() -> None:
    assert all(day.weekday() >= 5 for day in DEFAULT_CALENDAR.extra_working_days)
    assert len(DEFAULT_CALENDAR.extra_working_days) == 6
    assert date(2026, 2, 17) in DEFAULT_CALENDAR.holidays  # Spring Festival
    assert date(2026, 10, 1) in DEFAULT_CALENDAR.holidays  # National Day
    assert DEFAULT_CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_deadline_at_is_the_end_of_the_working_day_in_the_same_zone() -> None:
    start = datetime(2026, 5, 11, 16, 30, tzinfo=SHANGHAI)
    due = deadline_at(start, 5, DEFAULT_CALENDAR)
    assert due == datetime.combine(date(2026, 5, 18), time.max, tzinfo=SHANGHAI)
    assert due.tzinfo is SHANGHAI


def test_deadline_at_counts_from_the_local_date() -> None:
    # 23:30 UTC on Friday is already Saturday in Shanghai: one working day later is Monday.
    start = datetime(2026, 5, 15, 23, 30, tzinfo=ZoneInfo("UTC")).astimezone(SHANGHAI)
    assert deadline_at(start, 1, PLAIN).date() == date(2026, 5, 18)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)),
    months=st.integers(min_value=-240, max_value=240),
)
def test_add_months_moves_whole_months_and_keeps_the_day_when_it_can(
    day: date, months: int
) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(days=1)).day == 1)
