"""Databases for the event store's tests, on the session's real PostgreSQL.

The server is `postgres_server_url` of tests/conftest.py (the embedded server, or DATABASE_URL's).
One database is migrated per session and used as a template: each test module gets a clone
(`migrated_database_url`, tests keep apart by using their own stream ids), and a test that needs
the whole log to itself, or damages it, takes a clone of its own (`fresh_db`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from store.events import EventStore
from store.migrate import apply_migrations
from store.pool import app_database_url, create_pool
from tests.store.support import Databases, Db


@pytest_asyncio.fixture(scope="session")
async def databases(postgres_server_url: str) -> AsyncIterator[Databases]:
    databases = Databases(postgres_server_url)
    try:
        yield databases
    finally:
        await databases.drop_all()


@pytest_asyncio.fixture(scope="session")
async def migrated_template(databases: Databases) -> str:
    name = await databases.create()
    await apply_migrations(databases.url(name))
    return name


@pytest_asyncio.fixture(scope="module")
async def migrated_database_url(databases: Databases, migrated_template: str) -> str:
    """A migrated database for one test module; its URL connects as the owner."""
    return databases.url(await databases.create(template=migrated_template))


async def _open(url: str) -> Db:
    owner = await create_pool(url, max_size=4)
    app = await create_pool(app_database_url(url), max_size=24)
    return Db(url, owner, app, EventStore(app))


async def _close(db: Db) -> None:
    await db.app.close()
    await db.owner.close()


@pytest_asyncio.fixture(scope="module")
async def db(migrated_database_url: str) -> AsyncIterator[Db]:
    opened = await _open(migrated_database_url)
    try:
        yield opened
    finally:
        await _close(opened)


@pytest_asyncio.fixture
async def fresh_db(databases: Databases, migrated_template: str) -> AsyncIterator[Db]:
    """A migrated database of the test's own: an empty log."""
    opened = await _open(databases.url(await databases.create(template=migrated_template)))
    try:
        yield opened
    finally:
        await _close(opened)
