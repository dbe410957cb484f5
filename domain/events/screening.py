"""Screening: the rules set how fast to respond, and a missed assessment deadline is recorded."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from domain.events.base import EventBase
from domain.rules.priority import Priority


class PriorityAssigned(EventBase):
    """Screening set the response priority and the deadline for the assessment."""

    type: Literal["PriorityAssigned"] = "PriorityAssigned"
    schema_version: Literal[1] = 1
    priority: Priority
    assessment_due_at: AwareDatetime
    rule: str
    rule_version: str


class AssessmentOverdue(EventBase):
    """The assessment deadline passed with no assessment recorded."""

    type: Literal["AssessmentOverdue"] = "AssessmentOverdue"
    schema_version: Literal[1] = 1
    due_at: AwareDatetime
