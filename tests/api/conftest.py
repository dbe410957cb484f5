"""The API tests' world: an engine of their own (its own database, task queue and demo users,
so that counting events and projecting the log see these tests' doings only), users with cases
in and out of each one's area, and the projections caught up on demand.

Users (workers/demo.py): demo-caseworker (village 530627101201), demo-social-worker (a
caseworker of township 530627102), demo-supervisor (township 530627101), demo-county-officer
(a supervisor of county 530627), demo-auditor (county 530627), demo-admin (province 53); and,
made here, far-caseworker of a village in another province (52), so that every demo user has a
case outside their area.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from caseflow.settings import Settings
from store.directory import Area, Directory, User
from store.migrate import apply_migrations
from store.projections import Projector
from tests.conftest import with_database
from tests.integration.engine import Engine, running_engine

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
    settings: Settings  # the engine's data folder (its keys), the rest as by default

    def auth(self, user_id: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user_id]}", **headers}


async def report_child(world: World, user_id: str, village: str) -> UUID:
    answer = await world.engine.http.post(
        "/cases", json=a_report(village), headers=world.auth(user_id)
    )
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["case_id"])


async def event_count(engine: Engine) -> int:
    """How many events users' commands have recorded. The engine's own (deadlines, outside
    systems' answers) are left out: they arrive in their own time, whatever a test does."""
    return int(
        await engine.pool.fetchval(
            "SELECT count(*) FROM events WHERE metadata -> 'actor' ->> 'role' <> 'system'"
        )
    )


async def project(engine: Engine) -> None:
    """Bring every projection up to the end of the log, as the projector process does."""
    await Projector(engine.pool, listen=False).catch_up()


@pytest.fixture(scope="session")
def api_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-engine")


@pytest_asyncio.fixture(scope="session")
async def api_engine(
    postgres_server_url: str, temporal_env: WorkflowEnvironment, api_data_dir: Path
) -> AsyncIterator[Engine]:
    name = f"caseflow_api_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(postgres_server_url, name)
    await apply_migrations(url)
    async with running_engine(
        url, temporal_env.client, api_data_dir, "caseflow-api-tests"
    ) as engine:
        yield engine


@pytest_asyncio.fixture(scope="session")
async def world(api_engine: Engine, api_data_dir: Path) -> World:
    directory = Directory(api_engine.pool)
    await directory.add_areas(FAR_AREAS)
    tokens = {user_id: user.token for user_id, user in api_engine.users.items()}
    tokens["far-caseworker"] = await directory.add_user(
        User("far-caseworker", "Caseworker far away", "caseworker", FAR_VILLAGE)
    )
    return World(api_engine, tokens, Settings(data_dir=api_data_dir))
