"""What makes outside calls safe to repeat: idempotency keys honoured by the simulators, failures
before and after the work, hangs past the client's timeout, and no personal data in any error."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.models import (
    HouseholdLookup,
    PlaceReservation,
    PlaceReservationRequest,
    RecognitionApplication,
)
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.errors import BusinessRefusal, TransientFailure
from integrations.http import REDACTED
from integrations.school.client import SchoolClient
from integrations.school.models import BoardingPlace, BoardingPlaceRequest
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.world import SimulatedChild
from integrations.simulators import serving
from integrations.wire import PROBLEM_MEDIA_TYPE
from tests.integrations.support import (
    SHORT_TIMEOUTS,
    TIMEOUTS,
    Running,
    assert_no_personal_data,
    personal_values,
    with_retries,
)

COUNTY = "530627"


def a_child(simulator: CivilAffairsSimulator | SchoolSimulator) -> SimulatedChild:
    return simulator.world.children_of(COUNTY)[0]


def application_for(child: SimulatedChild, case_reference: str) -> RecognitionApplication:
    return RecognitionApplication(
        case_reference=case_reference,
        village=child.village,
        child=child.identity,
        parents=list(child.parents),
    )


async def test_the_same_key_gets_the_same_answer_and_one_effect(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    case_reference = str(uuid.uuid4())
    key = f"recognition-{case_reference}-1"
    application = application_for(a_child(civil_affairs.simulator), case_reference)

    first = await civil_affairs_client.apply_for_recognition(application, idempotency_key=key)
    again = await civil_affairs_client.apply_for_recognition(application, idempotency_key=key)

    assert again == first
    assert await civil_affairs.effects_under(key) == 1
    assert (await civil_affairs.journal()).replays >= 1


async def test_a_refusal_is_also_answered_again_for_its_key(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(decision_mode="deny")
    request = PlaceReservationRequest(
        case_reference="refused-once",
        county=COUNTY,
        child=a_child(civil_affairs.simulator).identity,
    )
    with pytest.raises(BusinessRefusal):
        await civil_affairs_client.reserve_institution_place(request, idempotency_key="place-r")
    await civil_affairs.configure(decision_mode="approve")

    with pytest.raises(BusinessRefusal) as again:
        await civil_affairs_client.reserve_institution_place(request, idempotency_key="place-r")

    assert again.value.code == "no_place"


async def test_a_key_reused_for_another_request_is_refused(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    child = a_child(civil_affairs.simulator)
    key = f"recognition-{uuid.uuid4()}-1"
    await civil_affairs_client.apply_for_recognition(
        application_for(child, "case-a"), idempotency_key=key
    )

    with pytest.raises(BusinessRefusal) as refused:
        await civil_affairs_client.apply_for_recognition(
            application_for(child, "case-b"), idempotency_key=key
        )

    assert refused.value.code == "idempotency_key_reused"
    assert_no_personal_data(refused.value, personal_values(child))


async def test_a_call_without_a_key_is_refused(
    civil_affairs: Running[CivilAffairsSimulator],
) -> None:
    application = application_for(a_child(civil_affairs.simulator), "no-key")

    response = await civil_affairs.admin.post(
        "/v1/recognition-applications", json=application.model_dump(mode="json")
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "idempotency_key_required"


@pytest.mark.parametrize(
    ("failure_kind", "county"),
    [("error", "340825"), ("mixed", "340321")],  # Taihu, Huaiyuan: each has its own places
)
async def test_half_the_calls_failing_still_does_each_thing_once(
    civil_affairs: Running[CivilAffairsSimulator], failure_kind: str, county: str
) -> None:
    child = a_child(civil_affairs.simulator)
    async with CivilAffairsClient(civil_affairs.url, timeouts=SHORT_TIMEOUTS) as client:
        before = (await client.institution_places(county)).available
        await civil_affairs.configure(
            failure_rate=0.5, failure_kind=failure_kind, failure_timing="mixed", hang_seconds=0.5
        )
        failed = 0
        keys = [f"place-{uuid.uuid4()}" for _ in range(min(before, 4))]
        for key in keys:
            request = PlaceReservationRequest(
                case_reference=key.removeprefix("place-"), county=county, child=child.identity
            )

            async def reserve(
                request: PlaceReservationRequest = request, key: str = key
            ) -> PlaceReservation:
                return await client.reserve_institution_place(request, idempotency_key=key)

            first, attempts_failed = await with_retries(reserve)
            again, _ = await with_retries(reserve)
            assert again == first
            failed += attempts_failed
        journal = await civil_affairs.journal()
        await civil_affairs.configure()
        after = (await client.institution_places(county)).available

    assert keys
    assert failed > 0
    assert journal.failures_injected > 0
    assert journal.replays > 0  # some answers were lost after the work was done, then replayed
    for key in keys:
        assert sum(1 for effect in journal.effects if effect.idempotency_key == key) == 1
    assert after == before - len(keys)


async def test_school_calls_failing_half_the_time_book_one_place_each(
    school: Running[SchoolSimulator], school_client: SchoolClient
) -> None:
    await school.configure(failure_rate=0.5, failure_timing="after")
    pupil = a_child(school.simulator)
    key = f"boarding-{uuid.uuid4()}"
    request = BoardingPlaceRequest(case_reference="b-1", county="360731", child=pupil.identity)

    async def book() -> BoardingPlace:
        return await school_client.request_boarding_place(request, idempotency_key=key)

    first, failed = await with_retries(book)
    again, failed_again = await with_retries(book)

    assert again == first
    assert failed + failed_again > 0
    assert await school.effects_under(key) == 1


async def test_a_hang_past_the_timeout_is_transient_and_the_retry_gets_the_work_done(
    civil_affairs: Running[CivilAffairsSimulator],
) -> None:
    await civil_affairs.configure(
        failure_rate=1, failure_kind="hang", failure_timing="after", hang_seconds=1
    )
    child = a_child(civil_affairs.simulator)
    case_reference = str(uuid.uuid4())
    key = f"recognition-{case_reference}-1"
    application = application_for(child, case_reference)
    async with CivilAffairsClient(civil_affairs.url, timeouts=SHORT_TIMEOUTS) as client:
        started = time.monotonic()
        with pytest.raises(TransientFailure) as timed_out:
            await client.apply_for_recognition(application, idempotency_key=key)
        waited = time.monotonic() - started
        await civil_affairs.configure()
        receipt = await client.apply_for_recognition(application, idempotency_key=key)

    assert timed_out.value.kind == "timeout"
    assert waited < 0.9
    assert receipt.case_reference == case_reference
    assert await civil_affairs.effects_under(key) == 1
    assert_no_personal_data(timed_out.value, personal_values(child))


async def test_a_server_error_is_transient(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(failure_rate=1, failure_kind="error", failure_timing="before")
    child = a_child(civil_affairs.simulator)

    with pytest.raises(TransientFailure) as failed:
        await civil_affairs_client.look_up_household(
            HouseholdLookup(village=child.village, id_number=child.id_number)
        )

    assert failed.value.kind == "server_error"
    assert failed.value.status == 500
    assert_no_personal_data(failed.value, personal_values(child))


async def test_latency_is_added_to_every_call(
    civil_affairs: Running[CivilAffairsSimulator], civil_affairs_client: CivilAffairsClient
) -> None:
    await civil_affairs.configure(latency_ms=200, jitter_ms=50)
    started = time.monotonic()

    await civil_affairs_client.institution_places(COUNTY)

    assert time.monotonic() - started >= 0.2


async def test_no_answer_at_all_is_transient() -> None:
    async with serving(FastAPI()) as url:
        pass  # served and stopped: nothing listens on its port any more
    async with CivilAffairsClient(url, timeouts=TIMEOUTS) as client:
        with pytest.raises(TransientFailure) as failed:
            await client.institution_places(COUNTY)

    assert failed.value.kind == "connection"


async def test_an_answer_of_the_wrong_shape_does_not_quote_it() -> None:
    """A broken system that answers with personal data where the contract says otherwise."""
    name, id_number = "Huang Xiuya", "530627201401019876"
    broken = FastAPI()

    @broken.post("/v1/household-registrations/lookup")
    async def lookup() -> JSONResponse:
        return JSONResponse({"registration_area": name, "members": id_number})

    async with serving(broken) as url, CivilAffairsClient(url, timeouts=TIMEOUTS) as client:
        with pytest.raises(TransientFailure) as failed:
            await client.look_up_household(
                HouseholdLookup(village="530627101201", id_number=id_number)
            )

    assert failed.value.kind == "unexpected_answer"
    assert "registration_area" in str(failed.value)
    assert_no_personal_data(failed.value, [name, id_number])


async def test_a_refusal_that_echoes_personal_data_is_scrubbed() -> None:
    """A system whose refusal quotes the child it was asked about."""
    name, id_number = "Huang Xiuya", "530627201401019876"
    echoing = FastAPI()

    @echoing.post("/v1/household-registrations/lookup")
    async def lookup() -> JSONResponse:
        return JSONResponse(
            {
                "title": "Unknown household",
                "status": 404,
                "code": "unknown_household",
                "detail": f"No household of {name} ({id_number}, born 2014, id 53062720140101987X)",
            },
            status_code=404,
            media_type=PROBLEM_MEDIA_TYPE,
        )

    async with serving(echoing) as url, CivilAffairsClient(url, timeouts=TIMEOUTS) as client:
        with pytest.raises(BusinessRefusal) as refused:
            await client.look_up_household(
                HouseholdLookup(village="530627101201", id_number=id_number)
            )

    assert refused.value.code == "unknown_household"
    assert REDACTED in refused.value.reason
    assert "53062720140101987X" not in refused.value.reason
    assert_no_personal_data(refused.value, [id_number])
