"""Monitoring: follow-up visits on a schedule the risk level sets, and school status each term."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, model_validator

from domain.child import LongText, Text
from domain.events.base import EventBase
from domain.events.eligibility import SchoolStatus
from domain.rules.risk import NeedScores, RiskLevel


class VisitKind(StrEnum):
    home = "home"
    school = "school"
    phone = "phone"


class VisitScheduled(EventBase):
    """The next follow-up visit is due by `due_at`."""

    type: Literal["VisitScheduled"] = "VisitScheduled"
    schema_version: Literal[1] = 1
    due_at: AwareDatetime
    risk_level: RiskLevel | None
    rule: str
    rule_version: str


class VisitRecorded(EventBase):
    """A caseworker visited the child (or called), and what they saw.

    Schema 2 (v1 → v2 in `domain.events.upcasting`): v1 knew only home visits and called the
    rescored needs `scores`; v2 records the `visit_kind` and names them `updated_scores`.
    """

    type: Literal["VisitRecorded"] = "VisitRecorded"
    schema_version: Literal[2] = 2
    visit_id: UUID
    visited_at: AwareDatetime
    visit_kind: VisitKind
    observations: LongText
    updated_scores: NeedScores | None = None
    risk_level: RiskLevel | None = None
    rule: str | None = None
    rule_version: str | None = None

    @model_validator(mode="after")
    def _scores_come_with_their_risk(self) -> VisitRecorded:
        rescored = self.updated_scores is not None
        if rescored != (self.risk_level is not None) or rescored != (self.rule is not None):
            raise ValueError("updated scores come with the risk level and the rule that set it")
        return self


class VisitMissed(EventBase):
    """The visit due by `due_at` was not made."""

    type: Literal["VisitMissed"] = "VisitMissed"
    schema_version: Literal[1] = 1
    due_at: AwareDatetime


class SchoolStatusChecked(EventBase):
    """The child's school status as checked this term, and when to check again."""

    type: Literal["SchoolStatusChecked"] = "SchoolStatusChecked"
    schema_version: Literal[1] = 1
    status: SchoolStatus
    school: Text | None = None
    checked_on: date
    next_check_on: date
    rule: str
    rule_version: str
