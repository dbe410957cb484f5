"""Who may do what, where: every endpoint, every role, a case inside and one outside the caller's
area, each allowed or refused as DOMAIN.md's roles table says.

An allowed request passes the checks of role and area: its answer may still be a refusal by the
case's state (409, 422, or 404 `not_found` for a random sub-resource id), but never 401/403 and
never the `case_not_found` of a case out of reach. A refused one is 403 `role_not_allowed`
whatever the case, or, for a case outside the caller's area, the very same 404 as a case that does
not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import httpx
import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError

from api.commanding import refusal_of
from domain.actors import Actor, Role
from domain.codec import case_stream_id
from domain.commands import RecordVisit
from domain.events import VisitKind
from tests.api.conftest import (
    FAR_VILLAGE,
    OTHER_TOWNSHIP_VILLAGE,
    VILLAGE,
    World,
    event_count,
    report_child,
)
from workflows.messages import CaseReply, CommandRequest

Outcome = Literal["allowed", "forbidden", "hidden"]
Where = Literal["inside", "outside"]

CASEWORKERS = {"caseworker"}
STAFF = {"caseworker", "supervisor"}
SUPERVISORS = {"supervisor"}
READERS = {"caseworker", "supervisor", "auditor"}
AUDITORS = {"auditor"}
VERIFIERS = {"auditor", "admin"}
ADMINS = {"admin"}

# user id -> the key of the case inside their area, and of one outside it
PLACES = {
    "demo-caseworker": ("village", "other_township"),
    "demo-social-worker": ("other_township", "village"),
    "demo-supervisor": ("village", "other_township"),
    "demo-county-officer": ("village", "far"),
    "demo-auditor": ("village", "far"),
    "demo-admin": ("village", "far"),
}
ROLES = {
    "demo-caseworker": "caseworker",
    "demo-social-worker": "caseworker",
    "demo-supervisor": "supervisor",
    "demo-county-officer": "supervisor",
    "demo-auditor": "auditor",
    "demo-admin": "admin",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def _random() -> UUID:
    return uuid.uuid4()


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # `{case}` is the case's id, `{id}` a random sub-resource id
    roles: set[str]
    body: Callable[[], dict[str, Any]] | None = None


SCORES = {
    "survival": 2,
    "education": 1,
    "health": 0,
    "guardianship": 2,
    "safety": 1,
    "psychosocial": 1,
}
CASE_ENDPOINTS = [
    Endpoint("read", "GET", "/cases/{case}", READERS),
    Endpoint("timeline", "GET", "/cases/{case}/timeline", READERS),
    Endpoint("as of", "GET", "/cases/{case}?as_of={now}", AUDITORS),
    Endpoint("diff", "GET", "/cases/{case}/diff?from={an_hour_ago}", AUDITORS),
    Endpoint("integrity", "GET", "/cases/{case}/integrity", VERIFIERS),
    Endpoint("assessment", "POST", "/cases/{case}/assessment", STAFF, lambda: {"scores": SCORES}),
    Endpoint(
        "eligibility check",
        "POST",
        "/cases/{case}/eligibility-checks",
        STAFF,
        lambda: {"check": "household_registration"},
    ),
    Endpoint(
        "eligibility answer",
        "POST",
        "/cases/{case}/eligibility-checks/{id}/answer",
        STAFF,
        lambda: {"failure": "unavailable"},
    ),
    Endpoint("recognition", "POST", "/cases/{case}/recognition", STAFF),
    Endpoint(
        "recognition decision",
        "POST",
        "/cases/{case}/recognition/{id}/decision",
        STAFF,
        lambda: {"decision": "verified"},
    ),
    Endpoint("plan", "POST", "/cases/{case}/plan", STAFF, lambda: {"goals": ["Stay in school"]}),
    Endpoint(
        "assistance",
        "POST",
        "/cases/{case}/assistance",
        STAFF,
        lambda: {"kind": "food_pack", "quantity": 1, "unit": "pack", "value_yuan": 80},
    ),
    Endpoint(
        "delivery",
        "POST",
        "/cases/{case}/assistance/{id}/deliveries",
        STAFF,
        lambda: {"quantity": 1, "delivered_on": _yesterday()},
    ),
    Endpoint(
        "referral",
        "POST",
        "/cases/{case}/referrals",
        STAFF,
        lambda: {"agency_kind": "hospital", "agency": "Town hospital", "service": "Check-up"},
    ),
    Endpoint(
        "referral answer",
        "POST",
        "/cases/{case}/referrals/{id}/answer",
        STAFF,
        lambda: {"answer": "accepted"},
    ),
    Endpoint(
        "referral withdrawal",
        "POST",
        "/cases/{case}/referrals/{id}/withdrawal",
        STAFF,
        lambda: {"reason": "No longer needed"},
    ),
    Endpoint(
        "guardian change",
        "POST",
        "/cases/{case}/guardian-change",
        STAFF,
        lambda: {"new_guardian": {"name": "Aunt", "relation": "aunt"}, "reason": "Moving in"},
    ),
    Endpoint(
        "guardian registration",
        "POST",
        "/cases/{case}/guardian-change/{id}/registration",
        STAFF,
        lambda: {"registered_on": _yesterday()},
    ),
    Endpoint(
        "transfer",
        "POST",
        "/cases/{case}/transfers",
        STAFF,
        lambda: {
            "destination_kind": "boarding_school",
            "destination": "Town school",
            "reason": "x",
        },
    ),
    Endpoint("transfer place", "POST", "/cases/{case}/transfers/{id}/place", STAFF, dict),
    Endpoint(
        "transfer place refusal",
        "POST",
        "/cases/{case}/transfers/{id}/place-refusal",
        STAFF,
        lambda: {"refused_because": "Full"},
    ),
    Endpoint(
        "transfer arrival",
        "POST",
        "/cases/{case}/transfers/{id}/arrival",
        STAFF,
        lambda: {"transferred_on": _yesterday()},
    ),
    Endpoint(
        "visit",
        "POST",
        "/cases/{case}/visits",
        STAFF,
        lambda: {
            "visited_at": _iso(datetime.now(UTC) - timedelta(hours=1)),
            "visit_kind": "home",
            "observations": "Well fed.",
        },
    ),
    Endpoint(
        "school status",
        "POST",
        "/cases/{case}/school-status",
        STAFF,
        lambda: {"status": "enrolled", "checked_on": _yesterday()},
    ),
    Endpoint(
        "closure",
        "POST",
        "/cases/{case}/closure",
        STAFF,
        lambda: {"closure_reason": "situation_resolved"},
    ),
    Endpoint("reopening", "POST", "/cases/{case}/reopening", STAFF, lambda: {"reason": "Again"}),
    Endpoint(
        "correction",
        "POST",
        "/cases/{case}/corrections",
        STAFF,
        lambda: {
            "event_id": str(_random()),
            "field_path": "report.observations",
            "value": "Corrected.",
            "reason": "Typo",
        },
    ),
    Endpoint(
        "caseworker assignment",
        "POST",
        "/cases/{case}/caseworker",
        SUPERVISORS,
        lambda: {"caseworker": "demo-caseworker"},
    ),
    Endpoint(
        "approval decision",
        "POST",
        "/cases/{case}/approvals/{id}/decision",
        SUPERVISORS,
        lambda: {"decision": "approve"},
    ),
]


def expected(endpoint: Endpoint, user_id: str, where: Where) -> Outcome:
    if ROLES[user_id] not in endpoint.roles:
        return "forbidden"
    return "allowed" if where == "inside" else "hidden"


def outcome(answer: httpx.Response) -> Outcome | str:
    assert answer.status_code < 500, answer.text
    code = answer.json().get("code") if answer.status_code >= 400 else None
    if answer.status_code == 403 and code == "role_not_allowed":
        return "forbidden"
    if answer.status_code == 404 and code == "case_not_found":
        return "hidden"
    if answer.status_code in (401, 403):
        return f"{answer.status_code} {code}"
    return "allowed"


async def send(
    world: World, user_id: str, method: str, path: str, body: dict[str, Any] | None
) -> httpx.Response:
    return await world.engine.http.request(method, path, json=body, headers=world.auth(user_id))


@pytest_asyncio.fixture(scope="module")
async def cases(world: World) -> dict[str, UUID]:
    return {
        "village": await report_child(world, "demo-caseworker", VILLAGE),
        "other_township": await report_child(world, "demo-social-worker", OTHER_TOWNSHIP_VILLAGE),
        "far": await report_child(world, "far-caseworker", FAR_VILLAGE),
    }


@pytest.mark.parametrize("endpoint", CASE_ENDPOINTS, ids=lambda endpoint: endpoint.name)
async def test_case_endpoints_allow_and_refuse_by_role_and_area(
    world: World, cases: dict[str, UUID], endpoint: Endpoint
) -> None:
    now = datetime.now(UTC)
    wrong = []
    for user_id, places in PLACES.items():
        wheres: tuple[Where, Where] = ("inside", "outside")
        for where, place in zip(wheres, places, strict=True):
            path = endpoint.path.format(
                case=cases[place],
                id=_random(),
                now=_iso(now).replace("+", "%2B"),
                an_hour_ago=_iso(now - timedelta(hours=1)).replace("+", "%2B"),
            )
            body = endpoint.body() if endpoint.body is not None else None
            if endpoint.method == "POST" and body is None:
                body = {}
            answer = await send(world, user_id, endpoint.method, path, body)
            want, got = expected(endpoint, user_id, where), outcome(answer)
            if got != want:
                wrong.append(f"{user_id} {where}: expected {want}, got {got}: {answer.text}")
    assert not wrong, "\n".join(wrong)


async def test_a_case_out_of_reach_answers_exactly_like_a_missing_one(
    world: World, cases: dict[str, UUID]
) -> None:
    http = world.engine.http
    hidden = cases["village"]
    missing = uuid.uuid4()
    for path in ("/cases/{}", "/cases/{}/timeline"):
        outside = await http.get(path.format(hidden), headers=world.auth("demo-social-worker"))
        absent = await http.get(path.format(missing), headers=world.auth("demo-social-worker"))
        assert outside.status_code == absent.status_code == 404
        assert outside.headers["content-type"] == absent.headers["content-type"]
        seen, unseen = outside.json(), absent.json()
        seen["detail"] = seen["detail"].replace(str(hidden), "<id>")
        unseen["detail"] = unseen["detail"].replace(str(missing), "<id>")
        assert seen == unseen
    body = {"scores": SCORES}
    outside = await http.post(
        f"/cases/{hidden}/assessment", json=body, headers=world.auth("demo-social-worker")
    )
    absent = await http.post(
        f"/cases/{missing}/assessment", json=body, headers=world.auth("demo-social-worker")
    )
    assert outside.status_code == absent.status_code == 404
    assert outside.json()["code"] == absent.json()["code"] == "case_not_found"
    # Word for word: the workflow refused this one (`case_out_of_reach`), Temporal the other.
    seen, unseen = outside.json(), absent.json()
    seen["detail"] = seen["detail"].replace(str(hidden), "<id>")
    unseen["detail"] = unseen["detail"].replace(str(missing), "<id>")
    assert seen == unseen


async def test_a_case_closed_for_good_refuses_commands_and_stays_hidden_out_of_reach(
    world: World,
) -> None:
    """A case whose workflow has ended: 409 `case_inactive` for staff of its area, the 404 of a
    missing case for anyone else (the store tells the two apart, as the workflow is gone)."""
    http = world.engine.http
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    await world.engine.temporal.get_workflow_handle(case_stream_id(case_id)).terminate("ended")
    body = {"scores": SCORES}
    inside = await http.post(
        f"/cases/{case_id}/assessment", json=body, headers=world.auth("demo-caseworker")
    )
    assert inside.status_code == 409, inside.text
    assert inside.json()["code"] == "case_inactive"
    missing = uuid.uuid4()
    outside = await http.post(
        f"/cases/{case_id}/assessment", json=body, headers=world.auth("demo-social-worker")
    )
    absent = await http.post(
        f"/cases/{missing}/assessment", json=body, headers=world.auth("demo-social-worker")
    )
    assert outside.status_code == absent.status_code == 404
    seen, unseen = outside.json(), absent.json()
    seen["detail"] = seen["detail"].replace(str(case_id), "<id>")
    unseen["detail"] = unseen["detail"].replace(str(missing), "<id>")
    assert seen == unseen
    assert seen["code"] == "case_not_found"


@dataclass(frozen=True)
class AreaEndpoint:
    name: str
    method: str
    path: str  # `{area}`: a county, village or area code inside or outside the caller's area
    roles: set[str]
    inside: str
    outside: str | None  # None: the endpoint is scoped to the caller's area by itself
    body: Callable[[str], dict[str, Any]] | None = None


def _new_user(area: str) -> dict[str, Any]:
    return {
        "user_id": f"user-{uuid.uuid4().hex[:8]}",
        "display_name": "New user",
        "role": "caseworker",
        "area": area,
    }


AREA_ENDPOINTS = [
    AreaEndpoint(
        "report a child",
        "POST",
        "/cases",
        STAFF,
        VILLAGE,
        FAR_VILLAGE,
        lambda village: {
            "child": {"name": "Test Child", "sex": "male", "date_of_birth": "2015-02-03"},
            "village": village,
            "household": {"address": "Group 1", "members": 3},
            "guardians": [{"name": "Test Grandfather", "relation": "grandfather"}],
            "parents": [{"relation": "father", "situation": "working_away"}],
            "categories": ["left_behind"],
            "observations": "Parents work in the city.",
        },
    ),
    AreaEndpoint("caseload", "GET", "/cases", READERS, "", None),
    AreaEndpoint("approvals inbox", "GET", "/approvals", SUPERVISORS, "", None),
    AreaEndpoint("whole record integrity", "GET", "/integrity", VERIFIERS, "", None),
    AreaEndpoint(
        "program report",
        "GET",
        "/reports/program?year=2025&county={area}",
        AUDITORS,
        "530627",
        "520524",
    ),
    AreaEndpoint(
        "program report facts",
        "GET",
        "/reports/program/facts?year=2025&county={area}&figure=assistance.total",
        AUDITORS,
        "530627",
        "520524",
    ),
    AreaEndpoint("users", "GET", "/admin/users", ADMINS, "", None),
    AreaEndpoint("new user", "POST", "/admin/users", ADMINS, VILLAGE, FAR_VILLAGE, _new_user),
    AreaEndpoint("areas", "GET", "/admin/areas", ADMINS, "", None),
    AreaEndpoint(
        "new area",
        "POST",
        "/admin/areas",
        ADMINS,
        "530627101",
        "520524101",
        lambda township: {"code": f"{township}{uuid.uuid4().int % 700 + 300:03d}", "name": "New"},
    ),
]


@pytest.mark.parametrize("endpoint", AREA_ENDPOINTS, ids=lambda endpoint: endpoint.name)
async def test_area_wide_endpoints_allow_and_refuse_by_role_and_area(
    world: World, endpoint: AreaEndpoint
) -> None:
    wrong = []
    for user_id, role in ROLES.items():
        places = [("inside", endpoint.inside)]
        if endpoint.outside is not None:
            places.append(("outside", endpoint.outside))
        for where, area in places:
            if user_id == "demo-social-worker" and area == VILLAGE:
                area = OTHER_TOWNSHIP_VILLAGE  # their own township's
            body = endpoint.body(area) if endpoint.body is not None else None
            answer = await send(
                world, user_id, endpoint.method, endpoint.path.format(area=area), body
            )
            assert answer.status_code < 500, answer.text
            code = answer.json().get("code") if answer.status_code >= 400 else None
            if role not in endpoint.roles:
                want = "403 role_not_allowed"
            elif where == "outside":
                want = "403 outside_area"
            else:
                want = "allowed"
            got = f"{answer.status_code} {code}" if answer.status_code in (401, 403) else "allowed"
            if got != want:
                wrong.append(f"{user_id} {where}: expected {want}, got {got}: {answer.text}")
    assert not wrong, "\n".join(wrong)


async def test_the_workflow_checks_role_and_area_again_and_writes_nothing_when_refusing(
    world: World, cases: dict[str, UUID]
) -> None:
    """What the API refuses, the workflow refuses too: sent straight to it, around the API."""
    handle = world.engine.temporal.get_workflow_handle(case_stream_id(cases["village"]))
    visit = RecordVisit(
        visited_at=datetime.now(UTC) - timedelta(hours=2),
        visit_kind=VisitKind.home,
        observations="Straight to the workflow.",
    )
    before = await event_count(world.engine)
    for actor, code in (
        (Actor(user_id="demo-auditor", role=Role.auditor, area="530627"), "role_not_allowed"),
        (Actor(user_id="demo-admin", role=Role.admin, area="53"), "role_not_allowed"),
        (
            # The area, first of all: the API answers this one 404 `case_not_found`.
            Actor(user_id="demo-social-worker", role=Role.caseworker, area="530627102"),
            "case_out_of_reach",
        ),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                "command", CommandRequest(command=visit, actor=actor), result_type=CaseReply
            )
        refusal = refusal_of(refused.value)
        assert refusal is not None
        assert refusal.code == code
    assert await event_count(world.engine) == before
