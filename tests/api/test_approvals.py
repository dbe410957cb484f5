"""Approvals: the supervisors' inbox, decisions, and the requester never deciding their own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.api.conftest import VILLAGE, World, event_count, project, report_child

TRANSFER = {"destination_kind": "institution", "destination": "County home", "reason": "No carer"}
GUARDIAN = {"new_guardian": {"name": "Test Aunt", "relation": "aunt"}, "reason": "Can care"}


async def propose(world: World, user: str, case_id: UUID, path: str, body: dict[str, Any]) -> UUID:
    """Make a proposal that needs approval; the id of the approval it asked for."""
    answer = await world.engine.http.post(
        f"/cases/{case_id}/{path}", json=body, headers=world.auth(user)
    )
    assert answer.status_code == 201, answer.text
    state = answer.json()["state"]
    pending = [
        approval_id
        for approval_id, approval in state["approvals"].items()
        if approval["status"] == "pending" and approval["requested_by"] == user
    ]
    assert len(pending) == 1
    return UUID(pending[0])


async def decide(
    world: World, user: str, case_id: UUID, approval_id: UUID, key: str = "", **body: Any
) -> dict[str, Any]:
    headers = world.auth(user, **({"Idempotency-Key": key} if key else {}))
    answer = await world.engine.http.post(
        f"/cases/{case_id}/approvals/{approval_id}/decision", json=body, headers=headers
    )
    return {"status": answer.status_code, **answer.json()}


async def inbox(world: World, user: str) -> dict[str, dict[str, Any]]:
    answer = await world.engine.http.get("/approvals", headers=world.auth(user))
    assert answer.status_code == 200, answer.text
    return {entry["approval"]["approval_id"]: entry for entry in answer.json()["items"]}


async def test_the_inbox_shows_what_waits_oldest_first_with_the_time_left(world: World) -> None:
    first_case = await report_child(world, "demo-caseworker", VILLAGE)
    second_case = await report_child(world, "demo-caseworker", VILLAGE)
    first = await propose(world, "demo-caseworker", first_case, "transfers", TRANSFER)
    second = await propose(world, "demo-caseworker", second_case, "guardian-change", GUARDIAN)
    await project(world.engine)

    township = await inbox(world, "demo-supervisor")
    entry = township[str(first)]
    assert entry["approval"]["case_id"] == str(first_case)
    assert entry["approval"]["kind"] == "transfer"
    assert entry["approval"]["escalated"] is False
    assert entry["overdue"] is False
    assert 47 * 3600 < entry["time_left_seconds"] <= 48 * 3600
    assert entry["requested_by_you"] is False
    assert entry["case_url"] == f"/cases/{first_case}"
    order = list(township)
    assert order.index(str(first)) < order.index(str(second))
    # A county officer sees what waits at the county's townships too.
    assert {str(first), str(second)} <= set(await inbox(world, "demo-county-officer"))


async def test_a_supervisor_decides_and_the_requester_never_decides_their_own(
    world: World,
) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    own = await propose(world, "demo-supervisor", case_id, "guardian-change", GUARDIAN)
    count = await event_count(world.engine)
    refused = await decide(world, "demo-supervisor", case_id, own, decision="approve")
    assert refused["status"] == 403
    assert refused["code"] == "own_request"
    assert "another supervisor" in refused["detail"]
    assert await event_count(world.engine) == count

    key = f"grant-{own}"
    granted = await decide(world, "demo-county-officer", case_id, own, key, decision="approve")
    assert granted["status"] == 200, granted
    assert granted["state"]["approvals"][str(own)]["status"] == "granted"
    [change] = granted["state"]["guardian_changes"].values()
    assert change["status"] == "approved"
    # Retried with the same key: the same answer, nothing recorded twice.
    count = await event_count(world.engine)
    again = await decide(world, "demo-county-officer", case_id, own, key, decision="approve")
    assert again["event_ids"] == granted["event_ids"]
    assert await event_count(world.engine) == count
    late = await world.engine.http.post(
        f"/cases/{case_id}/approvals/{own}/decision",
        json={"decision": "reject", "comment": "Too late"},
        headers=world.auth("demo-supervisor"),
    )
    assert late.status_code == 409
    assert late.json()["code"] == "not_pending"


async def test_a_county_officers_own_request_goes_to_another_supervisor(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    answer = await world.engine.http.post(
        f"/cases/{case_id}/closure",
        json={"closure_reason": "situation_resolved", "note": "Parents back home"},
        headers=world.auth("demo-county-officer"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"]["status"] == "pending_closure"
    [own] = answer.json()["state"]["approvals"]
    refused = await decide(world, "demo-county-officer", case_id, UUID(own), decision="approve")
    assert refused["status"] == 403
    assert refused["code"] == "own_request"
    unexplained = await decide(world, "demo-supervisor", case_id, UUID(own), decision="reject")
    assert unexplained["status"] == 422
    assert unexplained["code"] == "comment_required"
    rejected = await decide(
        world, "demo-supervisor", case_id, UUID(own), decision="reject", comment="Visit first"
    )
    assert rejected["status"] == 200, rejected
    assert rejected["state"]["status"] == "reported"
    caseworker = await world.engine.http.get("/approvals", headers=world.auth("demo-caseworker"))
    assert caseworker.status_code == 403
