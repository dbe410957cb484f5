from __future__ import annotations

import asyncpg
import pytest

from tests.store.support import Db, new_events, new_stream

CHANGES = [
    "UPDATE events SET type = 'Forged'",
    "DELETE FROM events",
    "TRUNCATE events",
    "UPDATE checkpoints SET key_id = 'forged'",
    "DELETE FROM checkpoints",
    "TRUNCATE checkpoints",
]
# The application role appends only through append_events(), which sets positions, versions and
# hashes itself.
APP_ONLY_REFUSED = [
    """
    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, data,
                        metadata, hash)
    VALUES (1000000, 'case-forged', 1, gen_random_uuid(), 'Forged', 1, '{}', '{}', '')
    """,
    "UPDATE streams SET version = 0",
    "UPDATE log_head SET position = 0",
    "DELETE FROM streams",
]


@pytest.fixture(autouse=True)
async def some_events(db: Db) -> None:
    await db.store.append(new_stream(), new_events(2), expected_version=0)


@pytest.mark.parametrize("statement", CHANGES + APP_ONLY_REFUSED)
async def test_the_application_role_cannot_change_the_log(db: Db, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await db.app.execute(statement)


@pytest.mark.parametrize("statement", CHANGES)
async def test_the_owner_cannot_change_the_log_either(db: Db, statement: str) -> None:
    with pytest.raises(
        asyncpg.InsufficientPrivilegeError, match="refused: the table is append-only"
    ):
        await db.owner.execute(statement)


async def test_nothing_was_changed(db: Db) -> None:
    log = await db.store.read_all(limit=100_000)
    assert log
    assert all(e.type == "Tested" for e in log)
