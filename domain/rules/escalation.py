"""Escalation: who decides an approval, and how long they have before it moves up.

A request goes first to the supervisors of the case's township. With no decision in 48 hours
(4 hours for an emergency) it escalates to the county, and then, with the same time again, to the
prefecture, which is the last level: an approval left undecided there stays with the prefecture.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from domain.areas import AreaLevel, ancestor

RULE = "approval.escalation"
RULE_VERSION = "2019.1"


class EscalationLevel(StrEnum):
    township = "township"
    county = "county"
    prefecture = "prefecture"


_CHAIN = (EscalationLevel.township, EscalationLevel.county, EscalationLevel.prefecture)

APPROVAL_SLA = timedelta(hours=48)
EMERGENCY_APPROVAL_SLA = timedelta(hours=4)


def approval_sla(*, emergency: bool) -> timedelta:
    """How long the supervisors at one level have to decide before the approval escalates."""
    return EMERGENCY_APPROVAL_SLA if emergency else APPROVAL_SLA


def next_level(level: EscalationLevel) -> EscalationLevel | None:
    """The level an undecided approval escalates to; `None` at the prefecture, the last level."""
    index = _CHAIN.index(level)
    return _CHAIN[index + 1] if index + 1 < len(_CHAIN) else None


def level_area(case_village: str, level: EscalationLevel) -> str:
    """The area whose supervisors decide at `level`: the case's township, county or prefecture."""
    return ancestor(case_village, AreaLevel(level.value))
