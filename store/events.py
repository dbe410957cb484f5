"""The event store: append events to a stream, read a stream, read the global log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg

from store import statements as sql
from store.errors import (
    DuplicateEventId,
    IntegrityViolation,
    InvalidEvent,
    StoreError,
    WrongExpectedVersion,
)
from store.group_commit import Batch, GroupCommit

# Every append notifies this channel with the last position it wrote (no data).
EVENTS_CHANNEL: Final = "caseflow_events"


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_id: UUID
    type: str
    schema_version: int
    data: str  # JSON text, stored and hashed byte for byte
    metadata: str  # JSON text: actor, role, area, causation, correlation, ... (opaque here)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime
    hash: bytes


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    version: int  # the stream's version after the append
    positions: tuple[int, ...]


def stored_event(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["type"],
        schema_version=row["schema_version"],
        data=row["data"],
        metadata=row["metadata"],
        recorded_at=row["recorded_at"],
        hash=row["hash"],
    )


class EventStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._group_commit = GroupCommit(self._append_one, self._append_many)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], *, expected_version: int
    ) -> AppendResult:
        """Append `events` to `stream_id` if it is at `expected_version` (0: a new stream).

        Appending the same batch again (same event ids, same order, already in this stream)
        writes nothing and returns the first append's result.
        """
        if not stream_id:
            raise ValueError("stream_id must not be empty")
        if not events:
            raise ValueError(f"append to stream {stream_id} needs at least one event")
        if expected_version < 0:
            raise ValueError(f"expected_version must be 0 or more, not {expected_version}")
        event_ids = [event.event_id for event in events]
        if len(set(event_ids)) != len(event_ids):
            twice = next(i for i in event_ids if event_ids.count(i) > 1)
            raise InvalidEvent(f"the batch for stream {stream_id} holds event {twice} twice")

        row = await self._group_commit.append(Batch(stream_id, expected_version, events))
        outcome = row["outcome"]
        if outcome == "wrong_expected_version":
            raise WrongExpectedVersion(stream_id, expected_version, row["stream_version"])
        if outcome == "duplicate_event_id":
            raise DuplicateEventId(stream_id, row["conflict_event_id"])
        return AppendResult(stream_id, row["stream_version"], tuple(row["positions"]))

    async def _append_one(self, batch: Batch) -> asyncpg.Record:
        stream_id, events = batch.stream_id, batch.events
        event_ids = [event.event_id for event in events]
        # Errors are raised outside the `except` blocks so that the server's error, whose
        # message or context may quote the data, is not kept as their context.
        problem: StoreError | None = None
        try:
            row = await self._pool.fetchrow(
                sql.APPEND_EVENTS,
                stream_id,
                batch.expected_version,
                event_ids,
                [event.type for event in events],
                [event.schema_version for event in events],
                [event.data for event in events],
                [event.metadata for event in events],
            )
        except asyncpg.DataError as error:
            problem, row = InvalidEvent(_refusal(stream_id, events, error.sqlstate)), None
        except asyncpg.DataCorruptedError as error:
            problem, row = IntegrityViolation(error.message), None  # names stream and version
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != sql.EVENT_ID_CONSTRAINT:
                raise
            # One of these ids is stored already (by another stream, or by a concurrent append of
            # this batch): stored_batch() tells which, as append_events() does for a retry.
            row = await self._pool.fetchrow(sql.STORED_BATCH, stream_id, event_ids)
            problem = StoreError(f"append to stream {stream_id} met a concurrent one: retry it")
        if row is None:
            assert problem is not None
            raise problem
        return row

    async def _append_many(self, batches: Sequence[Batch]) -> list[asyncpg.Record]:
        events = [event for batch in batches for event in batch.events]
        rows = await self._pool.fetch(
            sql.APPEND_BATCHES,
            [batch.stream_id for batch in batches],
            [batch.expected_version for batch in batches],
            [len(batch.events) for batch in batches],
            [event.event_id for event in events],
            [event.type for event in events],
            [event.schema_version for event in events],
            [event.data for event in events],
            [event.metadata for event in events],
        )
        return sorted(rows, key=lambda row: row["batch"])

    async def read_stream(
        self,
        stream_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[StoredEvent]:
        """The stream's events in version order; with `as_of`, only those recorded by then."""
        rows = await self._pool.fetch(sql.SELECT_STREAM, stream_id, from_version, to_version, as_of)
        return [stored_event(row) for row in rows]

    async def read_stream_payloads(
        self, stream_id: str, *, as_of: datetime | None = None
    ) -> list[asyncpg.Record]:
        """The stream's events in version order as records of the five columns decoding needs:
        event_id, type, schema_version, data, metadata (by index or name). For replay: cheaper
        than `read_stream` (no position, hash or time fetched, no `StoredEvent` built)."""
        return await self._pool.fetch(sql.SELECT_STREAM_PAYLOADS, stream_id, as_of)

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version, 0 if it has no events."""
        version = await self._pool.fetchval(sql.SELECT_STREAM_VERSION, stream_id)
        return int(version) if version is not None else 0

    async def read_all(self, *, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of all streams in position order, from the one after position `after`.

        Gap-safe: an event that commits late is never passed over (see append_events() in
        store/migrations/0001_event_store.sql), so a reader may resume from the last position
        it saw.
        """
        rows = await self._pool.fetch(sql.SELECT_LOG, after, limit)
        return [stored_event(row) for row in rows]

    async def stream_ids(
        self, *, prefix: str = "", after: str = "", limit: int = 1000
    ) -> list[str]:
        """Ids of streams with events in order, those starting with `prefix`, after `after`."""
        rows = await self._pool.fetch(sql.SELECT_STREAM_IDS, after, prefix, limit)
        return [row["stream_id"] for row in rows]


def _refusal(stream_id: str, events: Sequence[NewEvent], sqlstate: str) -> str:
    for event in events:
        for text in (event.data, event.metadata):
            try:
                json.loads(text)
            except ValueError:
                return f"event {event.event_id} for stream {stream_id}: data or metadata not JSON"
    ids = ", ".join(str(event.event_id) for event in events)
    return (
        f"PostgreSQL refused the data or metadata of the batch for stream {stream_id} "
        f"(SQLSTATE {sqlstate}); event ids: {ids}"
    )
