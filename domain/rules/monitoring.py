"""Monitoring: how often a caseworker visits, and when school status is checked again.

Visits are weekly while the risk is high or very high, monthly (every 30 days) otherwise. A child
not yet assessed is visited monthly: until the assessment, the screening priority and its deadline
are what protect the child. A missed visit escalates.

School status is re-checked each term. Terms start on 1 March and 1 September, so the next
re-check is the next of those days after the last check; a check made on the first day of a term
counts for that term.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.rules.risk import RiskLevel

RULE = "monitoring.frequency"
RULE_VERSION = "2019.1"

WEEKLY = timedelta(days=7)
MONTHLY = timedelta(days=30)
_VISITED_WEEKLY = frozenset({RiskLevel.high, RiskLevel.very_high})

# (month, day) each school term starts on.
TERM_STARTS = ((3, 1), (9, 1))


def visit_interval(risk: RiskLevel | None) -> timedelta:
    """The longest a caseworker may go between two follow-up visits at this risk level."""
    return WEEKLY if risk in _VISITED_WEEKLY else MONTHLY


def next_visit_due(last: datetime, risk: RiskLevel | None) -> datetime:
    """When the next follow-up visit is due after the visit made at `last`."""
    return last + visit_interval(risk)


def next_school_recheck(on: date) -> date:
    """The first day of the next school term after `on`, when school status is checked again."""
    starts = (date(on.year + years, month, day) for years in (0, 1) for month, day in TERM_STARTS)
    return min(start for start in starts if start > on)
