"""The civil affairs client against its simulator, served over real HTTP: every call's answer,
and every refusal as a BusinessRefusal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from domain.child import ChildIdentity, Guardian, ParentSituationKind, Sex
from domain.rules.referrals import allowance_start
from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.models import (
    AdmissionConfirmation,
    AllowanceStart,
    DecisionStage,
    GuardianshipRegistrationRequest,
    HouseholdLookup,
    ParentsStatusLookup,
    PlaceReservationRequest,
    RecognitionApplication,
    RecognitionStatus,
)
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.errors import BusinessRefusal, RequestRejected
from integrations.simulation.world import SimulatedChild
from tests.integrations.support import Running, assert_no_personal_data, personal_values

COUNTY = "530627"  # Zhenxiong


def a_child(simulator: CivilAffairsSimulator, *, de_facto_orphan: bool = False) -> SimulatedChild:
    qualifying = {ParentSituationKind.imprisoned, ParentSituationKind.deceased}
    for child in simulator.world.children_of(COUNTY):
        situations = {parent.situation for parent in child.parents}
        if not de_facto_orphan or situations & qualifying:
            return child
    raise AssertionError("the generated world has no such child")


def application_for(child: SimulatedChild) -> RecognitionApplication:
    return RecognitionApplication(
        case_reference=str(uuid.uuid4()),
        village=child.village,
        child=child.identity,
        parents=list(child.parents),
        qualifying=["both parents in qualifying situations"],
    )


async def test_household_registration_by_id_number(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)

    registration = await civil_affairs_client.look_up_household(
        HouseholdLookup(village=child.village, id_number=child.id_number)
    )

    assert registration.registration_area == child.registration_area
    assert registration.members == child.household_members
    assert registration.household_number == child.household_number
    assert registration.to_facts().registration_area == child.registration_area


async def test_household_registration_by_case_reference_is_generated_once(
    civil_affairs_client: CivilAffairsClient,
) -> None:
    lookup = HouseholdLookup(village="530627101203", case_reference=str(uuid.uuid4()))

    first = await civil_affairs_client.look_up_household(lookup)
    second = await civil_affairs_client.look_up_household(lookup)

    assert first == second
    assert first.registration_area.startswith(COUNTY)


async def test_unknown_household_is_a_refusal_without_the_id_number(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(derive_unknown=False)
    id_number = "53062720150101123X"

    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.look_up_household(
            HouseholdLookup(village="530627101201", id_number=id_number)
        )

    assert refused.value.code == "unknown_household"
    assert refused.value.status == 404
    assert_no_personal_data(refused.value, [id_number])


async def test_parents_status_of_a_case(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator, de_facto_orphan=True)

    status = await civil_affairs_client.parents_status(
        ParentsStatusLookup(case_reference=child.case_reference)
    )

    assert status.to_facts().parents == child.parents
    assert {parent.relation for parent in status.parents} == {"father", "mother"}


async def test_parents_status_follows_the_id_number_given_with_a_case(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator, de_facto_orphan=True)
    case_reference = str(uuid.uuid4())

    by_id = await civil_affairs_client.parents_status(
        ParentsStatusLookup(case_reference=case_reference, id_number=child.id_number)
    )
    by_case = await civil_affairs_client.parents_status(
        ParentsStatusLookup(case_reference=case_reference)
    )

    assert by_id.parents == by_case.parents
    assert by_case.to_facts().parents == child.parents


async def test_recognition_approved_is_verified_and_confirmed(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    application = application_for(a_child(civil_affairs.simulator, de_facto_orphan=True))

    receipt = await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )
    decision = await civil_affairs_client.recognition_decision(receipt.application_id)

    assert receipt.status is RecognitionStatus.pending
    assert decision.status is RecognitionStatus.confirmed
    assert decision.decided
    assert decision.verified_on == decision.confirmed_on == date.today()


async def test_recognition_denied_with_written_reasons(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(decision_mode="deny")
    application = application_for(a_child(civil_affairs.simulator, de_facto_orphan=True))

    receipt = await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )
    decision = await civil_affairs_client.recognition_decision(receipt.application_id)

    assert decision.status is RecognitionStatus.denied
    assert decision.denied_at is DecisionStage.township
    assert decision.reasons
    assert decision.confirmed_on is None


async def test_a_late_decision_comes_after_the_configured_polls(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(decision_mode="late", late_after_polls=2)
    application = application_for(a_child(civil_affairs.simulator))
    receipt = await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )

    statuses = [
        (await civil_affairs_client.recognition_decision(receipt.application_id)).status
        for _ in range(5)
    ]

    assert statuses == ["pending", "pending", "verified", "verified", "confirmed"]


async def test_a_late_decision_comes_after_the_configured_seconds(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(
        decision_mode="late", late_after_polls=0, late_after_seconds=0.3, late_outcome="deny"
    )
    application = application_for(a_child(civil_affairs.simulator))
    receipt = await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )

    early = await civil_affairs_client.recognition_decision(receipt.application_id)
    await asyncio.sleep(0.35)
    late = await civil_affairs_client.recognition_decision(receipt.application_id)

    assert early.status is RecognitionStatus.pending
    assert late.status is RecognitionStatus.denied


async def test_a_second_open_application_is_refused(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(decision_mode="late", late_after_polls=10)
    child = a_child(civil_affairs.simulator)
    application = application_for(child)
    await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )

    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.apply_for_recognition(
            application, idempotency_key=f"recognition-{application.case_reference}-2"
        )

    assert refused.value.code == "already_applied"
    assert_no_personal_data(refused.value, personal_values(child))


async def test_an_adult_is_not_eligible(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    adult = ChildIdentity(name="Zhao Pingan", sex=Sex.male, date_of_birth=date(2000, 1, 1))
    application = application_for(a_child(civil_affairs.simulator)).model_copy(
        update={"child": adult}
    )

    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.apply_for_recognition(application, idempotency_key="adult-1")

    assert refused.value.code == "not_eligible"
    assert_no_personal_data(refused.value, ["Zhao Pingan"])


async def test_allowance_follows_a_confirmed_recognition(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    application = application_for(a_child(civil_affairs.simulator, de_facto_orphan=True))
    receipt = await civil_affairs_client.apply_for_recognition(
        application, idempotency_key=f"recognition-{application.case_reference}-1"
    )
    decision = await civil_affairs_client.recognition_decision(receipt.application_id)
    assert decision.confirmed_on is not None
    start = AllowanceStart(
        case_reference=application.case_reference,
        application_id=receipt.application_id,
        monthly_amount_yuan=950,
        first_month=allowance_start(decision.confirmed_on),
    )

    schedule = await civil_affairs_client.start_allowance(
        start, idempotency_key=f"allowance-{application.case_reference}"
    )
    with pytest.raises(BusinessRefusal) as second:
        await civil_affairs_client.start_allowance(
            start, idempotency_key=f"allowance-{application.case_reference}-again"
        )

    assert schedule.monthly_amount_yuan == 950
    assert schedule.first_month == start.first_month
    assert second.value.code == "already_paying"


async def test_allowance_without_recognition_is_refused(
    civil_affairs_client: CivilAffairsClient,
) -> None:
    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.start_allowance(
            AllowanceStart(
                case_reference=str(uuid.uuid4()),
                application_id=uuid.uuid4(),
                monthly_amount_yuan=950,
                first_month=date(2030, 1, 1),
            ),
            idempotency_key="allowance-unrecognised",
        )

    assert refused.value.code == "not_recognised"


async def test_guardian_registered_or_refused(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)
    guardian = Guardian(name="Gao Wenya", relation="aunt", phone="13800000000")

    def request(case_reference: str) -> GuardianshipRegistrationRequest:
        return GuardianshipRegistrationRequest(
            case_reference=case_reference,
            village=child.village,
            child=child.identity,
            guardian=guardian,
            approval_reference=str(uuid.uuid4()),
        )

    registered = await civil_affairs_client.register_guardian(
        request("case-1"), idempotency_key=f"guardian-case-1-{uuid.uuid4()}"
    )
    await civil_affairs.configure(decision_mode="deny")
    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.register_guardian(
            request("case-2"), idempotency_key=f"guardian-case-2-{uuid.uuid4()}"
        )

    assert registered.case_reference == "case-1"
    assert registered.registration_id.startswith("GR-")
    assert refused.value.code == "guardian_not_eligible"
    assert_no_personal_data(refused.value, [*personal_values(child), "Gao Wenya", "13800000000"])


async def test_institution_place_reserved_then_admitted(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)
    before = await civil_affairs_client.institution_places(COUNTY)
    case_reference = str(uuid.uuid4())

    reservation = await civil_affairs_client.reserve_institution_place(
        PlaceReservationRequest(case_reference=case_reference, county=COUNTY, child=child.identity),
        idempotency_key=f"place-{case_reference}",
    )
    after = await civil_affairs_client.institution_places(COUNTY)
    admission = await civil_affairs_client.confirm_admission(
        reservation.reservation_id,
        AdmissionConfirmation(admitted_on=date.today()),
        idempotency_key=f"admission-{case_reference}",
    )

    assert before.institutions
    assert all(i.county == COUNTY for i in before.institutions)
    assert after.available == before.available - 1
    assert reservation.institution_id in {i.institution_id for i in before.institutions}
    assert admission.reservation_id == reservation.reservation_id
    assert admission.institution_id == reservation.institution_id


async def test_no_place_when_the_county_is_full(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)
    county = "513324"  # Jiulong: its places are taken one by one until none is left
    free = (await civil_affairs_client.institution_places(county)).available
    for number in range(free):
        await civil_affairs_client.reserve_institution_place(
            PlaceReservationRequest(
                case_reference=f"full-{number}", county=county, child=child.identity
            ),
            idempotency_key=f"place-full-{number}",
        )

    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.reserve_institution_place(
            PlaceReservationRequest(
                case_reference="one-too-many", county=county, child=child.identity
            ),
            idempotency_key="place-one-too-many",
        )

    assert refused.value.code == "no_place"
    assert refused.value.status == 409
    assert (await civil_affairs_client.institution_places(county)).available == 0
    assert_no_personal_data(refused.value, personal_values(child))


async def test_deny_mode_refuses_places_and_unknown_ids_are_refused(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)
    await civil_affairs.configure(decision_mode="deny")

    with pytest.raises(BusinessRefusal) as no_place:
        await civil_affairs_client.reserve_institution_place(
            PlaceReservationRequest(case_reference="denied", county=COUNTY, child=child.identity),
            idempotency_key="place-denied",
        )
    with pytest.raises(BusinessRefusal) as unknown_county:
        await civil_affairs_client.institution_places("110101")
    with pytest.raises(BusinessRefusal) as unknown_reservation:
        await civil_affairs_client.confirm_admission(
            "PR-NOSUCHTHING", AdmissionConfirmation(admitted_on=date.today()), idempotency_key="a-1"
        )
    with pytest.raises(BusinessRefusal) as unknown_application:
        await civil_affairs_client.recognition_decision(uuid.uuid4())

    assert no_place.value.code == "no_place"
    assert unknown_county.value.code == "unknown_county"
    assert unknown_reservation.value.code == "unknown_reservation"
    assert unknown_application.value.code == "unknown_application"


async def test_a_malformed_request_is_rejected_not_refused(
    civil_affairs_client: CivilAffairsClient,
) -> None:
    with pytest.raises(RequestRejected) as rejected:
        await civil_affairs_client.confirm_admission(
            "not a reference!",
            AdmissionConfirmation(admitted_on=date.today()),
            idempotency_key="admission-malformed",
        )

    assert rejected.value.status == 422
