"""A simulator of civil affairs: a real HTTP service speaking the contract of `models.py`.

It answers about the children of its generated world (see `integrations.simulation.world`),
decides recognition applications by the configured decision mode (township verification, then
county confirmation, or a denial with written reasons), pays allowances only for confirmed
recognitions, and holds a few places in one or two generated institutions per pilot county.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from domain.child import age_on
from domain.rules.referrals import allowance_start
from integrations.civil_affairs.models import (
    Admission,
    AdmissionConfirmation,
    AllowanceStart,
    DecisionStage,
    GuardianshipRegistration,
    GuardianshipRegistrationRequest,
    HouseholdLookup,
    HouseholdRegistration,
    Institution,
    InstitutionPlaces,
    ParentsStatus,
    ParentsStatusLookup,
    ParentStatus,
    PaymentSchedule,
    PlaceReservation,
    PlaceReservationRequest,
    RecognitionApplication,
    RecognitionDecision,
    RecognitionReceipt,
    RecognitionStatus,
)
from integrations.simulation.config import DecisionMode, Outcome, SimulatorConfig
from integrations.simulation.service import IdempotencyKeyHeader, Refused, SimulatedSystem
from integrations.simulation.world import SimulatedChild, World
from integrations.wire import CountyCode, Reference

RESERVATION_HELD_DAYS = 14

_TOWNSHIP_REASONS = (
    "The township could not verify that the parents' situations have lasted 6 months or more.",
    "The township found that a parent is able to care for the child.",
    "The supporting documents (police missing report, court or prison certificate, disability "
    "certificate) were not provided.",
)
_COUNTY_REASONS = (
    "The county found that the parents' situations do not meet the criteria of the 2019 "
    "national opinion on de facto unsupported children.",
    "The county found that the child is already supported as an orphan.",
)


@dataclass
class _Application:
    application_id: UUID
    case_reference: str
    submitted_at: datetime
    submitted_clock: float
    polls: int = 0
    status: RecognitionStatus = RecognitionStatus.pending
    verified_on: date | None = None
    confirmed_on: date | None = None
    denied_at: DecisionStage | None = None
    reasons: list[str] = field(default_factory=list)

    def decision(self) -> RecognitionDecision:
        return RecognitionDecision(
            application_id=self.application_id,
            case_reference=self.case_reference,
            status=self.status,
            verified_on=self.verified_on,
            confirmed_on=self.confirmed_on,
            denied_at=self.denied_at,
            reasons=list(self.reasons),
        )


@dataclass
class _Institution:
    institution_id: str
    name: str
    county: str
    capacity: int
    available: int

    def answer(self) -> Institution:
        return Institution(
            institution_id=self.institution_id,
            name=self.name,
            county=self.county,
            capacity=self.capacity,
            available=self.available,
        )


class CivilAffairsSimulator(SimulatedSystem):
    def __init__(self, config: SimulatorConfig, world: World | None = None) -> None:
        super().__init__("civil_affairs", "Civil affairs (simulator)", config)
        self.world = world or World(config.seed)
        self._applications: dict[UUID, _Application] = {}
        self._schedules: dict[str, PaymentSchedule] = {}
        self._institutions = _institutions(self.world, config.seed)
        self._reservations: dict[str, PlaceReservation] = {}
        self._admissions: dict[str, Admission] = {}
        self._routes()

    def _child(
        self, *, village: str | None, id_number: str | None, case_reference: str | None
    ) -> SimulatedChild:
        child = self.world.find(
            village=village,
            id_number=id_number,
            case_reference=case_reference,
            derive=self.config.derive_unknown,
        )
        if child is None:
            raise Refused(
                404,
                "unknown_household",
                "No household registration found",
                "No household registration holds this child; check the identity number, or "
                "register the household first.",
            )
        return child

    def _routes(self) -> None:
        app = self.app

        @app.post("/v1/household-registrations/lookup")
        async def look_up_household(lookup: HouseholdLookup) -> HouseholdRegistration:
            def effect() -> HouseholdRegistration:
                child = self._child(
                    village=lookup.village,
                    id_number=lookup.id_number,
                    case_reference=lookup.case_reference,
                )
                return HouseholdRegistration(
                    registration_area=child.registration_area,
                    household_number=child.household_number,
                    members=child.household_members,
                    registered_since=child.registered_since,
                )

            return await self.answer(effect)

        @app.post("/v1/parents-status/lookup")
        async def parents_status(lookup: ParentsStatusLookup) -> ParentsStatus:
            def effect() -> ParentsStatus:
                child = self._child(
                    village=None, id_number=lookup.id_number, case_reference=lookup.case_reference
                )
                return ParentsStatus(
                    case_reference=lookup.case_reference,
                    parents=[
                        ParentStatus(
                            relation=parent.relation,
                            situation=parent.situation,
                            since=parent.since,
                            expected_end=parent.expected_end,
                            disability_grade=parent.disability_grade,
                            disability_kind=parent.disability_kind,
                        )
                        for parent in child.parents
                    ],
                )

            return await self.answer(effect)

        @app.post(
            "/v1/recognition-applications", status_code=201, response_model=RecognitionReceipt
        )
        async def apply_for_recognition(
            application: RecognitionApplication, idempotency_key: IdempotencyKeyHeader = None
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, RecognitionReceipt]:
                if age_on(application.child.date_of_birth, date.today()) >= 18:
                    raise Refused(
                        422,
                        "not_eligible",
                        "Not eligible for recognition",
                        "The child is 18 or older; recognition is for children under 18.",
                    )
                for earlier in self._applications.values():
                    if earlier.case_reference != application.case_reference:
                        continue
                    if earlier.status is RecognitionStatus.confirmed:
                        raise Refused(
                            409,
                            "already_recognised",
                            "Already recognised",
                            f"Application {earlier.application_id} already recognised the child.",
                        )
                    if not earlier.decision().decided:
                        raise Refused(
                            409,
                            "already_applied",
                            "An application is already open",
                            f"Application {earlier.application_id} for this case is still being "
                            "decided; wait for its decision.",
                        )
                application_id = self.made_id("recognition", key)
                record = _Application(
                    application_id=application_id,
                    case_reference=application.case_reference,
                    submitted_at=datetime.now(UTC),
                    submitted_clock=time.monotonic(),
                )
                self._applications[application_id] = record
                return str(application_id), RecognitionReceipt(
                    application_id=application_id,
                    case_reference=record.case_reference,
                    status=record.status,
                    submitted_at=record.submitted_at,
                )

            return await self.answer_once("recognition", idempotency_key, application, effect)

        @app.get("/v1/recognition-applications/{application_id}")
        async def recognition_decision(application_id: UUID) -> RecognitionDecision:
            def effect() -> RecognitionDecision:
                record = self._applications.get(application_id)
                if record is None:
                    raise Refused(
                        404,
                        "unknown_application",
                        "No such application",
                        f"Civil affairs holds no recognition application {application_id}.",
                    )
                record.polls += 1
                self._decide(record)
                return record.decision()

            return await self.answer(effect)

        @app.post("/v1/allowance-payments", status_code=201, response_model=PaymentSchedule)
        async def start_allowance(
            start: AllowanceStart, idempotency_key: IdempotencyKeyHeader = None
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, PaymentSchedule]:
                record = self._applications.get(start.application_id)
                if (
                    record is None
                    or record.case_reference != start.case_reference
                    or record.confirmed_on is None
                ):
                    raise Refused(
                        422,
                        "not_recognised",
                        "No confirmed recognition",
                        "The allowance follows a confirmed recognition of this case; the "
                        "application given is not one.",
                    )
                earliest = allowance_start(record.confirmed_on)
                if start.first_month < earliest:
                    raise Refused(
                        422,
                        "first_month_too_early",
                        "First month too early",
                        f"The allowance starts on {earliest} at the earliest: the month after "
                        "recognition.",
                    )
                existing = self._schedules.get(start.case_reference)
                if existing is not None:
                    raise Refused(
                        409,
                        "already_paying",
                        "Allowance already paid",
                        f"Payment schedule {existing.schedule_id} already pays this case.",
                    )
                schedule = PaymentSchedule(
                    schedule_id=self.reference("PS", "allowance", key),
                    case_reference=start.case_reference,
                    application_id=start.application_id,
                    monthly_amount_yuan=start.monthly_amount_yuan,
                    first_month=start.first_month,
                )
                self._schedules[start.case_reference] = schedule
                return schedule.schedule_id, schedule

            return await self.answer_once("allowance", idempotency_key, start, effect)

        @app.post(
            "/v1/guardianship-registrations",
            status_code=201,
            response_model=GuardianshipRegistration,
        )
        async def register_guardian(
            registration: GuardianshipRegistrationRequest,
            idempotency_key: IdempotencyKeyHeader = None,
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, GuardianshipRegistration]:
                if not registration.guardian.able_to_care or not self.decides_approve():
                    raise Refused(
                        422,
                        "guardian_not_eligible",
                        "Guardian not registered",
                        "The township found the proposed guardian unable to provide care; "
                        "propose another guardian.",
                    )
                answer = GuardianshipRegistration(
                    registration_id=self.reference("GR", "guardianship", key),
                    case_reference=registration.case_reference,
                    registered_on=date.today(),
                )
                return answer.registration_id, answer

            return await self.answer_once("guardianship", idempotency_key, registration, effect)

        @app.get("/v1/institution-places")
        async def institution_places(county: Annotated[CountyCode, Query()]) -> InstitutionPlaces:
            def effect() -> InstitutionPlaces:
                return InstitutionPlaces(
                    county=county,
                    institutions=[i.answer() for i in self._institutions_of(county)],
                )

            return await self.answer(effect)

        @app.post("/v1/institution-reservations", status_code=201, response_model=PlaceReservation)
        async def reserve_place(
            reservation: PlaceReservationRequest, idempotency_key: IdempotencyKeyHeader = None
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, PlaceReservation]:
                candidates = self._institutions_of(reservation.county)
                if reservation.institution_id is not None:
                    candidates = [
                        i for i in candidates if i.institution_id == reservation.institution_id
                    ]
                    if not candidates:
                        raise Refused(
                            404,
                            "unknown_institution",
                            "No such institution",
                            f"The county has no institution {reservation.institution_id}.",
                        )
                free = [i for i in candidates if i.available > 0]
                if not free or not self.decides_approve():
                    raise Refused(
                        409,
                        "no_place",
                        "No place available",
                        "No institution asked for has a place free; ask again later or arrange "
                        "care another way.",
                    )
                chosen = max(free, key=lambda i: i.available)
                chosen.available -= 1
                answer = PlaceReservation(
                    reservation_id=self.reference("PR", "reservation", key),
                    case_reference=reservation.case_reference,
                    institution_id=chosen.institution_id,
                    institution_name=chosen.name,
                    reserved_until=date.today() + timedelta(days=RESERVATION_HELD_DAYS),
                )
                self._reservations[answer.reservation_id] = answer
                return answer.reservation_id, answer

            return await self.answer_once("reservation", idempotency_key, reservation, effect)

        @app.post(
            "/v1/institution-reservations/{reservation_id}/admission",
            status_code=201,
            response_model=Admission,
        )
        async def confirm_admission(
            reservation_id: Reference,
            confirmation: AdmissionConfirmation,
            idempotency_key: IdempotencyKeyHeader = None,
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, Admission]:
                reservation = self._reservations.get(reservation_id)
                if reservation is None:
                    raise Refused(
                        404,
                        "unknown_reservation",
                        "No such reservation",
                        f"Civil affairs holds no place reservation {reservation_id}.",
                    )
                admission = self._admissions.get(reservation_id) or Admission(
                    admission_id=self.reference("AD", "admission", key),
                    reservation_id=reservation_id,
                    institution_id=reservation.institution_id,
                    admitted_on=confirmation.admitted_on,
                )
                self._admissions[reservation_id] = admission
                return admission.admission_id, admission

            return await self.answer_once("admission", idempotency_key, confirmation, effect)

    def _institutions_of(self, county: str) -> list[_Institution]:
        institutions = [i for i in self._institutions if i.county == county]
        if not institutions:
            raise Refused(
                404,
                "unknown_county",
                "Unknown county",
                f"Civil affairs has no institutions on record for county {county}.",
            )
        return institutions

    def _decide(self, record: _Application) -> None:
        """Move an application on, as far as the decision mode lets it at this poll."""
        if record.decision().decided:
            return
        config = self.config
        if config.decision_mode is DecisionMode.approve:
            self._confirm(record)
            return
        if config.decision_mode is DecisionMode.deny:
            self._deny(record)
            return
        waited = time.monotonic() - record.submitted_clock

        def ripe(times: int) -> bool:
            return (
                record.polls > times * config.late_after_polls
                and waited >= times * config.late_after_seconds
            )

        if not ripe(1):
            return
        if config.late_outcome is Outcome.deny:
            self._deny(record)
        elif ripe(2):
            self._confirm(record)
        else:
            record.status = RecognitionStatus.verified
            record.verified_on = record.verified_on or date.today()

    def _confirm(self, record: _Application) -> None:
        today = date.today()
        record.verified_on = record.verified_on or today
        record.confirmed_on = today
        record.status = RecognitionStatus.confirmed

    def _deny(self, record: _Application) -> None:
        chance = random.Random(f"{self.config.seed}:{record.application_id}")
        if record.status is RecognitionStatus.verified:
            record.denied_at = DecisionStage.county
            record.reasons = [chance.choice(_COUNTY_REASONS)]
        else:
            record.denied_at = DecisionStage.township
            record.reasons = chance.sample(_TOWNSHIP_REASONS, chance.randint(1, 2))
        record.status = RecognitionStatus.denied


def _institutions(world: World, seed: str) -> list[_Institution]:
    chance = random.Random(f"{seed}:institutions")
    institutions = []
    for county in world.counties.values():
        names = [f"{county.name} County Child Welfare Institution"]
        if chance.random() < 0.5:
            names.append(f"{county.prefecture} Children's Home, {county.name} branch")
        for number, name in enumerate(names, start=1):
            capacity = chance.randint(20, 60)
            institutions.append(
                _Institution(
                    institution_id=f"INST-{county.code}-{number}",
                    name=name,
                    county=county.code,
                    capacity=capacity,
                    available=chance.randint(2, 5),
                )
            )
    return institutions
