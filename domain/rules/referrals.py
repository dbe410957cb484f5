"""Deadlines for what outside agencies must answer: service referrals and recognition.

A service referral is answered (accepted or declined) by the end of the 5th working day after it
was made; the case reminds the agency at the end of the 3rd working day, and escalates when the
5th has passed with no answer.

A de facto orphan recognition application is verified by the township within 10 working days and
confirmed by the county within 5 working days after that. Once recognised, the monthly basic
living allowance starts on the first day of the following month.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.rules.calendar import WorkingCalendar, add_months, deadline_at

RULE = "referral.deadlines"
RULE_VERSION = "2019.1"

REFERRAL_ANSWER_WORKING_DAYS = 5
REFERRAL_REMINDER_WORKING_DAYS = 3

TOWNSHIP_VERIFICATION_WORKING_DAYS = 10
COUNTY_CONFIRMATION_WORKING_DAYS = 5

# An example, not a standard: each county sets its own allowance amount.
DEFAULT_MONTHLY_ALLOWANCE_YUAN = 950


def referral_answer_due(requested_at: datetime, calendar: WorkingCalendar) -> datetime:
    """When the agency's answer is due; with none by then the referral escalates."""
    return deadline_at(requested_at, REFERRAL_ANSWER_WORKING_DAYS, calendar)


def referral_reminder_due(requested_at: datetime, calendar: WorkingCalendar) -> datetime:
    """When the case reminds an agency that has not answered yet."""
    return deadline_at(requested_at, REFERRAL_REMINDER_WORKING_DAYS, calendar)


def allowance_start(recognised_on: date) -> date:
    """The first day of the month after recognition: when the living allowance starts."""
    return add_months(recognised_on.replace(day=1), 1)
