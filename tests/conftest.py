"""Shared fixtures: a real PostgreSQL and a real Temporal server for the whole test session.

PostgreSQL is the embedded server (the same binaries `caseflow up` runs) in a temporary folder,
or the server named by `DATABASE_URL`; each session gets a fresh database. Temporal is the dev
server of the installed `temporal` binary, in memory.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from caseflow.codec import Keys, encrypted_data_converter
from store.migrate import apply_migrations
from workers.embedded_postgres import EmbeddedPostgres
from workers.embedded_temporal import temporal_binary
from workflows.search_attributes import SEARCH_ATTRIBUTE_KEYS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a running PostgreSQL on which tests may create databases."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    folder: Path = tmp_path_factory.mktemp("postgres")
    server = EmbeddedPostgres(folder / "data", free_port(), folder / "postgres.log")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this session (owner connection)."""
    name = f"caseflow_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(postgres_server_url, name)
    await apply_migrations(url)
    yield url


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        # Encrypting, as every caseflow client does; a fresh key for each session.
        data_converter=encrypted_data_converter(Keys.generate("test-session")),
        ui=False,
        search_attributes=SEARCH_ATTRIBUTE_KEYS,
    )
    try:
        yield env
    finally:
        await env.shutdown()
