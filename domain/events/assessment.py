"""Assessment: needs scored in six domains, and the risk level the rules draw from them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.child import Category, LongText
from domain.events.base import EventBase
from domain.rules.risk import NeedScores, RiskLevel


class AssessmentRecorded(EventBase):
    """A caseworker assessed the child's needs (first assessment or a reassessment)."""

    type: Literal["AssessmentRecorded"] = "AssessmentRecorded"
    schema_version: Literal[1] = 1
    scores: NeedScores
    risk_level: RiskLevel
    categories: frozenset[Category] = Field(
        description="The categories the assessment found the child in."
    )
    summary: LongText = ""
    rule: str
    rule_version: str
