"""Recognition: a de facto orphan application to civil affairs, its decisions, and the allowance.

Township verification (10 working days), county confirmation (5 working days), a decision with
written reasons; once recognised, the monthly basic living allowance starts the following month.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from domain.child import Text
from domain.events.base import EventBase
from domain.rules.escalation import EscalationLevel


class RecognitionApplied(EventBase):
    """The case applied to civil affairs for de facto orphan recognition."""

    type: Literal["RecognitionApplied"] = "RecognitionApplied"
    schema_version: Literal[1] = 1
    application_id: UUID
    qualifying: tuple[str, ...] = Field(
        description="What made the child eligible, as the eligibility rule found it."
    )
    verification_due_at: AwareDatetime
    rule: str
    rule_version: str
    deadline_rule: str
    deadline_rule_version: str


class RecognitionVerified(EventBase):
    """The township verified the application and passed it to the county."""

    type: Literal["RecognitionVerified"] = "RecognitionVerified"
    schema_version: Literal[1] = 1
    application_id: UUID
    confirmation_due_at: AwareDatetime
    deadline_rule: str
    deadline_rule_version: str


class RecognitionConfirmed(EventBase):
    """The county confirmed: the child is recognised as a de facto orphan."""

    type: Literal["RecognitionConfirmed"] = "RecognitionConfirmed"
    schema_version: Literal[1] = 1
    application_id: UUID
    recognised_on: date


class RecognitionDenied(EventBase):
    """Civil affairs denied the application, with written reasons."""

    type: Literal["RecognitionDenied"] = "RecognitionDenied"
    schema_version: Literal[1] = 1
    application_id: UUID
    stage: EscalationLevel
    reasons: tuple[Text, ...] = Field(min_length=1, max_length=20)


class AllowanceStarted(EventBase):
    """The monthly basic living allowance starts, at the amount the county set."""

    type: Literal["AllowanceStarted"] = "AllowanceStarted"
    schema_version: Literal[1] = 1
    application_id: UUID
    monthly_amount_yuan: int = Field(gt=0, le=100_000)
    first_month: date = Field(description="The first day of the first month paid.")
    rule: str
    rule_version: str
