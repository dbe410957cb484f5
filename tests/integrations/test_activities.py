"""The outside-system activities run by the SDK's activity runner against the simulators: answers,
refusals as non-retryable ApplicationErrors, transient failures as retryable ones, heartbeats."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.civil_affairs import (
    ApplyForRecognition,
    AwaitRecognitionDecision,
    CheckInstitutionPlaces,
    CheckParentsStatus,
    CivilAffairsActivities,
    ConfirmAdmission,
    LookUpHouseholdRegistration,
    RegisterGuardian,
    ReserveInstitutionPlace,
    StartAllowance,
    civil_affairs_activities,
)
from activities.errors import (
    BUSINESS_REFUSAL,
    OUTSIDE_CALL_RETRY_POLICY,
    OUTSIDE_REQUEST_REJECTED,
    OUTSIDE_SYSTEM_UNAVAILABLE,
    Refusal,
    refusal_of,
)
from activities.school import (
    ApplyForTuitionWaiver,
    CheckSchoolEnrolment,
    ListDropOutAlerts,
    RequestBoardingPlace,
    SchoolActivities,
    school_activities,
)
from domain.child import Guardian
from domain.rules.referrals import allowance_start
from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.models import RecognitionStatus
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.school.client import SchoolClient
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.world import SimulatedChild
from tests.integrations.support import (
    SHORT_TIMEOUTS,
    Running,
    assert_no_personal_data,
    personal_values,
)

COUNTY = "530627"


@pytest_asyncio.fixture
async def civil(
    civil_affairs: Running[CivilAffairsSimulator],
) -> AsyncIterator[CivilAffairsActivities]:
    async with CivilAffairsClient(civil_affairs.url, timeouts=SHORT_TIMEOUTS) as client:
        yield CivilAffairsActivities(client)


@pytest_asyncio.fixture
async def schooling(school: Running[SchoolSimulator]) -> AsyncIterator[SchoolActivities]:
    async with SchoolClient(school.url, timeouts=SHORT_TIMEOUTS) as client:
        yield SchoolActivities(client)


def a_child(simulator: CivilAffairsSimulator | SchoolSimulator) -> SimulatedChild:
    return simulator.world.children_of(COUNTY)[1]


def activity_name(fn: Callable[..., Any]) -> str | None:
    definition = activity._Definition.from_callable(fn)
    return definition.name if definition else None


async def run_failing(
    env: ActivityEnvironment, fn: Callable[..., Any], arg: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as failed:
        await env.run(fn, arg)
    return failed.value


def test_the_registration_helpers_name_every_activity() -> None:
    civil_client = CivilAffairsClient("http://127.0.0.1:9", timeouts=SHORT_TIMEOUTS)
    school_client = SchoolClient("http://127.0.0.1:9", timeouts=SHORT_TIMEOUTS)

    names = {activity_name(fn) for fn in civil_affairs_activities(civil_client)} | {
        activity_name(fn) for fn in school_activities(school_client)
    }

    assert names == {
        "look_up_household_registration",
        "check_parents_status",
        "apply_for_recognition",
        "await_recognition_decision",
        "start_allowance",
        "register_guardian",
        "check_institution_places",
        "reserve_institution_place",
        "confirm_admission",
        "check_school_enrolment",
        "list_drop_out_alerts",
        "apply_for_tuition_waiver",
        "request_boarding_place",
    }


def test_the_retry_policy_never_retries_a_refusal() -> None:
    assert OUTSIDE_CALL_RETRY_POLICY.initial_interval == timedelta(seconds=1)
    assert OUTSIDE_CALL_RETRY_POLICY.backoff_coefficient == 2.0
    assert OUTSIDE_CALL_RETRY_POLICY.maximum_interval == timedelta(minutes=1)
    assert set(OUTSIDE_CALL_RETRY_POLICY.non_retryable_error_types or ()) == {
        BUSINESS_REFUSAL,
        OUTSIDE_REQUEST_REJECTED,
    }


async def test_eligibility_look_ups(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    child = a_child(civil_affairs.simulator)
    case_id = uuid.uuid4()
    env = ActivityEnvironment()

    registration = await env.run(
        civil.look_up_household_registration,
        LookUpHouseholdRegistration(
            case_id=case_id, village=child.village, id_number=child.id_number
        ),
    )
    parents = await env.run(civil.check_parents_status, CheckParentsStatus(case_id=case_id))

    assert registration.registration_area == child.registration_area
    assert parents.to_facts().parents == child.parents  # the case was linked to the id number


async def test_recognition_to_allowance(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    await civil_affairs.configure(decision_mode="late", late_after_polls=2)
    child = a_child(civil_affairs.simulator)
    case_id = uuid.uuid4()
    heartbeats: list[Any] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: heartbeats.append(details)
    apply = ApplyForRecognition(
        case_id=case_id,
        application_id=uuid.uuid4(),
        village=child.village,
        child=child.identity,
        parents=list(child.parents),
    )

    receipt = await env.run(civil.apply_for_recognition, apply)
    again = await env.run(civil.apply_for_recognition, apply)
    verified = await env.run(
        civil.await_recognition_decision,
        AwaitRecognitionDecision(
            case_id=case_id,
            application_id=receipt.application_id,
            poll_interval_seconds=0.02,
            wait_seconds=5,
        ),
    )
    confirmed = await env.run(
        civil.await_recognition_decision,
        AwaitRecognitionDecision(
            case_id=case_id,
            application_id=receipt.application_id,
            known_status=RecognitionStatus.verified,
            poll_interval_seconds=0.02,
            wait_seconds=5,
        ),
    )
    assert confirmed.confirmed_on is not None
    schedule = await env.run(
        civil.start_allowance,
        StartAllowance(
            case_id=case_id,
            application_id=receipt.application_id,
            monthly_amount_yuan=950,
            first_month=allowance_start(confirmed.confirmed_on),
        ),
    )

    assert again == receipt
    assert await civil_affairs.effects_under(apply.idempotency_key) == 1
    assert apply.idempotency_key == f"recognition-{case_id}-{apply.application_id}"
    assert verified.status is RecognitionStatus.verified
    assert confirmed.status is RecognitionStatus.confirmed
    assert len(heartbeats) >= 4
    assert schedule.case_reference == str(case_id)


async def test_a_long_poll_answers_pending_when_its_wait_is_over(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    await civil_affairs.configure(decision_mode="late", late_after_polls=1000)
    child = a_child(civil_affairs.simulator)
    case_id = uuid.uuid4()
    heartbeats: list[Any] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: heartbeats.append(details)
    receipt = await env.run(
        civil.apply_for_recognition,
        ApplyForRecognition(
            case_id=case_id,
            application_id=uuid.uuid4(),
            village=child.village,
            child=child.identity,
            parents=list(child.parents),
        ),
    )

    decision = await env.run(
        civil.await_recognition_decision,
        AwaitRecognitionDecision(
            case_id=case_id,
            application_id=receipt.application_id,
            poll_interval_seconds=0.05,
            wait_seconds=0.2,
        ),
    )

    assert decision.status is RecognitionStatus.pending
    assert len(heartbeats) >= 4
    assert ("pending",) in heartbeats


async def test_a_long_poll_with_no_answer_at_all_is_retried(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    await civil_affairs.configure(failure_rate=1, failure_timing="before")

    failure = await run_failing(
        ActivityEnvironment(),
        civil.await_recognition_decision,
        AwaitRecognitionDecision(
            case_id=uuid.uuid4(),
            application_id=uuid.uuid4(),
            poll_interval_seconds=0.02,
            wait_seconds=0.1,
        ),
    )

    assert failure.type == OUTSIDE_SYSTEM_UNAVAILABLE
    assert not failure.non_retryable


async def test_a_refusal_is_a_non_retryable_business_refusal(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    await civil_affairs.configure(decision_mode="deny")
    child = a_child(civil_affairs.simulator)
    guardian = Guardian(name="Luo Meining", relation="grandmother")

    no_place = await run_failing(
        ActivityEnvironment(),
        civil.reserve_institution_place,
        ReserveInstitutionPlace(
            case_id=uuid.uuid4(), transfer_id=uuid.uuid4(), county=COUNTY, child=child.identity
        ),
    )
    not_registered = await run_failing(
        ActivityEnvironment(),
        civil.register_guardian,
        RegisterGuardian(
            case_id=uuid.uuid4(),
            change_id=uuid.uuid4(),
            approval_id=uuid.uuid4(),
            village=child.village,
            child=child.identity,
            guardian=guardian,
        ),
    )
    unknown = await run_failing(
        ActivityEnvironment(),
        civil.await_recognition_decision,
        AwaitRecognitionDecision(case_id=uuid.uuid4(), application_id=uuid.uuid4()),
    )

    assert no_place.type == BUSINESS_REFUSAL
    assert no_place.non_retryable
    assert list(no_place.details) == ["no_place"]
    assert refusal_of(no_place) == Refusal(code="no_place", reason=no_place.message)
    assert refusal_of(not_registered) == Refusal(
        code="guardian_not_eligible", reason=not_registered.message
    )
    assert unknown.non_retryable
    assert list(unknown.details) == ["unknown_application"]
    for failure in (no_place, not_registered, unknown):
        assert_no_personal_data(failure, [*personal_values(child), "Luo Meining"])


async def test_a_transient_failure_is_retryable(
    civil_affairs: Running[CivilAffairsSimulator], civil: CivilAffairsActivities
) -> None:
    child = a_child(civil_affairs.simulator)
    await civil_affairs.configure(failure_rate=1, failure_kind="hang", hang_seconds=1)

    timed_out = await run_failing(
        ActivityEnvironment(),
        civil.check_institution_places,
        CheckInstitutionPlaces(county=COUNTY),
    )
    await civil_affairs.configure(failure_rate=1, failure_kind="error")
    server_error = await run_failing(
        ActivityEnvironment(),
        civil.look_up_household_registration,
        LookUpHouseholdRegistration(
            case_id=uuid.uuid4(), village=child.village, id_number=child.id_number
        ),
    )

    for failure in (timed_out, server_error):
        assert failure.type == OUTSIDE_SYSTEM_UNAVAILABLE
        assert not failure.non_retryable
        assert refusal_of(failure) is None
        assert_no_personal_data(failure, personal_values(child))


async def test_a_rejected_request_is_not_retried(civil: CivilAffairsActivities) -> None:
    malformed = ConfirmAdmission.model_construct(
        case_id=uuid.uuid4(),
        transfer_id=uuid.uuid4(),
        reservation_id="not a reference!",
        admitted_on=date.today(),
    )

    failure = await run_failing(ActivityEnvironment(), civil.confirm_admission, malformed)

    assert failure.type == OUTSIDE_REQUEST_REJECTED
    assert failure.non_retryable


async def test_school_activities(
    school: Running[SchoolSimulator], schooling: SchoolActivities
) -> None:
    pupil = a_child(school.simulator)
    case_id = uuid.uuid4()
    env = ActivityEnvironment()

    enrolment = await env.run(
        schooling.check_school_enrolment,
        CheckSchoolEnrolment(case_id=case_id, village=pupil.village, id_number=pupil.id_number),
    )
    alerts = await env.run(
        schooling.list_drop_out_alerts,
        ListDropOutAlerts(county=COUNTY, since=date.today() - timedelta(days=365)),
    )
    boarding = await env.run(
        schooling.request_boarding_place,
        RequestBoardingPlace(
            case_id=case_id, transfer_id=uuid.uuid4(), county=COUNTY, child=pupil.identity
        ),
    )
    await school.configure(decision_mode="deny")
    waiver = ApplyForTuitionWaiver(
        case_id=case_id,
        village=pupil.village,
        child=pupil.identity,
        school_year="2025-2026",
        reason="Both parents are unable to work.",
    )
    denied = await run_failing(env, schooling.apply_for_tuition_waiver, waiver)

    assert enrolment.status is pupil.school.status
    assert alerts.county == COUNTY
    assert boarding.case_reference == str(case_id)
    assert waiver.idempotency_key == f"tuition-waiver-{case_id}-2025-2026"
    assert denied.type == BUSINESS_REFUSAL
    assert denied.non_retryable
    assert list(denied.details) == ["not_eligible"]
    assert_no_personal_data(denied, personal_values(pupil))
