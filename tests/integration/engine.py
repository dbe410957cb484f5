"""The engine assembled in-process for tests: a real worker and the API app on real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client

from api.app import create_app
from caseflow.codec import EncryptionCodec
from caseflow.settings import Settings
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.clients import open_outside_clients
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.config import SimulatorConfig
from integrations.simulators import build_simulators, serving
from store.directory import Directory
from store.events import EventStore
from store.pool import create_app_pool
from workers.demo import DemoUser, load_directory
from workers.worker import build_worker


@dataclass
class Engine:
    http: httpx.AsyncClient
    temporal: Client
    events: EventStore
    pool: asyncpg.Pool
    users: dict[str, DemoUser]
    civil_affairs: CivilAffairsSimulator
    school: SchoolSimulator

    def auth(self, user_id: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users[user_id].token}", **headers}


@asynccontextmanager
async def running_engine(
    database_url: str, temporal: Client, data_dir: Path, task_queue: str
) -> AsyncIterator[Engine]:
    target = temporal.service_client.config.target_host
    # The API's own client must encrypt with the keys of `temporal`, which the worker uses.
    codec = temporal.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec), "the Temporal client must encrypt its payloads"
    civil_affairs, school = build_simulators(SimulatorConfig(seed="caseflow-tests"))
    async with (
        serving(civil_affairs.app) as civil_affairs_url,
        serving(school.app) as school_url,
    ):
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            temporal_address=target,
            task_queue=task_queue,
            payload_keys=codec.keys.serialize(),
            civil_affairs_url=civil_affairs_url,
            school_system_url=school_url,
        )
        async with _engine(settings, temporal, civil_affairs, school) as engine:
            yield engine


@asynccontextmanager
async def _engine(
    settings: Settings,
    temporal: Client,
    civil_affairs: CivilAffairsSimulator,
    school: SchoolSimulator,
) -> AsyncIterator[Engine]:
    pool = await create_app_pool(settings)
    try:
        users = await load_directory(Directory(pool), settings.data_dir / "demo-users.json")
        store = EventStore(pool)
        app = create_app(settings)
        async with (
            open_outside_clients(settings) as outside,
            build_worker(temporal, settings, store, outside),
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://caseflow.test"
            ) as http,
        ):
            yield Engine(
                http,
                temporal,
                store,
                pool,
                {user.user_id: user for user in users},
                civil_affairs,
                school,
            )
    finally:
        await pool.close()
