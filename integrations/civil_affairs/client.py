"""The civil affairs client: one method per call of the contract in `models.py`."""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from caseflow.settings import Settings
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
)
from integrations.http import OutsideSystemClient, Timeouts


class CivilAffairsClient(OutsideSystemClient):
    system = "civil_affairs"

    @classmethod
    def from_settings(cls, settings: Settings) -> CivilAffairsClient:
        return cls(settings.resolved_civil_affairs_url, timeouts=Timeouts.from_settings(settings))

    async def look_up_household(self, lookup: HouseholdLookup) -> HouseholdRegistration:
        return await self._call(
            "household registration look-up",
            "POST",
            "/v1/household-registrations/lookup",
            HouseholdRegistration,
            body=lookup,
        )

    async def parents_status(self, lookup: ParentsStatusLookup) -> ParentsStatus:
        return await self._call(
            "parents' status look-up",
            "POST",
            "/v1/parents-status/lookup",
            ParentsStatus,
            body=lookup,
        )

    async def apply_for_recognition(
        self, application: RecognitionApplication, *, idempotency_key: str
    ) -> RecognitionReceipt:
        return await self._call(
            "recognition application",
            "POST",
            "/v1/recognition-applications",
            RecognitionReceipt,
            body=application,
            idempotency_key=idempotency_key,
        )

    async def recognition_decision(self, application_id: UUID) -> RecognitionDecision:
        return await self._call(
            "recognition decision",
            "GET",
            f"/v1/recognition-applications/{application_id}",
            RecognitionDecision,
        )

    async def start_allowance(
        self, start: AllowanceStart, *, idempotency_key: str
    ) -> PaymentSchedule:
        return await self._call(
            "allowance start",
            "POST",
            "/v1/allowance-payments",
            PaymentSchedule,
            body=start,
            idempotency_key=idempotency_key,
        )

    async def register_guardian(
        self, registration: GuardianshipRegistrationRequest, *, idempotency_key: str
    ) -> GuardianshipRegistration:
        return await self._call(
            "guardianship registration",
            "POST",
            "/v1/guardianship-registrations",
            GuardianshipRegistration,
            body=registration,
            idempotency_key=idempotency_key,
        )

    async def institution_places(self, county: str) -> InstitutionPlaces:
        return await self._call(
            "institution places",
            "GET",
            "/v1/institution-places",
            InstitutionPlaces,
            params={"county": county},
        )

    async def reserve_institution_place(
        self, reservation: PlaceReservationRequest, *, idempotency_key: str
    ) -> PlaceReservation:
        return await self._call(
            "place reservation",
            "POST",
            "/v1/institution-reservations",
            PlaceReservation,
            body=reservation,
            idempotency_key=idempotency_key,
        )

    async def confirm_admission(
        self, reservation_id: str, confirmation: AdmissionConfirmation, *, idempotency_key: str
    ) -> Admission:
        return await self._call(
            "admission confirmation",
            "POST",
            f"/v1/institution-reservations/{quote(reservation_id, safe='')}/admission",
            Admission,
            body=confirmation,
            idempotency_key=idempotency_key,
        )
