"""Eligibility checks: questions put to civil affairs and the school system, and their answers.

An answer carries the facts the outside system holds (household registration, the parents'
status, school enrolment), or says why there are none.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.areas import VillageCode
from domain.child import ParentSituation, Text
from domain.events.base import EventBase


class EligibilityCheckKind(StrEnum):
    household_registration = "household_registration"
    parents_status = "parents_status"
    school_enrolment = "school_enrolment"


class SchoolStatus(StrEnum):
    enrolled = "enrolled"
    not_enrolled = "not_enrolled"
    dropped_out = "dropped_out"
    returned = "returned"


class CheckFailure(StrEnum):
    """Why an outside system gave no facts."""

    not_found = "not_found"
    refused = "refused"
    unavailable = "unavailable"


class HouseholdRegistrationFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["household_registration"] = "household_registration"
    registration_area: VillageCode
    members: int = Field(ge=1, le=50)


class ParentsStatusFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["parents_status"] = "parents_status"
    parents: tuple[ParentSituation, ...] = Field(max_length=2)


class SchoolEnrolmentFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["school_enrolment"] = "school_enrolment"
    status: SchoolStatus
    school: Text | None = None


EligibilityFacts = Annotated[
    HouseholdRegistrationFacts | ParentsStatusFacts | SchoolEnrolmentFacts,
    Field(discriminator="kind"),
]


class EligibilityCheckRequested(EventBase):
    """The case asked an outside system for facts that decide eligibility."""

    type: Literal["EligibilityCheckRequested"] = "EligibilityCheckRequested"
    schema_version: Literal[1] = 1
    check_id: UUID
    check: EligibilityCheckKind


class EligibilityCheckAnswered(EventBase):
    """The outside system answered: with its facts, or with why it has none."""

    type: Literal["EligibilityCheckAnswered"] = "EligibilityCheckAnswered"
    schema_version: Literal[1] = 1
    check_id: UUID
    check: EligibilityCheckKind
    facts: EligibilityFacts | None = None
    failure: CheckFailure | None = None

    @model_validator(mode="after")
    def _facts_or_failure(self) -> EligibilityCheckAnswered:
        if (self.facts is None) == (self.failure is None):
            raise ValueError("an answer carries either facts or a failure, not both or neither")
        if self.facts is not None and self.facts.kind != self.check:
            raise ValueError(
                f"a {self.check} check cannot be answered with {self.facts.kind} facts"
            )
        return self
