"""One case end to end: POST /cases starts the workflow, which stores the events; GET folds them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from domain.codec import case_stream_id
from domain.state import CaseState
from store.case_history import case_events
from tests.integration.engine import Engine

VILLAGE = "530627101201"


def a_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "child": {"name": "Test Child", "sex": "female", "date_of_birth": "2016-04-09"},
        "village": VILLAGE,
        "household": {"address": "Group 3", "members": 2},
        "guardians": [{"name": "Test Grandmother", "relation": "grandmother"}],
        "parents": [
            {"relation": "father", "situation": "imprisoned", "since": "2024-01-10"},
            {"relation": "mother", "situation": "missing", "since": "2023-06-01"},
        ],
        "categories": ["de_facto_orphan"],
        "observations": "Lives with an elderly grandmother.",
    }
    report.update(changes)
    return report


async def workflow_count(engine: Engine) -> int:
    return (await engine.temporal.count_workflows("WorkflowType = 'Case'")).count


async def event_count(engine: Engine) -> int:
    return int(await engine.pool.fetchval("SELECT count(*) FROM events"))


async def test_a_reported_child_opens_a_case_whose_events_fold_to_the_workflow_state(
    engine: Engine,
) -> None:
    answer = await engine.http.post(
        "/cases", json=a_report(), headers=engine.auth("demo-caseworker")
    )
    assert answer.status_code == 201, answer.text
    opened = CaseState.model_validate(answer.json())
    assert answer.headers["Location"] == f"/cases/{opened.case_id}"
    assert opened.status == "reported"
    assert opened.priority == "urgent"  # a likely de facto orphan
    assert opened.report.child.name == "Test Child"

    events = await case_events(engine.events, opened.case_id)
    assert [event.type for event in events] == ["CaseOpened", "PriorityAssigned"]
    assert events[0].actor.user_id == "demo-caseworker"

    read = await engine.http.get(f"/cases/{opened.case_id}", headers=engine.auth("demo-caseworker"))
    assert read.status_code == 200
    assert CaseState.model_validate(read.json()) == opened

    handle = engine.temporal.get_workflow_handle(case_stream_id(opened.case_id))
    assert await handle.query("state", result_type=CaseState) == opened


async def test_the_same_report_with_the_same_key_creates_one_case(engine: Engine) -> None:
    key = f"retry-{uuid.uuid4()}"
    headers = engine.auth("demo-caseworker", **{"Idempotency-Key": key})
    first = await engine.http.post("/cases", json=a_report(), headers=headers)
    events_before = await event_count(engine)
    workflows_before = await workflow_count(engine)
    second = await engine.http.post("/cases", json=a_report(), headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert await event_count(engine) == events_before
    assert await workflow_count(engine) == workflows_before


async def test_a_reused_key_with_a_different_report_is_refused(engine: Engine) -> None:
    key = f"reuse-{uuid.uuid4()}"
    headers = engine.auth("demo-caseworker", **{"Idempotency-Key": key})
    first = await engine.http.post("/cases", json=a_report(), headers=headers)
    assert first.status_code == 201
    before = await event_count(engine)

    other = a_report(observations="A different report")
    second = await engine.http.post("/cases", json=other, headers=headers)

    assert second.status_code == 422
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["code"] == "idempotency_key_reused"
    assert await event_count(engine) == before


async def assert_refused_without_trace(
    engine: Engine, body: dict[str, Any], status: int, user: str = "demo-caseworker"
) -> dict[str, Any]:
    events_before = await event_count(engine)
    workflows_before = await workflow_count(engine)
    answer = await engine.http.post("/cases", json=body, headers=engine.auth(user))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await event_count(engine) == events_before
    assert await workflow_count(engine) == workflows_before
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert problem["detail"]
    return problem


async def test_invalid_input_is_refused_with_a_clear_message_and_starts_nothing(
    engine: Engine,
) -> None:
    missing_name = a_report()
    del missing_name["child"]["name"]
    problem = await assert_refused_without_trace(engine, missing_name, 422)
    assert "child.name" in problem["detail"]

    bad_village = a_report(village="5306")
    problem = await assert_refused_without_trace(engine, bad_village, 422)
    assert "village" in problem["detail"]

    unknown_village = a_report(village="530627101299")
    problem = await assert_refused_without_trace(engine, unknown_village, 422)
    assert problem["code"] == "unknown_village"

    adult = copy.deepcopy(a_report())
    adult["child"]["date_of_birth"] = "2001-01-01"
    problem = await assert_refused_without_trace(engine, adult, 422)
    assert problem["code"] == "not_a_child"

    disability_without_grade = a_report(
        parents=[{"relation": "mother", "situation": "severe_disability"}]
    )
    problem = await assert_refused_without_trace(engine, disability_without_grade, 422)
    assert "grade" in problem["detail"]


async def test_refusals_never_echo_the_childs_data(engine: Engine) -> None:
    body = a_report()
    body["child"]["date_of_birth"] = "not-a-date"
    body["child"]["name"] = "Secret Name"
    problem = await assert_refused_without_trace(engine, body, 422)
    assert "Secret Name" not in str(problem)
    assert "not-a-date" not in str(problem)


async def test_roles_and_areas_are_enforced(engine: Engine) -> None:
    # The social worker's township does not contain VILLAGE.
    problem = await assert_refused_without_trace(engine, a_report(), 403, "demo-social-worker")
    assert problem["code"] == "outside_area"
    problem = await assert_refused_without_trace(engine, a_report(), 403, "demo-auditor")
    assert problem["code"] == "role_not_allowed"

    opened = await engine.http.post(
        "/cases", json=a_report(), headers=engine.auth("demo-caseworker")
    )
    case_url = f"/cases/{opened.json()['case_id']}"
    for reader in ("demo-caseworker", "demo-supervisor", "demo-county-officer", "demo-auditor"):
        assert (await engine.http.get(case_url, headers=engine.auth(reader))).status_code == 200
    outside = await engine.http.get(case_url, headers=engine.auth("demo-social-worker"))
    missing = await engine.http.get(
        f"/cases/{uuid.uuid4()}", headers=engine.auth("demo-social-worker")
    )
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["title"] == missing.json()["title"]


async def test_requests_without_a_valid_token_are_refused(engine: Engine) -> None:
    assert (await engine.http.post("/cases", json=a_report())).status_code == 401
    unknown = await engine.http.get(
        f"/cases/{uuid.uuid4()}", headers={"Authorization": "Bearer nope"}
    )
    assert unknown.status_code == 401
    assert unknown.headers["content-type"] == "application/problem+json"
