"""Group commit: the appends that arrive while one is in flight go to the database together.

Appends to the whole store serialise from the moment they take their positions until they commit
(the price of gap-safe reading; see append_events() in store/migrations/0001_event_store.sql), so
appends sent concurrently, one transaction each, would commit one WAL flush at a time. Instead,
a store runs one append transaction at a time, and the appends that arrive meanwhile wait and go
in the next one together (append_batches() in store/migrations/0006_group_commit.sql): one
lock of the log head and one flush for all of them. An append that finds nothing in flight goes
at once, alone; a waiting one waits at most for the transaction in flight.

A lone append keeps to append_events(), not a group of one: it is the common case, and the
group's bookkeeping (batch offsets, locking in stream order) would only add to its cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from store.errors import StoreError

if TYPE_CHECKING:
    import asyncpg

    from store.events import NewEvent

# Bounds on one group, so that one transaction stays short.
MAX_BATCHES: Final = 64
MAX_EVENTS: Final = 1000


@dataclass(frozen=True, slots=True)
class Batch:
    """One caller's append: `events` to `stream_id` at `expected_version`."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


# Each returns the database's answer per batch: a row with outcome, stream_version, positions and
# conflict_event_id (see append_events()).
AppendOne = Callable[[Batch], Awaitable["asyncpg.Record"]]
AppendMany = Callable[[Sequence[Batch]], Awaitable[list["asyncpg.Record"]]]


class GroupCommit:
    """Sends the batches of concurrent callers to the database in groups, one group at a time.

    `append_one` appends one batch (and raises the store's error for it); `append_many` appends
    several, to distinct streams, in one statement and returns their answers in order, or raises
    when the database refuses the statement as a whole. The batches of a refused group are then
    appended one by one, so that an error reaches only the caller whose batch caused it.
    """

    def __init__(
        self,
        append_one: AppendOne,
        append_many: AppendMany,
        *,
        max_batches: int = MAX_BATCHES,
        max_events: int = MAX_EVENTS,
    ) -> None:
        self._append_one = append_one
        self._append_many = append_many
        self._max_batches = max_batches
        self._max_events = max_events
        self._waiting: list[tuple[Batch, asyncio.Future[asyncpg.Record]]] = []
        self._busy = False  # an append transaction of this store is in flight
        self._sender: asyncio.Task[None] | None = None  # held: the loop keeps weak references

    async def append(self, batch: Batch) -> asyncpg.Record:
        if not self._busy:
            # Nothing in flight: this caller sends its batch itself, alone and at once (no task,
            # no hand-over: the common case of a quiet store costs what a plain call does).
            self._busy = True
            try:
                return await self._append_one(batch)
            finally:
                self._busy = False
                self._send_waiting()
        future: asyncio.Future[asyncpg.Record] = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, future))
        # A caller cancelled while waiting leaves the group; one cancelled while its group is
        # in flight does not stop the others' transaction (its outcome is then unknown to it,
        # as with any append interrupted mid-statement, and a retry of the batch is safe).
        return await future

    def _send_waiting(self) -> None:
        if self._waiting and not self._busy:
            self._busy = True
            self._sender = asyncio.create_task(self._send_all())

    async def _send_all(self) -> None:
        try:
            while self._waiting:
                group = self._next_group()
                try:
                    await self._send(group)
                finally:
                    _stopped(group)
        finally:
            self._busy, self._sender = False, None
            _stopped(self._waiting)
            self._waiting.clear()

    def _next_group(self) -> list[tuple[Batch, asyncio.Future[asyncpg.Record]]]:
        """The oldest waiting batches, within the bounds, one per stream: a second append to a
        stream waits for the next group, since its expected version follows from the first."""
        group: list[tuple[Batch, asyncio.Future[asyncpg.Record]]] = []
        streams: set[str] = set()
        events = 0
        left: list[tuple[Batch, asyncio.Future[asyncpg.Record]]] = []
        for entry in self._waiting:
            batch, future = entry
            if future.done():
                continue  # its caller was cancelled while it waited
            fits = len(group) < self._max_batches and (
                not group or events + len(batch.events) <= self._max_events
            )
            if fits and batch.stream_id not in streams:
                group.append(entry)
                streams.add(batch.stream_id)
                events += len(batch.events)
            else:
                left.append(entry)
        self._waiting = left
        return group

    async def _send(self, group: list[tuple[Batch, asyncio.Future[asyncpg.Record]]]) -> None:
        outcomes: list[asyncpg.Record] | None = None
        if len(group) > 1:
            try:
                outcomes = await self._append_many([batch for batch, _ in group])
            except Exception:
                outcomes = None  # each batch is appended alone below
        if outcomes is not None:
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            return
        # Alone, outside the handler above: an error raised for one batch must not carry the
        # group's error (whose text may quote another caller's data) as its context.
        for batch, future in group:
            try:
                outcome = await self._append_one(batch)
            except Exception as error:
                if not future.done():  # handed to the caller it belongs to
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(outcome)


def _stopped(entries: Sequence[tuple[Batch, asyncio.Future[asyncpg.Record]]]) -> None:
    """Only when the sending task itself is cancelled (its loop shutting down) can a caller be
    left without an answer: tell it rather than leave it waiting forever."""
    for _, future in entries:
        if not future.done():
            future.set_exception(StoreError("the event store stopped before this append"))
