"""Closure: proposed for a reason, closed (on approval, or at once on the 18th birthday), and
possibly reopened by a new intake referral."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.areas import AreaCode
from domain.child import Concern, IntakeSource, LongText
from domain.events.base import EventBase


class ClosureReason(StrEnum):
    turned_18 = "turned_18"
    parent_returned = "parent_returned"
    situation_resolved = "situation_resolved"
    moved_out_of_area = "moved_out_of_area"
    death = "death"


class ClosureProposed(EventBase):
    type: Literal["ClosureProposed"] = "ClosureProposed"
    schema_version: Literal[1] = 1
    closure_id: UUID
    closure_reason: ClosureReason
    handover_to: AreaCode | None = Field(
        default=None, description="For a child who moved out of area: who takes the case over."
    )
    note: LongText = ""


class CaseClosed(EventBase):
    """The case closed. `closure_id` names the approved proposal; an age-out has none."""

    type: Literal["CaseClosed"] = "CaseClosed"
    schema_version: Literal[1] = 1
    closure_reason: ClosureReason
    closure_id: UUID | None = None
    rule: str | None = None
    rule_version: str | None = None


class CaseReopened(EventBase):
    """A new intake referral reopened the closed case; screening follows."""

    type: Literal["CaseReopened"] = "CaseReopened"
    schema_version: Literal[1] = 1
    source: IntakeSource
    concerns: frozenset[Concern] = Field(default_factory=frozenset)
    observations: LongText = ""
