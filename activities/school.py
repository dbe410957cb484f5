"""Activities that call the school system: enrolment, drop-out alerts, tuition waivers and
boarding places.

Each takes one input model. Calls that change something derive their idempotency key from the
case's own ids (`tuition-waiver-<case_id>-<school_year>`,
`boarding-<case_id>-<transfer_id>-<attempt>`), never from a Temporal run. The school system
answers a key it has seen with its first answer, refusals included: asking again after a refusal
takes the next `attempt`. Schedule them with `activities.errors.OUTSIDE_CALL_RETRY_POLICY`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from activities.errors import outside_call
from domain.areas import VillageCode
from domain.child import ChildIdentity, Text
from integrations.school.client import SchoolClient
from integrations.school.models import (
    BoardingPlace,
    BoardingPlaceRequest,
    DropOutAlerts,
    EnrolmentLookup,
    SchoolEnrolment,
    TuitionWaiver,
    TuitionWaiverApplication,
)
from integrations.wire import CountyCode, IdNumber, SchoolYear, Term


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True)


class CheckSchoolEnrolment(_Input):
    case_id: UUID
    village: VillageCode
    id_number: IdNumber | None = Field(
        default=None,
        description="The child's, when known; else the school system is asked by case.",
    )


class ListDropOutAlerts(_Input):
    county: CountyCode
    since: date


class ApplyForTuitionWaiver(_Input):
    case_id: UUID
    village: VillageCode
    child: ChildIdentity
    school_year: SchoolYear
    reason: Text

    @property
    def idempotency_key(self) -> str:
        return f"tuition-waiver-{self.case_id}-{self.school_year}"


class RequestBoardingPlace(_Input):
    case_id: UUID
    transfer_id: UUID
    county: CountyCode
    child: ChildIdentity
    from_term: Term | None = None

    attempt: int = Field(
        default=1,
        ge=1,
        le=100,
        description="1 for the transfer's first request; asking again after a refusal counts up.",
    )

    @property
    def idempotency_key(self) -> str:
        return f"boarding-{self.case_id}-{self.transfer_id}-{self.attempt}"


class SchoolActivities:
    def __init__(self, client: SchoolClient) -> None:
        self._client = client

    @activity.defn(name="check_school_enrolment")
    async def check_school_enrolment(self, request: CheckSchoolEnrolment) -> SchoolEnrolment:
        with outside_call():
            return await self._client.enrolment(
                EnrolmentLookup(
                    village=request.village,
                    id_number=request.id_number,
                    case_reference=str(request.case_id),
                )
            )

    @activity.defn(name="list_drop_out_alerts")
    async def list_drop_out_alerts(self, request: ListDropOutAlerts) -> DropOutAlerts:
        with outside_call():
            return await self._client.drop_out_alerts(request.county, since=request.since)

    @activity.defn(name="apply_for_tuition_waiver")
    async def apply_for_tuition_waiver(self, request: ApplyForTuitionWaiver) -> TuitionWaiver:
        with outside_call():
            return await self._client.apply_for_tuition_waiver(
                TuitionWaiverApplication(
                    case_reference=str(request.case_id),
                    village=request.village,
                    child=request.child,
                    school_year=request.school_year,
                    reason=request.reason,
                ),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn(name="request_boarding_place")
    async def request_boarding_place(self, request: RequestBoardingPlace) -> BoardingPlace:
        with outside_call():
            return await self._client.request_boarding_place(
                BoardingPlaceRequest(
                    case_reference=str(request.case_id),
                    county=request.county,
                    child=request.child,
                    from_term=request.from_term,
                ),
                idempotency_key=request.idempotency_key,
            )


def school_activities(client: SchoolClient) -> list[Callable[..., Any]]:
    """What a worker registers for the school system."""
    bound = SchoolActivities(client)
    return [
        bound.check_school_enrolment,
        bound.list_drop_out_alerts,
        bound.apply_for_tuition_waiver,
        bound.request_boarding_place,
    ]
