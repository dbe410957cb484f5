"""The engine for the case workflow's tests, one per test module.

Each module gets its own database (fresh and migrated: the demo directory loads once per
database), its own simulators of civil affairs and the school system (so their places and
journals belong to the module), its own task queue and worker, all on the session's Temporal dev
server and PostgreSQL. Payloads are encrypted with the test-only key of `driver.py`, so the
histories the replay tests record can be replayed.

A module sets `OUTSIDE_CALL_TIMEOUT_SECONDS` to shorten how long the engine waits for an outside
system's answer (the fault tests make the simulators hang past it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from caseflow.codec import encrypted_data_converter
from caseflow.settings import Settings
from integrations.clients import open_outside_clients
from integrations.simulation.config import SimulatorConfig
from integrations.simulators import build_simulators, serving
from store.directory import Directory
from store.events import EventStore
from store.migrate import apply_migrations
from store.pool import create_app_pool
from tests.conftest import with_database
from tests.integration.engine import Engine
from tests.workflows.driver import SIMULATOR_SEED, TEST_PAYLOAD_KEYS, CaseDriver
from workers.demo import load_directory
from workers.worker import build_worker

DEFAULT_OUTSIDE_CALL_TIMEOUT_SECONDS = 10.0


@pytest_asyncio.fixture(scope="session")
async def workflow_temporal(temporal_env: WorkflowEnvironment) -> Client:
    """A client of the session's dev server that encrypts with the test-only key."""
    return Client(
        temporal_env.client.service_client,
        namespace=temporal_env.client.namespace,
        data_converter=encrypted_data_converter(TEST_PAYLOAD_KEYS),
    )


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    name = f"caseflow_workflows_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    try:
        await apply_migrations(url)
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest_asyncio.fixture(scope="module")
async def case_engine(
    request: pytest.FixtureRequest,
    postgres_server_url: str,
    workflow_temporal: Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[CaseDriver]:
    module = request.module.__name__.rpartition(".")[2]
    task_queue = f"workflows-{module}-{uuid.uuid4().hex[:8]}"
    timeout = getattr(
        request.module, "OUTSIDE_CALL_TIMEOUT_SECONDS", DEFAULT_OUTSIDE_CALL_TIMEOUT_SECONDS
    )
    data_dir: Path = tmp_path_factory.mktemp(module)
    civil_affairs, school = build_simulators(SimulatorConfig(seed=SIMULATOR_SEED))
    async with (
        fresh_database(postgres_server_url) as database_url,
        serving(civil_affairs.app) as civil_affairs_url,
        serving(school.app) as school_url,
    ):
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            temporal_address=workflow_temporal.service_client.config.target_host,
            task_queue=task_queue,
            payload_keys=TEST_PAYLOAD_KEYS.serialize(),
            civil_affairs_url=civil_affairs_url,
            school_system_url=school_url,
            outside_call_timeout_seconds=timeout,
        )
        pool = await create_app_pool(settings)
        try:
            users = await load_directory(Directory(pool), data_dir / "demo-users.json")
            store = EventStore(pool)
            app = create_app(settings)
            async with (
                open_outside_clients(settings) as outside,
                build_worker(workflow_temporal, settings, store, outside),
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://caseflow.test"
                ) as http,
            ):
                engine = Engine(
                    http,
                    workflow_temporal,
                    store,
                    pool,
                    {user.user_id: user for user in users},
                    civil_affairs,
                    school,
                )
                yield CaseDriver(
                    engine,
                    task_queue,
                    {"civil_affairs": civil_affairs_url, "school": school_url},
                )
        finally:
            await pool.close()


@pytest_asyncio.fixture
async def driver(case_engine: CaseDriver) -> AsyncIterator[CaseDriver]:
    """The module's engine, with both simulators behaving normally at the start of each test."""
    await case_engine.configure_simulators()
    yield case_engine
    await case_engine.configure_simulators()
