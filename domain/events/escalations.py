"""Escalations: a deadline was breached and the supervisors of an area were told."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime

from domain.areas import AreaCode
from domain.events.base import EventBase
from domain.rules.escalation import EscalationLevel


class Breach(StrEnum):
    """Which deadline was missed."""

    assessment_overdue = "assessment_overdue"
    approval_undecided = "approval_undecided"
    referral_unanswered = "referral_unanswered"
    visit_missed = "visit_missed"


class EscalationRaised(EventBase):
    """`breach` of the deadline `deadline` (about `subject_id`, when it concerns one approval,
    referral or visit) was escalated to the supervisors of `area`."""

    type: Literal["EscalationRaised"] = "EscalationRaised"
    schema_version: Literal[1] = 1
    breach: Breach
    subject_id: UUID | None = None
    deadline: AwareDatetime
    level: EscalationLevel
    area: AreaCode
