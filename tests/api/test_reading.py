"""Reading cases: the timeline, the case as of a moment, what changed between two moments, the
record's integrity, and the caseload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from store.integrity import signing_key_for, write_checkpoint
from tests.api.conftest import (
    OTHER_TOWNSHIP_VILLAGE,
    VILLAGE,
    World,
    event_count,
    project,
    report_child,
)

SCORES = {
    "survival": 3,
    "education": 2,
    "health": 1,
    "guardianship": 3,
    "safety": 2,
    "psychosocial": 2,
}


async def assess(world: World, case_id: UUID, **headers: str) -> dict[str, Any]:
    answer = await world.engine.http.post(
        f"/cases/{case_id}/assessment",
        json={"scores": SCORES, "summary": "Needs food and a steady caregiver."},
        headers=world.auth("demo-caseworker", **headers),
    )
    assert answer.status_code == 201, answer.text
    reply: dict[str, Any] = answer.json()
    return reply


async def test_the_timeline_says_who_when_why_and_which_rule(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    reply = await assess(world, case_id)
    answer = await world.engine.http.get(
        f"/cases/{case_id}/timeline", headers=world.auth("demo-supervisor")
    )
    assert answer.status_code == 200, answer.text
    opened, screened, assessed = answer.json()
    assert [opened["type"], screened["type"], assessed["type"]] == [
        "CaseOpened",
        "PriorityAssigned",
        "AssessmentRecorded",
    ]
    assert [entry["version"] for entry in (opened, screened, assessed)] == [1, 2, 3]
    assert opened["position"] < screened["position"] < assessed["position"]
    assert opened["actor"] == {"user_id": "demo-caseworker", "role": "caseworker", "area": VILLAGE}
    assert screened["actor"]["role"] == "system"
    assert screened["causation_id"] == opened["event_id"]
    assert screened["rule"]
    assert screened["rule_version"]
    assert screened["reason"]
    assert assessed["event_id"] == reply["event_ids"][0]
    assert assessed["rule"]
    assert assessed["facts"]["risk_level"] == reply["state"]["risk_level"]
    assert assessed["facts"]["scores"] == SCORES


async def test_auditors_see_the_case_as_it_stood_and_what_changed_since(world: World) -> None:
    before_report = datetime.now(UTC)
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    reported = datetime.now(UTC)
    await assess(world, case_id)
    auditor = world.auth("demo-auditor")
    http = world.engine.http

    then = await http.get(
        f"/cases/{case_id}", params={"as_of": reported.isoformat()}, headers=auditor
    )
    assert then.status_code == 200, then.text
    assert then.json()["status"] == "reported"
    assert then.json()["need_scores"] is None
    now = await http.get(f"/cases/{case_id}", headers=auditor)
    assert now.json()["status"] == "assessed"
    unborn = await http.get(
        f"/cases/{case_id}", params={"as_of": before_report.isoformat()}, headers=auditor
    )
    assert unborn.status_code == 404
    assert unborn.json()["code"] == "case_not_found"

    diff = await http.get(
        f"/cases/{case_id}/diff", params={"from": reported.isoformat()}, headers=auditor
    )
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert body["existed_before"] is True
    assert [event["type"] for event in body["events"]] == ["AssessmentRecorded"]
    changes = {change["field"]: change for change in body["changes"]}
    assert {"status", "need_scores", "risk_level", "version"} <= set(changes)
    assert changes["status"]["before"] == "reported"
    assert changes["status"]["after"] == "assessed"
    assert "report" not in changes

    whole = await http.get(
        f"/cases/{case_id}/diff",
        params={"from": before_report.isoformat(), "to": reported.isoformat()},
        headers=auditor,
    )
    assert whole.json()["existed_before"] is False
    assert [event["type"] for event in whole.json()["events"]] == ["CaseOpened", "PriorityAssigned"]

    backwards = await http.get(
        f"/cases/{case_id}/diff",
        params={"from": reported.isoformat(), "to": before_report.isoformat()},
        headers=auditor,
    )
    assert backwards.status_code == 422
    naive = await http.get(
        f"/cases/{case_id}", params={"as_of": "2025-01-01T00:00:00"}, headers=auditor
    )
    assert naive.status_code == 422


async def test_integrity_passes_on_the_untouched_store(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    # As the projector process does now and then: a checkpoint signed with the engine's key.
    assert await write_checkpoint(world.engine.pool, signing_key_for(world.settings))
    await report_child(world, "demo-caseworker", VILLAGE)  # and events after it
    for user in ("demo-auditor", "demo-admin"):
        whole = await world.engine.http.get("/integrity", headers=world.auth(user))
        assert whole.status_code == 200, whole.text
        assert whole.json()["ok"] is True
        assert whole.json()["first_problem"] is None
        assert whole.json()["checkpoints_checked"] >= 1
        assert whole.json()["events_checked"] >= 4
    case = await world.engine.http.get(
        f"/cases/{case_id}/integrity", headers=world.auth("demo-auditor")
    )
    assert case.status_code == 200, case.text
    assert case.json()["ok"] is True
    assert case.json()["events_checked"] == 2


async def test_the_caseload_lists_the_callers_area_only_with_a_total(world: World) -> None:
    mine = await report_child(world, "demo-caseworker", VILLAGE)
    theirs = await report_child(world, "demo-social-worker", OTHER_TOWNSHIP_VILLAGE)
    await project(world.engine)
    http = world.engine.http

    async def caseload(user: str, **params: Any) -> dict[str, Any]:
        answer = await http.get("/cases", params=params, headers=world.auth(user))
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page

    everything = await caseload("demo-caseworker", limit=1000)
    ids = {row["case_id"] for row in everything["items"]}
    assert str(mine) in ids
    assert str(theirs) not in ids
    assert all(row["village"].startswith(VILLAGE) for row in everything["items"])
    assert everything["total"] == len(everything["items"])

    first = await caseload("demo-caseworker", limit=1)
    assert len(first["items"]) == 1
    assert first["total"] == everything["total"]
    beyond = await caseload("demo-caseworker", offset=everything["total"] + 5)
    assert beyond["items"] == []
    assert beyond["total"] == everything["total"]

    county = await caseload("demo-county-officer", limit=1000)
    assert {str(mine), str(theirs)} <= {row["case_id"] for row in county["items"]}
    reported = await caseload("demo-county-officer", status="reported", limit=1000)
    assert all(row["status"] == "reported" for row in reported["items"])
    closed = await caseload("demo-caseworker", status="closed")
    assert str(mine) not in {row["case_id"] for row in closed["items"]}
    bad = await http.get("/cases", params={"status": "asleep"}, headers=world.auth("demo-auditor"))
    assert bad.status_code == 422


async def test_a_retried_command_is_answered_not_repeated(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    first = await assess(world, case_id, **{"Idempotency-Key": "assess-once"})
    count = await event_count(world.engine)
    again = await assess(world, case_id, **{"Idempotency-Key": "assess-once"})
    assert again["event_ids"] == first["event_ids"]
    assert await event_count(world.engine) == count
    # Another user's key of the same spelling is their own.
    answer = await world.engine.http.post(
        f"/cases/{case_id}/assessment",
        json={"scores": SCORES},
        headers=world.auth("demo-supervisor", **{"Idempotency-Key": "assess-once"}),
    )
    assert answer.status_code == 201
    assert answer.json()["event_ids"] != first["event_ids"]
    # The same key with another command is that command, never the first one's answer.
    visit = await world.engine.http.post(
        f"/cases/{case_id}/visits",
        json={
            "visited_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "visit_kind": "phone",
            "observations": "Called the grandmother.",
        },
        headers=world.auth("demo-caseworker", **{"Idempotency-Key": "assess-once"}),
    )
    assert visit.status_code == 201, visit.text
    assert visit.json()["event_ids"] != first["event_ids"]
    assert visit.json()["state"]["visits"] == 1
    # Without a key, each request is a new command.
    third = await assess(world, case_id)
    assert third["event_ids"] != first["event_ids"]
    timeline = await world.engine.http.get(
        f"/cases/{case_id}/timeline", headers=world.auth("demo-caseworker")
    )
    assert [entry["type"] for entry in timeline.json()].count("AssessmentRecorded") == 3


async def test_a_refused_command_writes_nothing_and_says_what_to_do(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    count = await event_count(world.engine)
    plan = await world.engine.http.post(
        f"/cases/{case_id}/plan",
        json={"goals": ["Back to school"]},
        headers=world.auth("demo-caseworker"),
    )
    assert plan.status_code == 409
    assert plan.headers["content-type"] == "application/problem+json"
    assert plan.json()["code"] == "not_assessed"
    assert "record one" in plan.json()["detail"]
    future = await world.engine.http.post(
        f"/cases/{case_id}/visits",
        json={
            "visited_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "visit_kind": "home",
            "observations": "Not yet.",
        },
        headers=world.auth("demo-caseworker"),
    )
    assert future.status_code == 422
    assert future.json()["code"] == "in_future"
    invalid = await world.engine.http.post(
        f"/cases/{case_id}/eligibility-checks/{case_id}/answer",
        json={},
        headers=world.auth("demo-caseworker"),
    )
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "invalid_request"
    # A NUL in a text would stop the projections at its event: refused before anything else.
    nul = await world.engine.http.post(
        f"/cases/{case_id}/referrals",
        content=rb'{"agency_kind": "ngo", "agency": "A\u0000B", "service": "Meals"}',
        headers=world.auth("demo-caseworker", **{"Content-Type": "application/json"}),
    )
    assert nul.status_code == 422
    assert "NUL" in nul.json()["detail"]
    escaped = await world.engine.http.post(
        f"/cases/{case_id}/referrals",
        content=rb'{"agency_kind": "ngo", "agency": "A\\u0000B", "service": "Meals"}',
        headers=world.auth("demo-caseworker", **{"Content-Type": "application/json"}),
    )
    assert escaped.status_code == 201, escaped.text
    assert escaped.json()["state"]["referrals"].popitem()[1]["agency"] == "A\\u0000B"
    await project(world.engine)
    assert await event_count(world.engine) == count + 1


async def test_every_answer_carries_its_request_id(world: World) -> None:
    """The caller's X-Request-ID comes back on the answer, refusals included; without one, the
    API makes one."""
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    answer = await world.engine.http.post(
        f"/cases/{case_id}/assessment",
        json={"scores": SCORES},
        headers=world.auth("demo-caseworker", **{"X-Request-ID": "trace-me-1"}),
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Request-ID"] == "trace-me-1"
    hidden = await world.engine.http.post(
        f"/cases/{case_id}/assessment",
        json={"scores": SCORES},
        headers=world.auth("demo-social-worker", **{"X-Request-ID": "trace-me-2"}),
    )
    assert hidden.status_code == 404
    assert hidden.headers["X-Request-ID"] == "trace-me-2"
    made = await world.engine.http.get(f"/cases/{case_id}", headers=world.auth("demo-caseworker"))
    assert made.status_code == 200
    assert UUID(made.headers["X-Request-ID"])
    assert len(made.headers.get_list("X-Request-ID")) == 1
