"""Monitoring frequency by risk level, and the school re-check each term."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.monitoring import next_school_recheck, next_visit_due, visit_interval
from domain.rules.risk import RiskLevel

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("risk", "interval"),
    [
        (RiskLevel.very_high, timedelta(days=7)),
        (RiskLevel.high, timedelta(days=7)),
        (RiskLevel.moderate, timedelta(days=30)),
        (RiskLevel.low, timedelta(days=30)),
        (None, timedelta(days=30)),  # not yet assessed
    ],
)
def test_visit_interval(risk: RiskLevel | None, interval: timedelta) -> None:
    assert visit_interval(risk) == interval


def test_next_visit_due() -> None:
    last = datetime(2026, 5, 11, 9, 30, tzinfo=SHANGHAI)
    assert next_visit_due(last, RiskLevel.high) == datetime(2026, 5, 18, 9, 30, tzinfo=SHANGHAI)
    assert next_visit_due(last, RiskLevel.low) == datetime(2026, 6, 10, 9, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("on", "recheck"),
    [
        (date(2026, 1, 10), date(2026, 3, 1)),
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 9, 1)),  # checked on the first day: counts for the term
        (date(2026, 8, 31), date(2026, 9, 1)),
        (date(2026, 9, 1), date(2027, 3, 1)),
        (date(2026, 12, 31), date(2027, 3, 1)),
    ],
)
def test_next_school_recheck(on: date, recheck: date) -> None:
    assert next_school_recheck(on) == recheck


@given(on=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_the_recheck_is_the_next_term_start(on: date) -> None:
    recheck = next_school_recheck(on)
    assert recheck > on
    assert (recheck.month, recheck.day) in ((3, 1), (9, 1))
    assert recheck - on <= timedelta(days=184)
    # no term starts in between
    assert next_school_recheck(recheck - timedelta(days=1)) == recheck
