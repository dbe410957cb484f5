"""Group commit: appends that wait while one is in flight are committed together, and each keeps
the outcome it would have had alone.

To make a group deterministically, a transaction on another connection holds the log head (an
append left open): the store's next append waits on it, and every append made meanwhile waits
in the store; when the open transaction commits, the one in flight commits alone and all the
others as one group. Events committed together share their recorded_at.
"""

from __future__ import annotations

import asyncio
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from store import statements as sql
from store.errors import DuplicateEventId, InvalidEvent, WrongExpectedVersion
from store.events import AppendResult, NewEvent
from store.integrity import verify
from store.pool import app_database_url
from tests.store.support import Db, hold_open_append, new_events, new_stream, waiting_on_locks

SECRET = "Xiaohong-Li-born-2016-09-02"


@asynccontextmanager
async def held_log_head(db: Db) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Holds the log head with an append left open until the yielded function commits it."""
    connection = await asyncpg.connect(app_database_url(db.url))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await hold_open_append(connection, new_stream())
        yield transaction.commit
    finally:
        await connection.close()


async def append_in_flight(db: Db) -> asyncio.Task[AppendResult]:
    """Starts an append of the store and returns once it waits on the held log head."""
    task = asyncio.create_task(db.store.append(new_stream(), new_events(1), expected_version=0))
    for _ in range(500):
        if await waiting_on_locks(db) == 1:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError("the append never waited on the log head")


async def appends_grouped_behind(
    db: Db, appends: list[Coroutine[Any, Any, AppendResult]]
) -> tuple[AppendResult, list[AppendResult | BaseException]]:
    """Runs `appends` while one other append of the store is in flight (waiting on the held log
    head): the first's result, and the outcomes of `appends`, which go as one group."""
    async with held_log_head(db) as commit:
        in_flight = await append_in_flight(db)
        waiting = [asyncio.create_task(append) for append in appends]
        await asyncio.sleep(0.1)
        assert not any(task.done() for task in [in_flight, *waiting])
        assert await waiting_on_locks(db) == 1  # the rest wait in the store, not on locks
        await commit()
        first = await in_flight
        return first, await asyncio.gather(*waiting, return_exceptions=True)


async def recorded_at_of(db: Db, positions: tuple[int, ...]) -> set[object]:
    rows = await db.owner.fetch(
        "SELECT recorded_at FROM events WHERE position = ANY($1)", list(positions)
    )
    return {row["recorded_at"] for row in rows}


async def test_appends_waiting_behind_one_in_flight_commit_together(fresh_db: Db) -> None:
    streams = [new_stream() for _ in range(6)]
    batches = [new_events(size) for size in (1, 3, 1, 2, 1, 5)]
    first, outcomes = await appends_grouped_behind(
        fresh_db,
        [
            fresh_db.store.append(stream, batch, expected_version=0)
            for stream, batch in zip(streams, batches, strict=True)
        ],
    )
    results = [outcome for outcome in outcomes if isinstance(outcome, AppendResult)]
    assert len(results) == len(outcomes)

    # Dense positions in commit order: the held append, the one in flight, then the group.
    assert first.positions == (2,)
    grouped = sorted(position for result in results for position in result.positions)
    assert grouped == list(range(3, 3 + sum(len(batch) for batch in batches)))
    assert len(await recorded_at_of(fresh_db, tuple(grouped))) == 1
    assert await recorded_at_of(fresh_db, first.positions) != await recorded_at_of(
        fresh_db, tuple(grouped)
    )
    for stream, batch, result in zip(streams, batches, results, strict=True):
        stored = await fresh_db.store.read_stream(stream)
        assert [event.event_id for event in stored] == [event.event_id for event in batch]
        assert [event.position for event in stored] == list(result.positions)
        assert result.version == len(batch)
    report = await verify(fresh_db.app, public_key=None)
    assert report.ok, report.first_problem


async def test_a_refused_batch_holds_no_other_of_its_group_back(fresh_db: Db) -> None:
    store = fresh_db.store
    moved_on, retried, taken = new_stream(), new_stream(), new_stream()
    await store.append(moved_on, new_events(2), expected_version=0)
    retry = new_events(2)
    stored_first = await store.append(retried, retry, expected_version=0)
    taken_events = new_events(1)
    await store.append(taken, taken_events, expected_version=0)
    good = [new_stream() for _ in range(3)]
    not_json = NewEvent(uuid.uuid4(), "Tested", 1, f'{{"name": "{SECRET}"', "{}")

    _, outcomes = await appends_grouped_behind(
        fresh_db,
        [
            store.append(good[0], new_events(1), expected_version=0),
            store.append(moved_on, new_events(1), expected_version=1),  # it is at 2
            store.append(good[1], new_events(2), expected_version=0),
            store.append(retried, retry, expected_version=0),  # a retry: the first result
            store.append(new_stream(), [not_json], expected_version=0),  # makes the group fail
            store.append(new_stream(), taken_events, expected_version=0),  # ids of another
            store.append(good[2], new_events(1), expected_version=0),
        ],
    )

    assert [type(outcome) for outcome in outcomes] == [
        AppendResult,
        WrongExpectedVersion,
        AppendResult,
        AppendResult,
        InvalidEvent,
        DuplicateEventId,
        AppendResult,
    ]
    assert outcomes[3] == stored_first
    for error in (outcome for outcome in outcomes if isinstance(outcome, Exception)):
        # No other caller's error, nor the database's, comes along with it.
        assert error.__context__ is None
        assert error.__cause__ is None
        assert SECRET not in "".join(traceback.format_exception(error))
    assert [await store.stream_version(stream) for stream in good] == [1, 2, 1]
    assert await store.stream_version(moved_on) == 2
    assert len(await store.read_stream(retried)) == 2
    report = await verify(fresh_db.app, public_key=None)
    assert report.ok, report.first_problem


async def test_a_second_append_to_a_stream_waits_for_the_next_group(fresh_db: Db) -> None:
    stream = new_stream()
    _, outcomes = await appends_grouped_behind(
        fresh_db,
        [
            fresh_db.store.append(stream, new_events(2), expected_version=0),
            fresh_db.store.append(stream, new_events(1), expected_version=2),
            fresh_db.store.append(stream, new_events(1), expected_version=2),
        ],
    )
    assert [type(outcome) for outcome in outcomes] == [
        AppendResult,
        AppendResult,
        WrongExpectedVersion,
    ]
    assert [event.version for event in await fresh_db.store.read_stream(stream)] == [1, 2, 3]
    report = await verify(fresh_db.app, stream_id=stream, public_key=None)
    assert report.ok, report.first_problem


async def test_an_append_cancelled_while_it_waits_is_not_made(fresh_db: Db) -> None:
    store = fresh_db.store
    kept, cancelled = new_stream(), new_stream()
    async with held_log_head(fresh_db) as commit:
        in_flight = await append_in_flight(fresh_db)
        waiting = asyncio.create_task(store.append(cancelled, new_events(1), expected_version=0))
        other = asyncio.create_task(store.append(kept, new_events(1), expected_version=0))
        await asyncio.sleep(0.1)
        waiting.cancel()
        await commit()
        await in_flight
        await other
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await store.stream_version(kept) == 1
    assert await store.stream_version(cancelled) == 0


async def test_append_batches_refuses_a_malformed_group(db: Db) -> None:
    stream = new_stream()
    events = new_events(2)
    columns = (
        [event.event_id for event in events],
        ["Tested"] * 2,
        [1] * 2,
        ['{"n": 1}'] * 2,
        ["{}"] * 2,
    )
    for streams, versions, sizes in (
        ([stream, stream], [0, 1], [1, 1]),  # one stream twice
        ([stream], [0], [1]),  # sizes that do not add up to the events
        ([stream, new_stream()], [0, -1], [1, 1]),  # a negative expected version
        ([stream, new_stream()], [0, 0], [2, 0]),  # an empty batch
    ):
        with pytest.raises(asyncpg.InvalidParameterValueError):
            await db.app.fetch(sql.APPEND_BATCHES, streams, versions, sizes, *columns)
    assert await db.store.stream_version(stream) == 0
