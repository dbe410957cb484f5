"""Administration: users made with a token shown once, revoked for good; areas added below
existing ones. Admins act within their own area and see no case content."""

from __future__ import annotations

import uuid

from tests.api.conftest import VILLAGE, World, report_child


async def test_a_new_user_signs_in_until_revoked(world: World) -> None:
    http = world.engine.http
    admin = world.auth("demo-admin")
    user_id = f"new-caseworker-{uuid.uuid4().hex[:6]}"
    created = await http.post(
        "/admin/users",
        json={"user_id": user_id, "display_name": "New one", "role": "caseworker", "area": VILLAGE},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["user"]["user_id"] == user_id
    assert created.json()["user"]["revoked_at"] is None
    signed_in = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/cases", headers=signed_in)).status_code == 200

    listed = await http.get("/admin/users", params={"limit": 1000}, headers=admin)
    assert user_id in {user["user_id"] for user in listed.json()}
    assert all("token" not in user for user in listed.json())
    again = await http.post(
        "/admin/users",
        json={"user_id": user_id, "display_name": "Twin", "role": "auditor", "area": VILLAGE},
        headers=admin,
    )
    assert again.status_code == 409

    revoked = await http.post(f"/admin/users/{user_id}/revocation", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    refused = await http.get("/cases", headers=signed_in)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    twice = await http.post(f"/admin/users/{user_id}/revocation", headers=admin)
    assert twice.json()["revoked_at"] == revoked.json()["revoked_at"]

    own = await http.post("/admin/users/demo-admin/revocation", headers=admin)
    assert own.status_code == 409
    nobody = await http.post("/admin/users/nobody-at-all/revocation", headers=admin)
    assert nobody.status_code == 404
    system = await http.post(
        "/admin/users",
        json={"user_id": "engine", "display_name": "Engine", "role": "system", "area": VILLAGE},
        headers=admin,
    )
    assert system.status_code == 422


async def test_areas_are_added_below_existing_ones(world: World) -> None:
    http = world.engine.http
    admin = world.auth("demo-admin")
    created = await http.post(
        "/admin/areas", json={"code": "530627101209", "name": "New Village"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json() == {
        "code": "530627101209",
        "name": "New Village",
        "level": "village",
        "parent": "530627101",
    }
    areas = await http.get("/admin/areas", headers=admin)
    codes = [area["code"] for area in areas.json()]
    assert "530627101209" in codes
    assert codes.index("530627101") < codes.index("530627101209")
    assert all(code.startswith("53") for code in codes)
    twice = await http.post(
        "/admin/areas", json={"code": "530627101209", "name": "Again"}, headers=admin
    )
    assert twice.status_code == 409
    orphan = await http.post(
        "/admin/areas", json={"code": "530627109201", "name": "No township"}, headers=admin
    )
    assert orphan.status_code == 422
    assert orphan.json()["code"] == "unknown_area"
    # A caseworker of the new village can now report children there.
    assert (await http.get("/admin/areas", headers=world.auth("demo-auditor"))).status_code == 403


async def test_admins_read_no_case_content(world: World) -> None:
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    admin = world.auth("demo-admin")
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/timeline", "/cases"):
        answer = await world.engine.http.get(path, headers=admin)
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "role_not_allowed"
    integrity = await world.engine.http.get(f"/cases/{case_id}/integrity", headers=admin)
    assert integrity.status_code == 200
    assert set(integrity.json()) == {
        "ok",
        "events_checked",
        "checkpoints_checked",
        "first_problem",
        "checked_at",
    }
