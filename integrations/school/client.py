"""The school system client: one method per call of the contract in `models.py`."""

from __future__ import annotations

from datetime import date

from caseflow.settings import Settings
from integrations.http import OutsideSystemClient, Timeouts
from integrations.school.models import (
    BoardingPlace,
    BoardingPlaceRequest,
    DropOutAlerts,
    EnrolmentLookup,
    SchoolEnrolment,
    TuitionWaiver,
    TuitionWaiverApplication,
)


class SchoolClient(OutsideSystemClient):
    system = "school_system"

    @classmethod
    def from_settings(cls, settings: Settings) -> SchoolClient:
        return cls(settings.resolved_school_system_url, timeouts=Timeouts.from_settings(settings))

    async def enrolment(self, lookup: EnrolmentLookup) -> SchoolEnrolment:
        return await self._call(
            "enrolment look-up", "POST", "/v1/enrolments/lookup", SchoolEnrolment, body=lookup
        )

    async def drop_out_alerts(self, county: str, *, since: date) -> DropOutAlerts:
        return await self._call(
            "drop-out alerts",
            "GET",
            "/v1/drop-out-alerts",
            DropOutAlerts,
            params={"county": county, "since": since.isoformat()},
        )

    async def apply_for_tuition_waiver(
        self, application: TuitionWaiverApplication, *, idempotency_key: str
    ) -> TuitionWaiver:
        return await self._call(
            "tuition waiver application",
            "POST",
            "/v1/tuition-waivers",
            TuitionWaiver,
            body=application,
            idempotency_key=idempotency_key,
        )

    async def request_boarding_place(
        self, request: BoardingPlaceRequest, *, idempotency_key: str
    ) -> BoardingPlace:
        return await self._call(
            "boarding place request",
            "POST",
            "/v1/boarding-places",
            BoardingPlace,
            body=request,
            idempotency_key=idempotency_key,
        )
