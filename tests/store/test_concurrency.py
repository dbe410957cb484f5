from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import asyncpg

from store.errors import WrongExpectedVersion
from store.events import AppendResult, StoredEvent
from store.pool import app_database_url
from tests.store.support import Db, hold_open_append, new_events, new_stream, waiting_on_locks


async def test_many_writers_on_one_stream_exactly_one_wins_each_version(db: Db) -> None:
    stream = new_stream()
    winners: list[uuid.UUID] = []
    for version in range(10):
        batches = [new_events(1) for _ in range(16)]
        outcomes = await asyncio.gather(
            *(db.store.append(stream, batch, expected_version=version) for batch in batches),
            return_exceptions=True,
        )
        won = [b for b, o in zip(batches, outcomes, strict=True) if isinstance(o, AppendResult)]
        assert len(won) == 1
        winners.append(won[0][0].event_id)
        for outcome in outcomes:
            if not isinstance(outcome, AppendResult):
                assert isinstance(outcome, WrongExpectedVersion)
                assert (outcome.expected, outcome.actual) == (version, version + 1)
    assert [e.event_id for e in await db.store.read_stream(stream)] == winners


async def test_writers_racing_on_one_stream_leave_it_contiguous(db: Db) -> None:
    stream = new_stream()
    wins: Counter[int] = Counter()
    conflicts: list[tuple[int, int]] = []

    async def writer(number: int) -> None:
        while wins[number] < 5:
            version = await db.store.stream_version(stream)
            try:
                await db.store.append(stream, new_events(1), expected_version=version)
            except WrongExpectedVersion as conflict:
                conflicts.append((conflict.expected, conflict.actual))
            else:
                wins[number] += 1

    await asyncio.gather(*(writer(n) for n in range(8)))
    stored = await db.store.read_stream(stream)
    assert [e.version for e in stored] == list(range(1, 41))
    assert len({e.event_id for e in stored}) == 40
    assert conflicts
    assert all(actual > expected for expected, actual in conflicts)


async def test_a_reader_of_the_global_log_misses_nothing_while_many_streams_are_written(
    fresh_db: Db,
) -> None:
    writing = True
    seen: list[StoredEvent] = []

    async def writer() -> int:
        stream, version = new_stream(), 0
        for _ in range(15):
            result = await fresh_db.store.append(
                stream, new_events(random.randint(1, 3)), expected_version=version
            )
            version = result.version
        return version

    async def reader() -> None:
        while True:
            done = not writing  # decided before reading, so the last page read is complete
            page = await fresh_db.store.read_all(after=seen[-1].position if seen else 0, limit=7)
            seen.extend(page)
            if done and not page:
                return
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    written = sum(await asyncio.gather(*(writer() for _ in range(16))))
    writing = False
    await reading

    assert [e.position for e in seen] == list(range(1, written + 1))
    assert len({e.event_id for e in seen}) == written
    assert seen == await fresh_db.store.read_all(limit=written + 1)
    versions: dict[str, int] = {}
    for event in seen:
        assert event.version == versions.get(event.stream_id, 0) + 1
        versions[event.stream_id] = event.version


async def test_an_append_committing_late_is_not_skipped(fresh_db: Db) -> None:
    store = fresh_db.store
    await store.append(new_stream(), new_events(2), expected_version=0)
    held = await asyncpg.connect(app_database_url(fresh_db.url))
    try:
        transaction = held.transaction()
        await transaction.start()
        slow_stream = new_stream()
        assert await hold_open_append(held, slow_stream) == 3

        later = [
            asyncio.create_task(store.append(new_stream(), new_events(2), expected_version=0))
            for _ in range(3)
        ]
        _, pending = await asyncio.wait(later, timeout=1.0)
        # The later appends wait for the open one: none of them has taken a position. One
        # waits on the log head's lock; the store holds the others back for its next group.
        assert len(pending) == 3
        assert await waiting_on_locks(fresh_db) == 1
        assert [e.position for e in await store.read_all()] == [1, 2]

        await transaction.commit()
        results = await asyncio.gather(*later)
    finally:
        await held.close()

    log = await store.read_all()
    assert [e.position for e in log] == list(range(1, 10))
    assert log[2].stream_id == slow_stream
    assert sorted(p for r in results for p in r.positions) == list(range(4, 10))


async def test_an_append_rolled_back_gives_its_positions_back(fresh_db: Db) -> None:
    store = fresh_db.store
    held = await asyncpg.connect(app_database_url(fresh_db.url))
    try:
        transaction = held.transaction()
        await transaction.start()
        slow_stream = new_stream()
        await hold_open_append(held, slow_stream)
        later = asyncio.create_task(store.append(new_stream(), new_events(2), expected_version=0))
        await asyncio.sleep(0.3)
        assert not later.done()
        assert await store.read_all() == []
        await transaction.rollback()
        result = await later
    finally:
        await held.close()

    assert result.positions == (1, 2)
    assert [e.position for e in await store.read_all()] == [1, 2]
    assert await store.stream_version(slow_stream) == 0
