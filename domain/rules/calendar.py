"""Working days and calendar months: how the program counts its deadlines.

Deadlines set in working days (a referral's answer, township verification, county confirmation)
skip weekends and public holidays, and count the weekend days China declares working days when a
holiday week is bridged (调休). The day a deadline starts from is never counted: a referral made
on Monday with 5 working days to answer is due by the end of the following Monday.

Periods set in months (a parent missing for 6 months, a sentence of 6 months) are calendar
months: the same day of the month, or the month's last day when it has no such day.
"""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

RULE = "calendar.working_days"
RULE_VERSION = "2026.1"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Which days are working days: Monday to Friday, less `holidays`, plus `extra_working_days`.

    `extra_working_days` are the weekend days declared working days to bridge a holiday week.
    """

    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.extra_working_days
        if both:
            days = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"a day cannot be both a holiday and a working day: {days}")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < _SATURDAY

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself is not counted).

        With `days=0` the answer is `start` itself: nothing to wait for.
        """
        if days < 0:
            raise ValueError(f"cannot count {days} working days; give 0 or more")
        day = start
        remaining = days
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after `start` up to and including `end` (0 if none)."""
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count


def deadline_at(start: datetime, working_days: int, calendar: WorkingCalendar) -> datetime:
    """The end of the `working_days`-th working day after `start`'s date.

    The end of a day is its last instant (23:59:59.999999) on the wall clock of `start`'s time
    zone, so whatever time of day a request is made, it has whole working days to be answered.
    """
    day = calendar.add_working_days(start.date(), working_days)
    return datetime.combine(day, time.max, tzinfo=start.tzinfo)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` calendar months later (earlier when negative).

    When that month is shorter, the month's last day: 31 August + 6 months is 28 February
    (29 in a leap year).
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _days(first: date, last: date) -> frozenset[date]:
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


# Configuration data, not a statement of the law: an example of the 2026 public holidays and
# bridging working weekends as the State Council's schedule was understood when this was written.
# Check each year against the published schedule and let deployments supply their own calendar.
DEFAULT_CALENDAR = WorkingCalendar(
    holidays=(
        _days(date(2026, 1, 1), date(2026, 1, 3))  # New Year
        | _days(date(2026, 2, 15), date(2026, 2, 23))  # Spring Festival
        | _days(date(2026, 4, 4), date(2026, 4, 6))  # Qingming
        | _days(date(2026, 5, 1), date(2026, 5, 5))  # Labour Day
        | _days(date(2026, 6, 19), date(2026, 6, 21))  # Dragon Boat Festival
        | _days(date(2026, 9, 25), date(2026, 9, 27))  # Mid-Autumn Festival
        | _days(date(2026, 10, 1), date(2026, 10, 7))  # National Day
    ),
    extra_working_days=frozenset(
        {
            date(2026, 1, 4),  # Sunday, after New Year
            date(2026, 2, 14),  # Saturday, before Spring Festival
            date(2026, 2, 28),  # Saturday, after Spring Festival
            date(2026, 5, 9),  # Saturday, after Labour Day
            date(2026, 9, 20),  # Sunday, before National Day
            date(2026, 10, 10),  # Saturday, after National Day
        }
    ),
)
