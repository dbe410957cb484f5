"""Screening: the response priority of a reported child and the deadline for the assessment.

- `immediate` (assess within 24 hours): mandatory reporting — a child living alone, missing,
  neglected, or suspected of suffering violence.
- `urgent` (72 hours): a likely orphan or de facto orphan, or a child with no guardian able to care.
- `routine` (10 days): everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.child import Category, ChildReport

RULE = "screening.priority"
RULE_VERSION = "2019.1"


class Priority(StrEnum):
    immediate = "immediate"
    urgent = "urgent"
    routine = "routine"


ASSESSMENT_WINDOW = {
    Priority.immediate: timedelta(hours=24),
    Priority.urgent: timedelta(hours=72),
    Priority.routine: timedelta(days=10),
}


@dataclass(frozen=True, slots=True)
class Screening:
    priority: Priority
    assessment_due_at: datetime
    rule: str = RULE
    rule_version: str = RULE_VERSION


def screen(report: ChildReport, *, reported_at: datetime) -> Screening:
    priority = response_priority(report)
    return Screening(priority=priority, assessment_due_at=reported_at + ASSESSMENT_WINDOW[priority])


def response_priority(report: ChildReport) -> Priority:
    if report.concerns:
        return Priority.immediate
    likely_orphan = report.categories & {Category.orphan, Category.de_facto_orphan}
    no_able_guardian = not any(guardian.able_to_care for guardian in report.guardians)
    if likely_orphan or no_able_guardian:
        return Priority.urgent
    return Priority.routine
