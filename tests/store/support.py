"""Helpers for the event store's tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from store import statements as sql
from store.events import EventStore, NewEvent


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


class Databases:
    """Creates databases named caseflow_test_<session>_<n> and drops them all at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.prefix = f"caseflow_test_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    async def create(self, *, template: str = "template0") -> str:
        name = f"{self.prefix}_{len(self.names)}"
        self.names.append(name)
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(
                f"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\" ENCODING 'UTF8' LOCALE 'C'"
                if template == "template0"
                else f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
            )
        finally:
            await admin.close()
        return name

    def url(self, name: str) -> str:
        return with_database(self.server_url, name)

    async def drop_all(self) -> None:
        admin = await asyncpg.connect(self.server_url)
        try:
            for name in reversed(self.names):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@dataclass(frozen=True)
class Db:
    url: str  # as the owner, who migrates (and, as superuser, plays the attacker)
    owner: asyncpg.Pool
    app: asyncpg.Pool  # as caseflow_app, like the processes
    store: EventStore  # on the app pool


def new_stream() -> str:
    return f"case-{uuid.uuid4()}"


def new_events(count: int, *, data: str = '{"n": 1}', metadata: str = "{}") -> list[NewEvent]:
    return [NewEvent(uuid.uuid4(), "Tested", 1, data, metadata) for _ in range(count)]


async def tamper(db: Db, *statements: tuple[object, ...]) -> None:
    """Run (sql, *args) statements as a superuser with triggers off, as an attacker would."""
    async with db.owner.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        for statement, *args in statements:
            assert isinstance(statement, str)
            await connection.execute(statement, *args)


async def hold_open_append(connection: asyncpg.Connection, stream: str) -> int:
    """Append one event inside the connection's open transaction, which keeps the log head
    locked until it ends; return the position it took."""
    event = new_events(1)[0]
    row = await connection.fetchrow(
        sql.APPEND_EVENTS, stream, 0, [event.event_id], [event.type], [1], [event.data], ["{}"]
    )
    assert row is not None
    assert row["outcome"] == "appended"
    position: int = row["positions"][0]
    return position


async def waiting_on_locks(db: Db) -> int:
    count: int = await db.owner.fetchval(
        """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
        """
    )
    return count
