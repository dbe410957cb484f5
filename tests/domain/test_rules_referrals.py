"""Referral answer and reminder deadlines, recognition deadlines, and the allowance start."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.rules.calendar import DEFAULT_CALENDAR, WorkingCalendar, deadline_at
from domain.rules.referrals import (
    COUNTY_CONFIRMATION_WORKING_DAYS,
    DEFAULT_MONTHLY_ALLOWANCE_YUAN,
    REFERRAL_ANSWER_WORKING_DAYS,
    TOWNSHIP_VERIFICATION_WORKING_DAYS,
    allowance_start,
    referral_answer_due,
    referral_reminder_due,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def test_the_settings() -> None:
    assert REFERRAL_ANSWER_WORKING_DAYS == 5
    assert TOWNSHIP_VERIFICATION_WORKING_DAYS == 10
    assert COUNTY_CONFIRMATION_WORKING_DAYS == 5
    assert DEFAULT_MONTHLY_ALLOWANCE_YUAN == 950


def test_a_referral_made_on_monday_is_answered_by_the_end_of_next_monday() -> None:
    requested = datetime(2026, 5, 11, 10, 0, tzinfo=SHANGHAI)
    assert referral_answer_due(requested, WorkingCalendar()) == end_of(date(2026, 5, 18))
    assert referral_reminder_due(requested, WorkingCalendar()) == end_of(date(2026, 5, 14))


def test_a_referral_before_national_day_waits_out_the_holiday() -> None:
    requested = datetime(2026, 9, 29, 15, 0, tzinfo=SHANGHAI)  # Tuesday
    # Working days after it: 30 Sep, 8 Oct, 9 Oct, Saturday 10 Oct (bridging), 12 Oct.
    assert referral_reminder_due(requested, DEFAULT_CALENDAR) == end_of(date(2026, 10, 9))
    assert referral_answer_due(requested, DEFAULT_CALENDAR) == end_of(date(2026, 10, 12))


def test_the_reminder_comes_before_the_answer_is_due() -> None:
    requested = datetime(2026, 2, 12, 9, 0, tzinfo=SHANGHAI)
    assert referral_reminder_due(requested, DEFAULT_CALENDAR) < referral_answer_due(
        requested, DEFAULT_CALENDAR
    )


def test_recognition_deadlines_in_working_days() -> None:
    applied = datetime(2026, 2, 9, 11, 0, tzinfo=SHANGHAI)  # Monday before Spring Festival
    verified_by = deadline_at(applied, TOWNSHIP_VERIFICATION_WORKING_DAYS, DEFAULT_CALENDAR)
    # 10-13 Feb, Sat 14 Feb, 24-27 Feb, Sat 28 Feb: the tenth working day.
    assert verified_by == end_of(date(2026, 2, 28))
    confirmed_by = deadline_at(verified_by, COUNTY_CONFIRMATION_WORKING_DAYS, DEFAULT_CALENDAR)
    assert confirmed_by == end_of(date(2026, 3, 6))


@pytest.mark.parametrize(
    ("recognised_on", "starts"),
    [
        (date(2026, 5, 1), date(2026, 6, 1)),
        (date(2026, 5, 31), date(2026, 6, 1)),
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 12, 15), date(2027, 1, 1)),
    ],
)
def test_the_allowance_starts_the_following_month(recognised_on: date, starts: date) -> None:
    assert allowance_start(recognised_on) == starts
