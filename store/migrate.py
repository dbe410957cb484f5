"""Versioned SQL migrations: `store/migrations/NNNN_name.sql`, applied in order, each once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import asyncpg

from store import statements as sql
from store.errors import MigrationError

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
_NAME: Final = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str
    checksum: bytes


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in `folder`, in order; refuses misnamed files and repeated numbers."""
    migrations: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        if match[1] in numbers:
            raise MigrationError(f"{path.name} and {numbers[match[1]]} share the number {match[1]}")
        numbers[match[1]] = path.name
        text = path.read_bytes()
        migrations.append(Migration(path.name, text.decode("utf-8"), hashlib.sha256(text).digest()))
    return migrations


async def apply_migrations(database_url: str, *, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet applied to the database; return their names.

    Connect as the owner of the schema. Each migration runs in its own transaction together with
    its row in `schema_migrations`. Runners on the same database take turns on an advisory lock,
    so the second finds nothing left to do.
    """
    migrations = load_migrations(folder)
    connection = await asyncpg.connect(database_url, server_settings={"search_path": "public"})
    try:
        await connection.execute(sql.LOCK_MIGRATIONS, sql.MIGRATION_LOCK_KEY)
        try:
            await connection.execute(sql.CREATE_SCHEMA_MIGRATIONS)
            applied = {
                row["name"]: bytes(row["checksum"])
                for row in await connection.fetch(sql.SELECT_APPLIED_MIGRATIONS)
            }
            _check_applied(migrations, applied)
            done: list[str] = []
            for migration in migrations:
                if migration.name in applied:
                    continue
                async with connection.transaction():
                    await connection.execute(migration.sql)
                    await connection.execute(
                        sql.INSERT_APPLIED_MIGRATION, migration.name, migration.checksum
                    )
                done.append(migration.name)
            return done
        finally:
            await connection.execute(sql.UNLOCK_MIGRATIONS, sql.MIGRATION_LOCK_KEY)
    finally:
        await connection.close()


def _check_applied(migrations: list[Migration], applied: dict[str, bytes]) -> None:
    on_disk = {migration.name: migration for migration in migrations}
    for name, checksum in applied.items():
        if name not in on_disk:
            raise MigrationError(
                f"the database has migration {name} applied, which this code does not have: "
                f"run a newer caseflow"
            )
        if on_disk[name].checksum != checksum:
            raise MigrationError(
                f"migration {name} was changed after it was applied: add a new migration instead"
            )
    latest = max(applied, default="")
    for migration in migrations:
        if migration.name not in applied and migration.name < latest:
            raise MigrationError(
                f"migration {migration.name} is not applied but sorts before the applied {latest}: "
                f"renumber it after {latest}"
            )
