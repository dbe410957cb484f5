from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from store.errors import MigrationError
from store.migrate import MIGRATIONS_DIR, apply_migrations, load_migrations
from tests.store.support import Databases


async def test_second_run_applies_nothing(migrated_database_url: str) -> None:
    assert await apply_migrations(migrated_database_url) == []
    connection = await asyncpg.connect(migrated_database_url)
    try:
        recorded = await connection.fetch("SELECT name FROM schema_migrations ORDER BY name")
    finally:
        await connection.close()
    assert [row["name"] for row in recorded] == [m.name for m in load_migrations()]


async def test_concurrent_runners_apply_each_migration_once(databases: Databases) -> None:
    url = databases.url(await databases.create())
    results = await asyncio.gather(*(apply_migrations(url) for _ in range(4)))
    everything = [m.name for m in load_migrations()]
    assert sorted(results, key=len) == [[], [], [], everything]
    assert everything[0] == "0001_event_store.sql"


async def test_a_migration_changed_after_it_was_applied_is_refused(
    migrated_database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    first = folder / "0001_event_store.sql"
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"0001_event_store\.sql was changed"):
        await apply_migrations(migrated_database_url, folder=folder)


async def test_a_new_migration_numbered_before_an_applied_one_is_refused(
    migrated_database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    (folder / "0000_too_early.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"0000_too_early\.sql is not applied"):
        await apply_migrations(migrated_database_url, folder=folder)


@pytest.mark.parametrize("names", [["1_short.sql"], ["0002_a.sql", "0002_b.sql"]])
def test_misnamed_or_renumbered_files_are_refused(tmp_path: Path, names: list[str]) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(MigrationError):
        load_migrations(tmp_path)


async def test_a_failing_migration_leaves_nothing_behind(
    databases: Databases, tmp_path: Path
) -> None:
    url = databases.url(await databases.create())
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good (x int);\n")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (x int);\nSELECT 1/0;\n")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await apply_migrations(url, folder=tmp_path)
    connection = await asyncpg.connect(url)
    try:
        names = await connection.fetch("SELECT name FROM schema_migrations")
        half = await connection.fetchval("SELECT to_regclass('half')")
    finally:
        await connection.close()
    assert [row["name"] for row in names] == ["0001_good.sql"]
    assert half is None
