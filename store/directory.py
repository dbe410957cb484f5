"""The directory: areas of the tree and the users who sign in, with hashed bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg

INSERT_AREA = """
INSERT INTO areas (code, name, level, parent) VALUES ($1, $2, $3, $4)
ON CONFLICT (code) DO NOTHING
"""
SELECT_AREA_EXISTS = "SELECT EXISTS (SELECT 1 FROM areas WHERE code = $1)"
INSERT_USER = """
INSERT INTO users (user_id, display_name, role, area, token_hash) VALUES ($1, $2, $3, $4, $5)
"""
SELECT_USER_BY_TOKEN = """
SELECT user_id, display_name, role, area FROM users
WHERE token_hash = $1 AND revoked_at IS NULL
"""  # noqa: S105 (a query, not a secret)
COUNT_USERS = "SELECT count(*) FROM users"


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    display_name: str
    role: str
    area: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return "cf_" + secrets.token_urlsafe(32)


class Directory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_areas(self, areas: list[Area]) -> None:
        async with self._pool.acquire() as connection:
            await connection.executemany(
                INSERT_AREA, [(a.code, a.name, a.level, a.parent) for a in areas]
            )

    async def area_exists(self, code: str) -> bool:
        return bool(await self._pool.fetchval(SELECT_AREA_EXISTS, code))

    async def add_user(self, user: User) -> str:
        """Create a user and return their bearer token: shown once, stored only as a hash."""
        token = new_token()
        await self._pool.execute(
            INSERT_USER, user.user_id, user.display_name, user.role, user.area, hash_token(token)
        )
        return token

    async def user_for_token(self, token: str) -> User | None:
        row = await self._pool.fetchrow(SELECT_USER_BY_TOKEN, hash_token(token))
        return User(**dict(row)) if row is not None else None

    async def count_users(self) -> int:
        return int(await self._pool.fetchval(COUNT_USERS))
