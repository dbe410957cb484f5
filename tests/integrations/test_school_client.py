"""The school system client against its simulator, served over real HTTP."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from domain.events.eligibility import SchoolStatus
from integrations.errors import BusinessRefusal
from integrations.school.client import SchoolClient
from integrations.school.models import (
    BoardingPlace,
    BoardingPlaceRequest,
    EnrolmentLookup,
    TuitionWaiverApplication,
)
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.world import SimulatedChild, current_term
from tests.integrations.support import Running, assert_no_personal_data, personal_values

COUNTY = "530627"


def a_pupil(simulator: SchoolSimulator, status: SchoolStatus) -> SimulatedChild:
    for child in simulator.world.children:
        if child.school.status is status:
            return child
    raise AssertionError(f"the generated world has no {status} child")


def waiver_for(child: SimulatedChild) -> TuitionWaiverApplication:
    return TuitionWaiverApplication(
        case_reference=str(uuid.uuid4()),
        village=child.village,
        child=child.identity,
        school_year="2025-2026",
        reason="The household's income is below the local minimum living standard.",
    )


async def test_enrolment_and_attendance(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    pupil = a_pupil(school.simulator, SchoolStatus.enrolled)

    enrolment = await school_client.enrolment(
        EnrolmentLookup(village=pupil.village, id_number=pupil.id_number)
    )

    assert enrolment.status is SchoolStatus.enrolled
    assert enrolment.school == pupil.school.school
    assert enrolment.attendance_rate == pupil.school.attendance_rate
    assert enrolment.term == current_term(date.today())
    assert enrolment.to_facts().status is SchoolStatus.enrolled


async def test_a_child_not_at_school(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    pupil = a_pupil(school.simulator, SchoolStatus.dropped_out)

    enrolment = await school_client.enrolment(
        EnrolmentLookup(village=pupil.village, case_reference=pupil.case_reference)
    )

    assert enrolment.status is SchoolStatus.dropped_out
    assert enrolment.dropped_out_on == pupil.school.dropped_out_on


async def test_unknown_pupil_is_refused(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    await school.configure(derive_unknown=False)
    id_number = "530627201501011234"

    with pytest.raises(BusinessRefusal) as refused:
        await school_client.enrolment(EnrolmentLookup(village="530627101201", id_number=id_number))

    assert refused.value.code == "unknown_pupil"
    assert_no_personal_data(refused.value, [id_number])


async def test_drop_out_alerts_of_a_county_since_a_date(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    since = date.today() - timedelta(days=100)
    expected = {
        child.id_number
        for child in school.simulator.world.children_of(COUNTY)
        if child.school.dropped_out_on is not None and child.school.dropped_out_on >= since
    }

    alerts = await school_client.drop_out_alerts(COUNTY, since=since)

    assert alerts.county == COUNTY
    assert {alert.pupil.id_number for alert in alerts.alerts} == expected
    assert all(alert.dropped_out_on >= since for alert in alerts.alerts)
    assert all(alert.village.startswith(COUNTY) for alert in alerts.alerts)


async def test_drop_out_alerts_of_an_unknown_county_are_refused(
    school_client: SchoolClient,
) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await school_client.drop_out_alerts("110101", since=date(2025, 1, 1))

    assert refused.value.code == "unknown_county"


async def test_tuition_waiver_granted_or_denied(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    pupil = a_pupil(school.simulator, SchoolStatus.enrolled)
    application = waiver_for(pupil)

    granted = await school_client.apply_for_tuition_waiver(
        application, idempotency_key=f"tuition-waiver-{application.case_reference}"
    )
    await school.configure(decision_mode="deny")
    denied_application = waiver_for(pupil)
    with pytest.raises(BusinessRefusal) as denied:
        await school_client.apply_for_tuition_waiver(
            denied_application,
            idempotency_key=f"tuition-waiver-{denied_application.case_reference}",
        )

    assert granted.school_year == "2025-2026"
    assert granted.amount_yuan > 0
    assert denied.value.code == "not_eligible"
    assert denied.value.status == 422
    assert_no_personal_data(denied.value, personal_values(pupil))


async def test_boarding_place_confirmed_until_none_is_left(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    pupil = a_pupil(school.simulator, SchoolStatus.enrolled)
    county = "511425"  # Qingshen
    places: list[BoardingPlace] = []
    refusal: BusinessRefusal | None = None
    for number in range(20):
        try:
            places.append(
                await school_client.request_boarding_place(
                    BoardingPlaceRequest(
                        case_reference=f"boarding-{number}", county=county, child=pupil.identity
                    ),
                    idempotency_key=f"boarding-{county}-{number}",
                )
            )
        except BusinessRefusal as refused:
            refusal = refused
            break

    assert places
    assert all(place.from_term == current_term(date.today()) for place in places)
    assert all(place.school_id.startswith(f"BS-{county}-") for place in places)
    assert refusal is not None
    assert refusal.code == "no_place"
    assert_no_personal_data(refusal, personal_values(pupil))
