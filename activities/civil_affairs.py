"""Activities that call civil affairs: eligibility look-ups, recognition, allowance,
guardianship registration and institution places.

Each takes one input model. Calls that change something derive their idempotency key from the
case's own ids (`recognition-<case_id>-<application_id>`, `guardian-<case_id>-<change_id>`,
`place-<case_id>-<transfer_id>-<attempt>`, ...), never from a Temporal run, so a retried
activity, a replayed workflow or a continued-as-new case asks for the same thing again and civil
affairs does it once. Civil affairs answers a key it has seen with its first answer, refusals
included: asking again after a refusal takes the next `attempt`. Schedule them with
`activities.errors.OUTSIDE_CALL_RETRY_POLICY`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from activities.errors import outside_call
from domain.areas import VillageCode
from domain.child import ChildIdentity, Guardian, ParentSituation, Text
from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.models import (
    Admission,
    AdmissionConfirmation,
    AllowanceStart,
    GuardianshipRegistration,
    GuardianshipRegistrationRequest,
    HouseholdLookup,
    HouseholdRegistration,
    InstitutionPlaces,
    ParentsStatus,
    ParentsStatusLookup,
    PaymentSchedule,
    PlaceReservation,
    PlaceReservationRequest,
    RecognitionApplication,
    RecognitionDecision,
    RecognitionReceipt,
    RecognitionStatus,
)
from integrations.errors import TransientFailure
from integrations.wire import CountyCode, IdNumber, Reference


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True)


class LookUpHouseholdRegistration(_Input):
    case_id: UUID
    village: VillageCode
    id_number: IdNumber | None = Field(
        default=None, description="The child's, when known; else civil affairs is asked by case."
    )


class CheckParentsStatus(_Input):
    case_id: UUID
    id_number: IdNumber | None = None


class ApplyForRecognition(_Input):
    case_id: UUID
    application_id: UUID = Field(
        description="The case's own id of this application (its RecognitionApplied event); a new "
        "application after a denial has a new one."
    )
    village: VillageCode
    child: ChildIdentity
    parents: list[ParentSituation] = Field(max_length=2)
    qualifying: list[Text] = Field(default_factory=list, max_length=20)

    @property
    def idempotency_key(self) -> str:
        return f"recognition-{self.case_id}-{self.application_id}"


class AwaitRecognitionDecision(_Input):
    """Poll an application until its status is no longer `known_status` (or it is decided), or
    until `wait_seconds` have passed; then answer the latest decision, whatever it is.

    A workflow waits for weeks by calling this again after a durable timer, not by asking for a
    long `wait_seconds`. Schedule it with a start-to-close timeout above `wait_seconds` plus the
    client's read timeout, and `RECOGNITION_POLL_HEARTBEAT_TIMEOUT` as its heartbeat timeout.
    """

    case_id: UUID
    application_id: UUID
    known_status: RecognitionStatus = RecognitionStatus.pending
    poll_interval_seconds: float = Field(default=10, gt=0, le=600)
    wait_seconds: float = Field(default=300, ge=0, le=3600)


class StartAllowance(_Input):
    case_id: UUID
    application_id: UUID = Field(description="Civil affairs' id of the confirmed application.")
    monthly_amount_yuan: int = Field(gt=0, le=100_000)
    first_month: date

    @property
    def idempotency_key(self) -> str:
        return f"allowance-{self.case_id}-{self.application_id}"


class RegisterGuardian(_Input):
    case_id: UUID
    change_id: UUID = Field(description="The guardian change, as its events name it.")
    approval_id: UUID = Field(description="The supervisor's approval of the change.")
    village: VillageCode
    child: ChildIdentity
    guardian: Guardian

    @property
    def idempotency_key(self) -> str:
        return f"guardian-{self.case_id}-{self.change_id}"


class CheckInstitutionPlaces(_Input):
    county: CountyCode


class ReserveInstitutionPlace(_Input):
    case_id: UUID
    transfer_id: UUID
    county: CountyCode
    child: ChildIdentity
    institution_id: Reference | None = None

    attempt: int = Field(
        default=1,
        ge=1,
        le=100,
        description="1 for the transfer's first request; asking again after a refusal counts up.",
    )

    @property
    def idempotency_key(self) -> str:
        return f"place-{self.case_id}-{self.transfer_id}-{self.attempt}"


class ConfirmAdmission(_Input):
    case_id: UUID
    transfer_id: UUID
    reservation_id: Reference
    admitted_on: date

    @property
    def idempotency_key(self) -> str:
        return f"admission-{self.case_id}-{self.transfer_id}"


class CivilAffairsActivities:
    def __init__(self, client: CivilAffairsClient) -> None:
        self._client = client

    @activity.defn(name="look_up_household_registration")
    async def look_up_household_registration(
        self, request: LookUpHouseholdRegistration
    ) -> HouseholdRegistration:
        with outside_call():
            return await self._client.look_up_household(
                HouseholdLookup(
                    village=request.village,
                    id_number=request.id_number,
                    case_reference=str(request.case_id),
                )
            )

    @activity.defn(name="check_parents_status")
    async def check_parents_status(self, request: CheckParentsStatus) -> ParentsStatus:
        with outside_call():
            return await self._client.parents_status(
                ParentsStatusLookup(
                    case_reference=str(request.case_id), id_number=request.id_number
                )
            )

    @activity.defn(name="apply_for_recognition")
    async def apply_for_recognition(self, request: ApplyForRecognition) -> RecognitionReceipt:
        with outside_call():
            return await self._client.apply_for_recognition(
                RecognitionApplication(
                    case_reference=str(request.case_id),
                    village=request.village,
                    child=request.child,
                    parents=request.parents,
                    qualifying=request.qualifying,
                ),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn(name="await_recognition_decision")
    async def await_recognition_decision(
        self, request: AwaitRecognitionDecision
    ) -> RecognitionDecision:
        # A long poll: it heartbeats around every call so that a lost worker is noticed within
        # the heartbeat timeout, and a cancelled case stops it at the next heartbeat. A poll that
        # fails transiently is not fatal; only when no poll got an answer is the activity retried.
        deadline = time.monotonic() + request.wait_seconds
        polls = int(request.wait_seconds / request.poll_interval_seconds) + 1
        latest: RecognitionDecision | None = None
        failure: TransientFailure | None = None
        with outside_call():
            for _ in range(polls):
                activity.heartbeat(latest.status.value if latest else "asking")
                try:
                    latest = await self._client.recognition_decision(request.application_id)
                except TransientFailure as transient:
                    failure = transient
                else:
                    if latest.decided or latest.status is not request.known_status:
                        return latest
                activity.heartbeat(latest.status.value if latest else "unanswered")
                if time.monotonic() + request.poll_interval_seconds > deadline:
                    break
                await asyncio.sleep(request.poll_interval_seconds)
            if latest is not None:
                return latest
            assert failure is not None  # no answer at all means every poll failed
            raise failure

    @activity.defn(name="start_allowance")
    async def start_allowance(self, request: StartAllowance) -> PaymentSchedule:
        with outside_call():
            return await self._client.start_allowance(
                AllowanceStart(
                    case_reference=str(request.case_id),
                    application_id=request.application_id,
                    monthly_amount_yuan=request.monthly_amount_yuan,
                    first_month=request.first_month,
                ),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn(name="register_guardian")
    async def register_guardian(self, request: RegisterGuardian) -> GuardianshipRegistration:
        with outside_call():
            return await self._client.register_guardian(
                GuardianshipRegistrationRequest(
                    case_reference=str(request.case_id),
                    village=request.village,
                    child=request.child,
                    guardian=request.guardian,
                    approval_reference=str(request.approval_id),
                ),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn(name="check_institution_places")
    async def check_institution_places(self, request: CheckInstitutionPlaces) -> InstitutionPlaces:
        with outside_call():
            return await self._client.institution_places(request.county)

    @activity.defn(name="reserve_institution_place")
    async def reserve_institution_place(self, request: ReserveInstitutionPlace) -> PlaceReservation:
        with outside_call():
            return await self._client.reserve_institution_place(
                PlaceReservationRequest(
                    case_reference=str(request.case_id),
                    county=request.county,
                    child=request.child,
                    institution_id=request.institution_id,
                ),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn(name="confirm_admission")
    async def confirm_admission(self, request: ConfirmAdmission) -> Admission:
        with outside_call():
            return await self._client.confirm_admission(
                request.reservation_id,
                AdmissionConfirmation(admitted_on=request.admitted_on),
                idempotency_key=request.idempotency_key,
            )


def civil_affairs_activities(client: CivilAffairsClient) -> list[Callable[..., Any]]:
    """What a worker registers for civil affairs."""
    bound = CivilAffairsActivities(client)
    return [
        bound.look_up_household_registration,
        bound.check_parents_status,
        bound.apply_for_recognition,
        bound.await_recognition_decision,
        bound.start_allowance,
        bound.register_guardian,
        bound.check_institution_places,
        bound.reserve_institution_place,
        bound.confirm_admission,
    ]
