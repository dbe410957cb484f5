"""A simulator of the school system: a real HTTP service speaking the contract of `models.py`.

It knows the pupils of its generated world (see `integrations.simulation.world`): their school,
grade, attendance and drop-outs. Tuition waivers and boarding places are decided by the
configured decision mode, and boarding places are counted in one or two generated boarding
schools per pilot county.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from domain.events.eligibility import SchoolStatus
from integrations.school.models import (
    BoardingPlace,
    BoardingPlaceRequest,
    DropOutAlert,
    DropOutAlerts,
    EnrolmentLookup,
    SchoolEnrolment,
    TuitionWaiver,
    TuitionWaiverApplication,
)
from integrations.simulation.config import SimulatorConfig
from integrations.simulation.service import IdempotencyKeyHeader, Refused, SimulatedSystem
from integrations.simulation.world import SimulatedChild, World, current_term
from integrations.wire import CountyCode


@dataclass
class _BoardingSchool:
    school_id: str
    name: str
    county: str
    available: int


class SchoolSimulator(SimulatedSystem):
    def __init__(self, config: SimulatorConfig, world: World | None = None) -> None:
        super().__init__("school_system", "School system (simulator)", config)
        self.world = world or World(config.seed)
        self._boarding = _boarding_schools(self.world, config.seed)
        self._routes()

    def _pupil(
        self, *, village: str, id_number: str | None, case_reference: str | None
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
                "unknown_pupil",
                "No such pupil",
                "The school system holds no pupil with this identity number or case reference.",
            )
        return child

    def _known_county(self, county: str) -> None:
        if county not in self.world.counties:
            raise Refused(
                404,
                "unknown_county",
                "Unknown county",
                f"The school system covers no county {county}.",
            )

    def _routes(self) -> None:
        app = self.app

        @app.post("/v1/enrolments/lookup")
        async def enrolment(lookup: EnrolmentLookup) -> SchoolEnrolment:
            def effect() -> SchoolEnrolment:
                pupil = self._pupil(
                    village=lookup.village,
                    id_number=lookup.id_number,
                    case_reference=lookup.case_reference,
                )
                record = pupil.school
                return SchoolEnrolment(
                    status=record.status,
                    term=current_term(date.today()),
                    school=record.school,
                    grade=record.grade,
                    attendance_rate=record.attendance_rate,
                    dropped_out_on=record.dropped_out_on,
                )

            return await self.answer(effect)

        @app.get("/v1/drop-out-alerts")
        async def drop_out_alerts(
            county: Annotated[CountyCode, Query()], since: Annotated[date, Query()]
        ) -> DropOutAlerts:
            def effect() -> DropOutAlerts:
                self._known_county(county)
                alerts = [
                    DropOutAlert(
                        alert_id=self.reference("DA", "drop-out", child.case_reference),
                        pupil=child.identity,
                        village=child.village,
                        school=child.school.school or "",
                        grade=child.school.grade,
                        dropped_out_on=child.school.dropped_out_on,
                    )
                    for child in self.world.children_of(county)
                    if child.school.dropped_out_on is not None
                    and child.school.dropped_out_on >= since
                ]
                alerts.sort(key=lambda alert: (alert.dropped_out_on, alert.alert_id))
                return DropOutAlerts(county=county, since=since, alerts=alerts)

            return await self.answer(effect)

        @app.post("/v1/tuition-waivers", status_code=201, response_model=TuitionWaiver)
        async def apply_for_tuition_waiver(
            application: TuitionWaiverApplication, idempotency_key: IdempotencyKeyHeader = None
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, TuitionWaiver]:
                pupil = self._pupil(
                    village=application.village,
                    id_number=application.child.id_number,
                    case_reference=application.case_reference,
                )
                if pupil.school.status is SchoolStatus.not_enrolled or not self.decides_approve():
                    raise Refused(
                        422,
                        "not_eligible",
                        "Tuition waiver denied",
                        "The school found the pupil not eligible for a waiver this school year; "
                        "ask for school assistance instead.",
                    )
                high_school = (pupil.school.grade or 0) >= 10
                chance = random.Random(key)
                waiver = TuitionWaiver(
                    waiver_id=self.reference("TW", "tuition-waiver", key),
                    case_reference=application.case_reference,
                    school_year=application.school_year,
                    amount_yuan=chance.randint(1200, 2500)
                    if high_school
                    else chance.randint(300, 800),
                )
                return waiver.waiver_id, waiver

            return await self.answer_once("tuition-waiver", idempotency_key, application, effect)

        @app.post("/v1/boarding-places", status_code=201, response_model=BoardingPlace)
        async def request_boarding_place(
            request: BoardingPlaceRequest, idempotency_key: IdempotencyKeyHeader = None
        ) -> JSONResponse:
            def effect(key: str) -> tuple[str, BoardingPlace]:
                self._known_county(request.county)
                free = [s for s in self._boarding if s.county == request.county and s.available > 0]
                if not free or not self.decides_approve():
                    raise Refused(
                        409,
                        "no_place",
                        "No boarding place available",
                        "No boarding school of the county has a place free; ask again next "
                        "term or arrange care another way.",
                    )
                chosen = max(free, key=lambda s: s.available)
                chosen.available -= 1
                place = BoardingPlace(
                    place_id=self.reference("BP", "boarding", key),
                    case_reference=request.case_reference,
                    school_id=chosen.school_id,
                    school=chosen.name,
                    from_term=request.from_term or current_term(date.today()),
                )
                return place.place_id, place

            return await self.answer_once("boarding", idempotency_key, request, effect)


def _boarding_schools(world: World, seed: str) -> list[_BoardingSchool]:
    chance = random.Random(f"{seed}:boarding")
    schools = []
    for county in world.counties.values():
        for number in range(1, chance.randint(1, 2) + 1):
            schools.append(
                _BoardingSchool(
                    school_id=f"BS-{county.code}-{number}",
                    name=f"{county.name} Boarding School No. {number}",
                    county=county.code,
                    available=chance.randint(2, 6),
                )
            )
    return schools
