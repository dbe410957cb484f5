from __future__ import annotations

import asyncio
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from store.errors import IntegrityViolation
from store.integrity import (
    ZERO_HASH,
    Checkpoint,
    key_id,
    load_or_create_signing_key,
    verify,
    write_checkpoint,
)
from tests.store.support import Db, new_events, new_stream, tamper

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key()


@dataclass(frozen=True)
class Log:
    a: str  # versions 1-4 at positions 1, 3, 4, 6
    b: str  # versions 1-2 at positions 2, 5
    c: str  # version 1 at position 7, after the checkpoint
    checkpoint: Checkpoint


async def a_log(db: Db) -> Log:
    """Two streams interleaved in six positions, a checkpoint over them, then a seventh event."""
    a, b, c = new_stream(), new_stream(), new_stream()
    store = db.store
    await store.append(a, new_events(1), expected_version=0)
    await store.append(b, new_events(1), expected_version=0)
    await store.append(a, new_events(2), expected_version=1)
    await store.append(b, new_events(1), expected_version=1)
    await store.append(a, new_events(1), expected_version=3)
    checkpoint = await write_checkpoint(db.app, KEY)
    assert checkpoint is not None
    await store.append(c, new_events(1), expected_version=0)
    return Log(a, b, c, checkpoint)


async def problem(db: Db) -> str | None:
    report = await verify(db.app, public_key=PUBLIC)
    assert report.ok is (report.first_problem is None)
    return report.first_problem


async def test_an_untouched_store_verifies(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    assert log.checkpoint.sequence_no == 1
    assert log.checkpoint.up_to_position == log.checkpoint.event_count == 6
    assert log.checkpoint.previous_digest == ZERO_HASH
    assert log.checkpoint.key_id == key_id(PUBLIC)
    PUBLIC.verify(log.checkpoint.signature, log.checkpoint.signed_bytes())

    report = await verify(fresh_db.app, public_key=PUBLIC)
    assert report.ok
    assert (report.events_checked, report.checkpoints_checked) == (7, 1)
    assert report.first_problem is None
    for stream, count in ((log.a, 4), (log.b, 2), (log.c, 1)):
        report = await verify(fresh_db.app, stream_id=stream, public_key=None)
        assert (report.ok, report.events_checked) == (True, count)
    assert (await verify(fresh_db.app, public_key=None)).ok


async def test_checkpoints_cover_what_is_new_and_chain(fresh_db: Db) -> None:
    assert await write_checkpoint(fresh_db.app, KEY) is None  # an empty log
    log = await a_log(fresh_db)
    second = await write_checkpoint(fresh_db.app, KEY)
    assert second is not None
    assert (second.sequence_no, second.up_to_position, second.event_count) == (2, 7, 7)
    assert second.previous_digest == log.checkpoint.digest
    assert await write_checkpoint(fresh_db.app, KEY) is None  # nothing new
    report = await verify(fresh_db.app, public_key=PUBLIC)
    assert (report.ok, report.checkpoints_checked) == (True, 2)


async def test_altered_data_bytes_are_named(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    # Only whitespace: the same JSON value, other bytes.
    await tamper(fresh_db, ("UPDATE events SET data = '{\"n\":1}' WHERE position = 4",))
    expected = (
        f"stream {log.a} version 3 (position 4): hash does not match its stored bytes and "
        f"its previous event's hash"
    )
    assert await problem(fresh_db) == expected
    by_stream = await verify(fresh_db.app, stream_id=log.a, public_key=None)
    assert (by_stream.ok, by_stream.first_problem) == (False, expected)
    # A new checkpoint vouches only for what is new; the damage stays reported.
    assert await write_checkpoint(fresh_db.app, KEY) is not None
    assert await problem(fresh_db) == expected


async def test_altered_metadata_after_the_last_checkpoint_is_named(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    await tamper(fresh_db, ('UPDATE events SET metadata = \'{"actor": "x"}\' WHERE position = 7',))
    assert await problem(fresh_db) == (
        f"stream {log.c} version 1 (position 7): hash does not match its stored bytes and "
        f"its previous event's hash"
    )
    with pytest.raises(IntegrityViolation, match=f"stream {log.c} version 1"):
        await write_checkpoint(fresh_db.app, KEY)


REHASH = """
UPDATE events AS e
SET data = '{"n": 2}',
    hash = event_hash(
        coalesce(
            (SELECT p.hash FROM events AS p WHERE p.stream_id = e.stream_id
             AND p.version = e.version - 1),
            decode(repeat('00', 32), 'hex')
        ),
        e.stream_id, e.version, e.event_id, e.type, e.schema_version, '{"n": 2}',
        e.metadata::text, e.recorded_at
    )
WHERE position = $1
"""


async def test_an_altered_event_with_recomputed_hashes_is_caught_by_the_checkpoint(
    fresh_db: Db,
) -> None:
    await a_log(fresh_db)
    # The last event of stream b, re-hashed: every chain is consistent again, only the signed
    # digest remembers the old hash.
    await tamper(fresh_db, (REHASH, 5))
    assert await problem(fresh_db) == (
        "checkpoint 1 (up to position 6): the events it covers no longer produce its digest "
        "(an event was altered, removed or moved)"
    )


async def test_a_deleted_event_is_named_by_position(fresh_db: Db) -> None:
    await a_log(fresh_db)
    await tamper(fresh_db, ("DELETE FROM events WHERE position = 3",))
    assert await problem(fresh_db) == "position 3 is missing (covered by checkpoint 1)"


async def test_a_deleted_event_after_the_last_checkpoint_is_named(fresh_db: Db) -> None:
    await a_log(fresh_db)
    await fresh_db.store.append(new_stream(), new_events(2), expected_version=0)
    await tamper(fresh_db, ("DELETE FROM events WHERE position = 8",))
    assert await problem(fresh_db) == "position 8 is missing"


async def test_a_deleted_last_event_is_named(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    await tamper(fresh_db, ("DELETE FROM events WHERE position = 7",))
    assert await problem(fresh_db) == "position 7 is missing (the log head is at 7)"
    by_stream = await verify(fresh_db.app, stream_id=log.c, public_key=None)
    assert by_stream.first_problem == (
        f"stream {log.c} version 1 is missing (its head is at version 1)"
    )


async def test_a_deleted_event_hidden_by_renumbering_is_caught_by_the_checkpoint(
    fresh_db: Db,
) -> None:
    log = await a_log(fresh_db)
    # Remove a's last version (position 6), move c's event down, and fix both heads.
    await tamper(
        fresh_db,
        ("DELETE FROM events WHERE position = 6",),
        ("UPDATE events SET position = 6 WHERE position = 7",),
        ("UPDATE log_head SET position = 6",),
        ("UPDATE streams SET version = 3 WHERE stream_id = $1", log.a),
    )
    assert await problem(fresh_db) == (
        "checkpoint 1 (up to position 6): the events it covers no longer produce its digest "
        "(an event was altered, removed or moved)"
    )


async def swap(db: Db, first: int, second: int) -> None:
    await tamper(
        db,
        ("UPDATE events SET position = -1 WHERE position = $1", first),
        ("UPDATE events SET position = $1 WHERE position = $2", first, second),
        ("UPDATE events SET position = $1 WHERE position = -1", second),
    )


async def test_events_of_one_stream_reordered_are_named(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    await swap(fresh_db, 4, 6)  # a's versions 3 and 4
    assert await problem(fresh_db) == (
        f"stream {log.a} version 4 (position 4) comes before version 3 (position 6): "
        f"events were reordered"
    )


async def test_events_of_two_streams_reordered_are_named(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    await swap(fresh_db, 5, 6)  # b's version 2 and a's version 4, appended one after the other
    assert await problem(fresh_db) == (
        f"stream {log.b} version 2 (position 6) is recorded earlier than position 5: "
        f"events were reordered"
    )


async def test_a_forged_checkpoint_is_named(fresh_db: Db) -> None:
    await a_log(fresh_db)
    await tamper(fresh_db, ("UPDATE checkpoints SET up_to_position = 5, event_count = 5",))
    assert await problem(fresh_db) == "checkpoint 1: its signature does not verify"


async def test_a_checkpoint_signed_by_another_key_is_named(fresh_db: Db) -> None:
    await a_log(fresh_db)
    other = Ed25519PrivateKey.generate().public_key()
    report = await verify(fresh_db.app, public_key=other)
    assert report.first_problem == (
        f"checkpoint 1 is signed with key {key_id(PUBLIC)}, not with the given key {key_id(other)}"
    )


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "checkpoint.key"
    made = load_or_create_signing_key(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = load_or_create_signing_key(None, key_file)
    assert again.private_bytes_raw() == made.private_bytes_raw()
    assert list(key_file.parent.iterdir()) == [key_file]

    configured = load_or_create_signing_key(bytes(range(32)).hex(), key_file)
    assert configured.private_bytes_raw() == KEY.private_bytes_raw()


def test_a_malformed_signing_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="64 hex digits") as error:
        load_or_create_signing_key("c0ffee" * 5, tmp_path / "unused.key")
    assert "c0ffee" not in str(error.value)
    assert not (tmp_path / "unused.key").exists()


async def test_appending_after_a_deleted_stream_head_is_refused(fresh_db: Db) -> None:
    log = await a_log(fresh_db)
    await tamper(fresh_db, ("DELETE FROM events WHERE position = 5",))  # b's version 2
    with pytest.raises(IntegrityViolation, match=f"stream {log.b} version 2 is missing"):
        await fresh_db.store.append(log.b, new_events(1), expected_version=2)
    assert await fresh_db.store.stream_version(log.b) == 2


async def test_concurrent_checkpoint_writers_take_turns(fresh_db: Db) -> None:
    await a_log(fresh_db)
    written = await asyncio.gather(*(write_checkpoint(fresh_db.app, KEY) for _ in range(4)))
    assert [c.sequence_no for c in written if c is not None] == [2]
    assert (await verify(fresh_db.app, public_key=PUBLIC)).checkpoints_checked == 2


async def test_verify_sees_a_consistent_log_while_appends_go_on(fresh_db: Db) -> None:
    appending = True

    async def writer() -> None:
        stream, version = new_stream(), 0
        while appending:
            version = (
                await fresh_db.store.append(stream, new_events(2), expected_version=version)
            ).version

    writers = [asyncio.create_task(writer()) for _ in range(4)]
    checked: list[int] = []
    try:
        while len(checked) < 10 or checked[-1] == 0:
            await asyncio.sleep(0.005)
            await write_checkpoint(fresh_db.app, KEY)
            report = await verify(fresh_db.app, public_key=PUBLIC)
            assert report.ok, report.first_problem
            checked.append(report.events_checked)
    finally:
        appending = False
        await asyncio.gather(*writers)
    assert checked == sorted(checked)
