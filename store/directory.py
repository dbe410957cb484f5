"""The directory: areas of the tree and the users who sign in, with hashed bearer tokens.

Area codes are prefixes of the codes below them (domain/areas.py), so "inside an area" is a
prefix test here too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from store.errors import StoreError

INSERT_AREA = """
INSERT INTO areas (code, name, level, parent) VALUES ($1, $2, $3, $4)
ON CONFLICT (code) DO NOTHING
"""
SELECT_AREA_EXISTS = "SELECT EXISTS (SELECT 1 FROM areas WHERE code = $1)"
SELECT_AREAS = """
SELECT code, name, level, parent FROM areas
WHERE starts_with(code, $1)
ORDER BY code
"""
INSERT_USER = """
INSERT INTO users (user_id, display_name, role, area, token_hash) VALUES ($1, $2, $3, $4, $5)
"""
_USER_COLUMNS = "user_id, display_name, role, area, created_at, revoked_at"
SELECT_USER_BY_TOKEN = f"""
SELECT {_USER_COLUMNS} FROM users
WHERE token_hash = $1 AND revoked_at IS NULL
"""  # noqa: S608 (the columns are ours; the token is a parameter)
SELECT_USER = f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = $1"  # noqa: S608
SELECT_USERS = f"""
SELECT {_USER_COLUMNS} FROM users
WHERE starts_with(area, $1)
ORDER BY area, user_id
LIMIT $2 OFFSET $3
"""  # noqa: S608 (the columns are ours; every value is a parameter)
# Revoking twice keeps the first revocation's time.
REVOKE_USER = f"""
UPDATE users SET revoked_at = coalesce(revoked_at, now())
WHERE user_id = $1
RETURNING {_USER_COLUMNS}
"""  # noqa: S608
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
    created_at: datetime | None = None  # set by the directory
    revoked_at: datetime | None = None  # a revoked user's token no longer signs in


class DirectoryConflict(StoreError):
    """What was to be added is already there (a user id or an area code)."""


class UnknownArea(StoreError):
    """A user or an area refers to an area the tree does not hold."""


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

    async def add_area(self, area: Area) -> None:
        """Add one area below its parent; `DirectoryConflict` if its code is taken, `UnknownArea`
        if its parent is not in the tree."""
        try:
            status = await self._pool.execute(
                INSERT_AREA, area.code, area.name, area.level, area.parent
            )
        except asyncpg.ForeignKeyViolationError:
            raise UnknownArea(f"area {area.parent} is not in the area tree") from None
        if status.endswith(" 0"):
            raise DirectoryConflict(f"area {area.code} is already in the area tree")

    async def area_exists(self, code: str) -> bool:
        return bool(await self._pool.fetchval(SELECT_AREA_EXISTS, code))

    async def areas(self, *, within: str) -> list[Area]:
        """`within` and every area below it, in code order (parents before their children)."""
        rows = await self._pool.fetch(SELECT_AREAS, within)
        return [Area(**dict(row)) for row in rows]

    async def add_user(self, user: User) -> str:
        """Create a user and return their bearer token: shown once, stored only as a hash.
        `DirectoryConflict` if the user id is taken, `UnknownArea` if the area is not in the
        tree."""
        token = new_token()
        try:
            await self._pool.execute(
                INSERT_USER,
                user.user_id,
                user.display_name,
                user.role,
                user.area,
                hash_token(token),
            )
        except asyncpg.UniqueViolationError:
            raise DirectoryConflict(f"there is already a user {user.user_id}") from None
        except asyncpg.ForeignKeyViolationError:
            raise UnknownArea(f"area {user.area} is not in the area tree") from None
        return token

    async def user(self, user_id: str) -> User | None:
        row = await self._pool.fetchrow(SELECT_USER, user_id)
        return User(**dict(row)) if row is not None else None

    async def users(self, *, within: str, limit: int = 100, offset: int = 0) -> list[User]:
        """Users whose area is `within` or below it, revoked ones included."""
        rows = await self._pool.fetch(SELECT_USERS, within, limit, offset)
        return [User(**dict(row)) for row in rows]

    async def revoke_user(self, user_id: str) -> User | None:
        """Revoke the user's token from now on (None: no such user)."""
        row = await self._pool.fetchrow(REVOKE_USER, user_id)
        return User(**dict(row)) if row is not None else None

    async def user_for_token(self, token: str) -> User | None:
        row = await self._pool.fetchrow(SELECT_USER_BY_TOKEN, hash_token(token))
        return User(**dict(row)) if row is not None else None

    async def count_users(self) -> int:
        return int(await self._pool.fetchval(COUNT_USERS))
