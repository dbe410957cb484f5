"""The API's database pool, for what is read straight from PostgreSQL: the read models
(caseload, approvals inbox, program report) and the integrity checks. The event store and the
directory wrap the same pool (api.context.Services)."""

from __future__ import annotations

import asyncpg
from fastapi import Request


def database(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool
