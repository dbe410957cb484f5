"""The school system contract (`/v1`): what caseflow sends and what the school system answers.

| call                                   | path                                           |
|----------------------------------------|------------------------------------------------|
| a child's enrolment and attendance     | POST /v1/enrolments/lookup                     |
| drop-out alerts of a county            | GET  /v1/drop-out-alerts?county=...&since=...  |
| apply for a tuition waiver             | POST /v1/tuition-waivers                       |
| request a boarding place               | POST /v1/boarding-places                       |

Look-ups are POSTs so that identity numbers travel in the body, never in a URL. Every call that
changes something carries an `Idempotency-Key` header. Refusals are problem bodies with a code:
`unknown_pupil`, `unknown_county`, `not_eligible`, `no_place`.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from domain.areas import VillageCode
from domain.child import ChildIdentity, Text
from domain.events.eligibility import SchoolEnrolmentFacts, SchoolStatus
from integrations.wire import (
    Answer,
    CaseReference,
    CountyCode,
    IdNumber,
    Reference,
    RequestBody,
    SchoolYear,
    Term,
)


class EnrolmentLookup(RequestBody):
    """By the child's identity number when known, else by the case reference."""

    village: VillageCode
    id_number: IdNumber | None = None
    case_reference: CaseReference | None = None

    @model_validator(mode="after")
    def _someone(self) -> EnrolmentLookup:
        if self.id_number is None and self.case_reference is None:
            raise ValueError("look a pupil up by id_number or case_reference")
        return self

    def personal_values(self) -> tuple[str, ...]:
        return (self.id_number,) if self.id_number else ()


class SchoolEnrolment(Answer):
    status: SchoolStatus
    term: Term
    school: str | None = None
    grade: int | None = Field(default=None, ge=1, le=12)
    attendance_rate: float | None = Field(
        default=None, ge=0, le=1, description="Share of school days attended this term."
    )
    dropped_out_on: date | None = None

    def to_facts(self) -> SchoolEnrolmentFacts:
        return SchoolEnrolmentFacts(status=self.status, school=self.school)


class DropOutAlert(Answer):
    """A pupil who stopped coming to school: an intake referral for caseflow when the child has
    no case yet."""

    alert_id: Reference
    pupil: ChildIdentity
    village: VillageCode
    school: str
    grade: int | None = Field(default=None, ge=1, le=12)
    dropped_out_on: date


class DropOutAlerts(Answer):
    county: CountyCode
    since: date
    alerts: list[DropOutAlert]


class TuitionWaiverApplication(RequestBody):
    case_reference: CaseReference
    village: VillageCode
    child: ChildIdentity
    school_year: SchoolYear
    reason: Text = Field(description="Why the family cannot pay, without names.")

    def personal_values(self) -> tuple[str, ...]:
        return (self.child.name, *([self.child.id_number] if self.child.id_number else []))


class TuitionWaiver(Answer):
    waiver_id: Reference
    case_reference: CaseReference
    school_year: SchoolYear
    amount_yuan: int = Field(ge=0)


class BoardingPlaceRequest(RequestBody):
    case_reference: CaseReference
    county: CountyCode
    child: ChildIdentity
    from_term: Term | None = Field(default=None, description="None means the current term.")

    def personal_values(self) -> tuple[str, ...]:
        return (self.child.name, *([self.child.id_number] if self.child.id_number else []))


class BoardingPlace(Answer):
    place_id: Reference
    case_reference: CaseReference
    school_id: Reference
    school: str
    from_term: Term
