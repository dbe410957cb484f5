"""The API tests' world: the session's engine, a few cases in and out of each user's area, and
the projections caught up on demand.

Users (workers/demo.py): demo-caseworker (village 530627101201), demo-social-worker (a
caseworker of township 530627102), demo-supervisor (township 530627101), demo-county-officer
(a supervisor of county 530627), demo-auditor (county 530627), demo-admin (province 53); and,
made here, far-caseworker of a village in another province (52), so that every demo user has a
case outside their area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest_asyncio

from store.directory import Area, Directory, User
from store.projections import Projector
from tests.integration.conftest import engine
from tests.integration.engine import Engine

__all__ = ["World", "a_report", "engine", "event_count", "project", "report_child", "world"]

VILLAGE = "530627101201"  # demo-caseworker's, in demo-supervisor's township
OTHER_TOWNSHIP_VILLAGE = "530627102201"  # in demo-social-worker's township
FAR_VILLAGE = "520524101201"  # another province: outside every demo user's area
FAR_AREAS = [
    Area("52", "Far Province", "province", None),
    Area("5205", "Far Prefecture", "prefecture", "52"),
    Area("520524", "Far County", "county", "5205"),
    Area("520524101", "Far Township", "township", "520524"),
    Area(FAR_VILLAGE, "Far Village", "village", "520524101"),
]


def a_report(village: str = VILLAGE, **changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "child": {"name": "Test Child", "sex": "female", "date_of_birth": "2016-04-09"},
        "village": village,
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


@dataclass
class World:
    engine: Engine
    tokens: dict[str, str]  # user id -> bearer token, the demo users' and far-caseworker's

    def auth(self, user_id: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user_id]}", **headers}


async def report_child(world: World, user_id: str, village: str) -> UUID:
    answer = await world.engine.http.post(
        "/cases", json=a_report(village), headers=world.auth(user_id)
    )
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["case_id"])


async def event_count(engine: Engine) -> int:
    return int(await engine.pool.fetchval("SELECT count(*) FROM events"))


async def project(engine: Engine) -> None:
    """Bring every projection up to the end of the log, as the projector process does."""
    await Projector(engine.pool, listen=False).catch_up()


@pytest_asyncio.fixture(scope="session")
async def world(engine: Engine) -> World:
    directory = Directory(engine.pool)
    await directory.add_areas(FAR_AREAS)
    tokens = {user_id: user.token for user_id, user in engine.users.items()}
    far = await directory.user("far-caseworker")
    if far is None:
        tokens["far-caseworker"] = await directory.add_user(
            User("far-caseworker", "Caseworker far away", "caseworker", FAR_VILLAGE)
        )
    return World(engine, tokens)
