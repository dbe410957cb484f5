"""Connections to the event store's database."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg

from caseflow.settings import Settings

# The role the processes connect as (made by the first migration): it reads, and appends only
# through append_events(). Migrations connect as the database owner instead.
APP_ROLE: Final = "caseflow_app"


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        server_settings={"application_name": "caseflow"},
    )


def app_database_url(url: str, *, password: str | None = None) -> str:
    """`url` with its user replaced by the application role (and its password by `password`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("expected a postgresql:// URL")
    hosts = parts.netloc.rpartition("@")[2]
    user = APP_ROLE if password is None else f"{APP_ROLE}:{quote(password, safe='')}"
    kept = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in kept if k not in ("user", "password")])
    return urlunsplit((parts.scheme, f"{user}@{hosts}", parts.path, query, parts.fragment))


async def create_app_pool(settings: Settings, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool of the processes' own connections: the application role, never the owner."""
    url = app_database_url(settings.resolved_database_url, password=settings.app_database_password)
    return await create_pool(url, max_size=max_size)


# ALTER ROLE takes no parameters: quote them with format() in the server instead.
SET_PASSWORD = "SELECT format('ALTER ROLE %I WITH PASSWORD %L', $1::text, $2::text)"  # noqa: S105


async def set_app_password(database_url: str, password: str) -> None:
    """Give the application role its password (run by the owner, with the migrations)."""
    connection = await asyncpg.connect(database_url)
    try:
        statement = await connection.fetchval(SET_PASSWORD, APP_ROLE, password)
        await connection.execute(statement)
    finally:
        await connection.close()
