"""The civil affairs contract (`/v1`): what caseflow sends and what civil affairs answers.

| call                                        | path                                          |
|---------------------------------------------|-----------------------------------------------|
| look up a household registration            | POST /v1/household-registrations/lookup       |
| look up the parents' status                 | POST /v1/parents-status/lookup                |
| apply for de facto orphan recognition       | POST /v1/recognition-applications             |
| the application's decision                  | GET  /v1/recognition-applications/{id}        |
| start the monthly allowance                 | POST /v1/allowance-payments                   |
| register a guardian                         | POST /v1/guardianship-registrations           |
| institution places in a county              | GET  /v1/institution-places?county=...        |
| reserve a place                             | POST /v1/institution-reservations             |
| confirm the child's admission               | POST /v1/institution-reservations/{id}/admission |

Look-ups are POSTs so that identity numbers travel in the body, never in a URL. Every call that
changes something carries an `Idempotency-Key` header. Refusals are problem bodies with a code:
`unknown_household`, `not_eligible`, `already_applied`, `already_recognised`, `unknown_application`,
`not_recognised`, `first_month_too_early`, `already_paying`, `guardian_not_eligible`,
`unknown_county`, `unknown_institution`, `no_place`, `unknown_reservation`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from domain.areas import VillageCode
from domain.child import (
    ChildIdentity,
    DisabilityKind,
    Guardian,
    ParentRelation,
    ParentSituation,
    ParentSituationKind,
    Text,
)
from domain.events.eligibility import HouseholdRegistrationFacts, ParentsStatusFacts
from integrations.wire import Answer, CaseReference, CountyCode, IdNumber, Reference, RequestBody


def _child_values(child: ChildIdentity) -> tuple[str, ...]:
    return (child.name, *([child.id_number] if child.id_number else []))


# --- household registration -------------------------------------------------------------------


class HouseholdLookup(RequestBody):
    """By the child's identity number when known, else by the case reference."""

    village: VillageCode
    id_number: IdNumber | None = None
    case_reference: CaseReference | None = None

    @model_validator(mode="after")
    def _someone(self) -> HouseholdLookup:
        if self.id_number is None and self.case_reference is None:
            raise ValueError("look a household up by id_number or case_reference")
        return self

    def personal_values(self) -> tuple[str, ...]:
        return (self.id_number,) if self.id_number else ()


class HouseholdRegistration(Answer):
    registration_area: VillageCode
    household_number: str
    members: int = Field(ge=1, le=50)
    registered_since: date | None = None

    def to_facts(self) -> HouseholdRegistrationFacts:
        return HouseholdRegistrationFacts(
            registration_area=self.registration_area, members=self.members
        )


# --- parents' status --------------------------------------------------------------------------


class ParentsStatusLookup(RequestBody):
    case_reference: CaseReference
    id_number: IdNumber | None = None

    def personal_values(self) -> tuple[str, ...]:
        return (self.id_number,) if self.id_number else ()


class ParentStatus(Answer):
    """What civil affairs' records say about one parent: imprisonment, drug rehabilitation,
    disability grade, death, missing report (`since` = the day police accepted the report)."""

    relation: ParentRelation
    situation: ParentSituationKind
    since: date | None = None
    expected_end: date | None = None
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    disability_kind: DisabilityKind | None = None

    def to_domain(self) -> ParentSituation:
        return ParentSituation(
            relation=self.relation,
            situation=self.situation,
            since=self.since,
            expected_end=self.expected_end,
            disability_grade=self.disability_grade,
            disability_kind=self.disability_kind,
        )


class ParentsStatus(Answer):
    case_reference: CaseReference
    parents: list[ParentStatus] = Field(max_length=2)

    def to_facts(self) -> ParentsStatusFacts:
        return ParentsStatusFacts(parents=tuple(parent.to_domain() for parent in self.parents))


# --- de facto orphan recognition ----------------------------------------------------------------


class RecognitionStatus(StrEnum):
    pending = "pending"
    verified = "verified"  # by the township; now with the county
    confirmed = "confirmed"  # by the county: recognised
    denied = "denied"


class DecisionStage(StrEnum):
    township = "township"
    county = "county"


class RecognitionApplication(RequestBody):
    case_reference: CaseReference
    village: VillageCode
    child: ChildIdentity
    parents: list[ParentSituation] = Field(max_length=2)
    qualifying: list[Text] = Field(
        default_factory=list, max_length=20, description="What makes the child eligible."
    )

    def personal_values(self) -> tuple[str, ...]:
        return _child_values(self.child)


class RecognitionReceipt(Answer):
    application_id: UUID
    case_reference: CaseReference
    status: RecognitionStatus
    submitted_at: datetime


class RecognitionDecision(Answer):
    application_id: UUID
    case_reference: CaseReference
    status: RecognitionStatus
    verified_on: date | None = None
    confirmed_on: date | None = None
    denied_at: DecisionStage | None = None
    reasons: list[str] = Field(default_factory=list, description="Written reasons of a denial.")

    @property
    def decided(self) -> bool:
        return self.status in (RecognitionStatus.confirmed, RecognitionStatus.denied)


# --- allowance --------------------------------------------------------------------------------


class AllowanceStart(RequestBody):
    case_reference: CaseReference
    application_id: UUID = Field(description="The confirmed recognition the allowance follows.")
    monthly_amount_yuan: int = Field(gt=0, le=100_000)
    first_month: date = Field(description="The first day of the first month paid.")

    @model_validator(mode="after")
    def _first_of_month(self) -> AllowanceStart:
        if self.first_month.day != 1:
            raise ValueError("first_month is the first day of a month")
        return self


class PaymentSchedule(Answer):
    schedule_id: Reference
    case_reference: CaseReference
    application_id: UUID
    monthly_amount_yuan: int
    first_month: date


# --- guardianship -----------------------------------------------------------------------------


class GuardianshipRegistrationRequest(RequestBody):
    case_reference: CaseReference
    village: VillageCode
    child: ChildIdentity
    guardian: Guardian
    approval_reference: Reference = Field(description="The supervisor's approval of the change.")

    def personal_values(self) -> tuple[str, ...]:
        phone = (self.guardian.phone,) if self.guardian.phone else ()
        return (*_child_values(self.child), self.guardian.name, *phone)


class GuardianshipRegistration(Answer):
    registration_id: Reference
    case_reference: CaseReference
    registered_on: date


# --- institution places -----------------------------------------------------------------------


class Institution(Answer):
    institution_id: Reference
    name: str
    county: CountyCode
    capacity: int = Field(ge=0)
    available: int = Field(ge=0)


class InstitutionPlaces(Answer):
    county: CountyCode
    institutions: list[Institution]

    @property
    def available(self) -> int:
        return sum(institution.available for institution in self.institutions)


class PlaceReservationRequest(RequestBody):
    case_reference: CaseReference
    county: CountyCode
    child: ChildIdentity
    institution_id: Reference | None = Field(
        default=None, description="A particular institution; none means any in the county."
    )

    def personal_values(self) -> tuple[str, ...]:
        return _child_values(self.child)


class PlaceReservation(Answer):
    reservation_id: Reference
    case_reference: CaseReference
    institution_id: Reference
    institution_name: str
    reserved_until: date


class AdmissionConfirmation(RequestBody):
    admitted_on: date


class Admission(Answer):
    admission_id: Reference
    reservation_id: Reference
    institution_id: Reference
    admitted_on: date
