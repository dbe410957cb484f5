"""The case plan: what the case aims for and what help it plans to give."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.child import Text
from domain.events.base import EventBase
from domain.rules.assistance import AssistanceKind


class PlannedAssistance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AssistanceKind
    quantity: int = Field(ge=1, le=10_000)
    unit: Text
    value_yuan: int = Field(ge=0, le=10_000_000)


class CasePlanRecorded(EventBase):
    """A caseworker recorded the case plan (or revised it): goals and the planned assistance."""

    type: Literal["CasePlanRecorded"] = "CasePlanRecorded"
    schema_version: Literal[1] = 1
    goals: tuple[Text, ...] = Field(min_length=1, max_length=20)
    planned_assistance: tuple[PlannedAssistance, ...] = Field(default=(), max_length=50)
    review_by: date | None = None
