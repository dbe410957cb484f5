"""The projector: keeps every projection current with the event log, each event applied once.

Each projection reads the global log from its own position in `projection_positions`, in
batches. A batch is one transaction: the events are decoded (upcast) and folded into their
cases' states with `domain.state.apply`, the projection's handler applies each one, and the
folded states and the new position are stored before the commit. Appends NOTIFY
`EVENTS_CHANNEL`; the projector LISTENs on a connection of its own and also polls, so a lost
notification (or a dropped listening connection) delays it by one poll interval at most.

An event that does not decode, or does not follow its case's state, stops its projection at
the position before it (the error names the event, never its data); the other projections go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ValidationError

from caseflow.logs import get_logger
from domain.codec import case_stream_id, decode
from domain.state import CaseState, apply
from store import statements as store_sql
from store.events import EVENTS_CHANNEL, StoredEvent, stored_event
from store.projections.base import (
    Connection,
    ProjectedEvent,
    Projection,
    ProjectionError,
    describe_failure,
)
from store.projections.registry import PROJECTIONS, projection_named

log = get_logger(__name__)

DEFAULT_BATCH_SIZE: Final = 500
POLL_INTERVAL: Final = 1.5  # seconds between looks at the log when no notification comes
MAX_RETRY_DELAY: Final = 60.0  # seconds, for a projection whose last batch failed
ROUND_BATCHES: Final = 10  # batches per projection before the others get their turn

ENSURE_POSITIONS: Final = """
INSERT INTO projection_positions (name) SELECT unnest($1::text[])
ON CONFLICT (name) DO NOTHING
"""
LOCK_POSITION: Final = "SELECT position FROM projection_positions WHERE name = $1 FOR UPDATE"
SAVE_POSITION: Final = """
UPDATE projection_positions SET position = $2, updated_at = now() WHERE name = $1
"""
SELECT_POSITIONS: Final = "SELECT name, position FROM projection_positions ORDER BY name"
SELECT_STATES: Final = """
SELECT case_id, state::text AS state FROM projected_cases
WHERE projection = $1 AND case_id = ANY ($2::uuid[])
"""
SAVE_STATES: Final = """
INSERT INTO projected_cases (projection, case_id, version, position, state)
SELECT $1, s.case_id, s.version, s.position, s.state::jsonb
FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::text[])
    AS s (case_id, version, position, state)
ON CONFLICT (projection, case_id) DO UPDATE SET
    version = excluded.version, position = excluded.position, state = excluded.state
"""
DELETE_STATES: Final = "DELETE FROM projected_cases WHERE projection = $1"


@dataclass(frozen=True, slots=True)
class Progress:
    projection: str
    position: int
    head: int  # the log's last position when the rebuild began


class Projector:
    def __init__(
        self,
        pool: asyncpg.Pool,
        projections: Sequence[Projection] = PROJECTIONS,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = POLL_INTERVAL,
        listen: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
        self._pool = pool
        self._projections = tuple(projections)
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._listen = listen
        self._positions_ensured = False
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        # Set once `run` listens (when it does) and has been through the log once.
        self.ready = asyncio.Event()

    async def catch_up(self, *, max_batches: int = 10_000) -> bool:
        """Apply what the log holds past each projection's position. True when some projection
        is still behind after `max_batches` batches (call again). Raises what a batch raised."""
        behind = False
        for projection in self._projections:
            behind |= await self._catch_up(projection, max_batches=max_batches)
        return behind

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the projections current until `stop` is set."""
        wake = asyncio.Event()
        listener = _Listener(self._pool, wake) if self._listen else None
        log.info(
            "projector_started",
            projections=[projection.name for projection in self._projections],
            batch_size=self._batch_size,
            listen=self._listen,
            poll_interval_seconds=self._poll_interval,
        )
        try:
            while not stop.is_set():  # until told to stop: this is the process's service loop
                if listener is not None:
                    await listener.ensure()
                wake.clear()
                behind = await self._round(stop)
                self.ready.set()
                if not behind:
                    await _first_of((wake, stop), seconds=self._poll_interval)
        finally:
            if listener is not None:
                await listener.close()
            log.info("projector_stopped")

    async def _round(self, stop: asyncio.Event) -> bool:
        """One turn at every projection not waiting to retry; True when one is still behind."""
        behind = False
        now = asyncio.get_running_loop().time()
        for projection in self._projections:
            name = projection.name
            if stop.is_set():
                return False
            if self._retry_at.get(name, 0.0) > now:
                continue
            try:
                behind |= await self._catch_up(projection, max_batches=ROUND_BATCHES)
            except Exception as error:  # one projection failing must not stop the others
                failures = self._failures[name] = self._failures.get(name, 0) + 1
                delay = min(MAX_RETRY_DELAY, self._poll_interval * 2**failures)
                self._retry_at[name] = now + delay
                log.error(
                    "projection_failed",
                    projection=name,
                    error=describe_failure(error),
                    retry_in_seconds=round(delay, 1),
                    exc_info=not isinstance(error, ProjectionError),
                )
            else:
                if self._failures.pop(name, None) is not None:
                    log.info("projection_recovered", projection=name)
                self._retry_at.pop(name, None)
        return behind

    async def _catch_up(self, projection: Projection, *, max_batches: int) -> bool:
        await self.ensure_positions()
        for _ in range(max_batches):
            position, count = await self.step(projection)
            if count:
                log.debug("projection_advanced", projection=projection.name, to=position, n=count)
            if count < self._batch_size:
                return False
        return True

    async def step(self, projection: Projection) -> tuple[int, int]:
        """Apply one batch to `projection`: its position after the batch, and how many events
        the batch held (fewer than the batch size: the projection has reached the log's end).

        When an event cannot be applied, the events before it are applied (as a batch of their
        own) and the error raised: the projection stops right before that event.
        """
        try:
            return await self._apply_batch(projection, self._batch_size)
        except _Stopped as stopped:
            if stopped.index > 0:
                with contextlib.suppress(_Stopped):
                    await self._apply_batch(projection, stopped.index)
            raise stopped.error from stopped.error.__cause__

    async def _apply_batch(self, projection: Projection, size: int) -> tuple[int, int]:
        name = projection.name
        async with self._pool.acquire() as connection, connection.transaction():
            # Exactly once. The position row is locked FOR UPDATE before the log is read, and the
            # batch's read-model changes, folded states and new position commit together: a batch
            # that fails, or is cancelled, or whose process dies, leaves all three as they were,
            # and the next attempt starts from the same position. Two projectors (or a projector
            # and a rebuild) on the same projection take turns on the row lock, and the second
            # reads the position the first committed, so neither applies an event twice. The log
            # is gap-safe (see store/events.py read_all), so reading from the stored position
            # never passes over an event committed late.
            position = await connection.fetchval(LOCK_POSITION, name)
            if position is None:
                raise ProjectionError(f"projection {name} has no position: run `caseflow migrate`")
            rows = await connection.fetch(store_sql.SELECT_LOG, position, size)
            if not rows:
                return position, 0
            events = [stored_event(row) for row in rows]
            states = await _load_states(connection, name, events)
            folded: dict[UUID, tuple[CaseState, int]] = {}
            for index, stored in enumerate(events):
                try:
                    case_id = _case_id(name, stored)
                    projected = _projected(name, stored, states.get(case_id))
                    await projection.handle(connection, projected)
                except Exception as error:
                    if not isinstance(error, ProjectionError):
                        error.add_note(
                            f"projection {name}, event {stored.event_id} ({stored.type}) at "
                            f"position {stored.position}"
                        )
                    raise _Stopped(index, error) from None
                states[case_id] = projected.after
                folded[case_id] = (projected.after, stored.position)
            await connection.execute(
                SAVE_STATES,
                name,
                list(folded),
                [state.version for state, _ in folded.values()],
                [at for _, at in folded.values()],
                [_state_json(state) for state, _ in folded.values()],
            )
            position = events[-1].position
            await connection.execute(SAVE_POSITION, name, position)
        return position, len(events)

    async def ensure_positions(self) -> None:
        """Give every projection of this projector a position row (at 0) if it has none."""
        if not self._positions_ensured:
            names = [projection.name for projection in self._projections]
            await self._pool.execute(ENSURE_POSITIONS, names)
            self._positions_ensured = True


async def rebuild(
    pool: asyncpg.Pool,
    name: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
) -> int:
    """Empty projection `name` and replay the log into it from the start, up to the log's head
    as it was when the rebuild began (a running projector carries on from there). Returns the
    projection's position at the end."""
    projection = projection_named(name)
    projector = Projector(pool, (projection,), batch_size=batch_size, listen=False)
    await projector.ensure_positions()
    async with pool.acquire() as connection, connection.transaction():
        # The position row first, as every batch takes it: a batch in flight finishes before
        # the tables are emptied, and none starts until the position is back at 0.
        await connection.fetchval(LOCK_POSITION, name)
        await connection.execute(f"TRUNCATE {', '.join(projection.tables)}")
        await connection.execute(DELETE_STATES, name)
        await connection.execute(SAVE_POSITION, name, 0)
    head = await log_head(pool)
    log.info("projection_rebuild_started", projection=name, head=head)
    position = 0
    # Each batch moves the position on by at least one event while it is below the head (the
    # log's positions are dense), so this many batches reach it.
    for _ in range(head // batch_size + 2):
        if position >= head:
            break
        position, count = await projector.step(projection)
        if on_progress is not None:
            on_progress(Progress(name, min(position, head), head))
        if count == 0:
            break
    log.info("projection_rebuilt", projection=name, position=position)
    return position


async def positions(pool: asyncpg.Pool) -> dict[str, int]:
    """How far into the log each projection has read."""
    return {row["name"]: row["position"] for row in await pool.fetch(SELECT_POSITIONS)}


async def log_head(pool: asyncpg.Pool) -> int:
    """The log's last position."""
    return int(await pool.fetchval(store_sql.SELECT_LOG_HEAD))


async def _load_states(
    connection: Connection, name: str, events: Iterable[StoredEvent]
) -> dict[UUID, CaseState]:
    case_ids = list({_case_id(name, stored) for stored in events})
    rows = await connection.fetch(SELECT_STATES, name, case_ids)
    return {row["case_id"]: CaseState.model_validate_json(row["state"]) for row in rows}


def _state_json(state: CaseState) -> str:
    """The state as JSON, its sets sorted. Pydantic writes a set in iteration order, which for
    strings follows their hashes, and those differ from process to process: sorted, a rebuild in
    another process stores the very same text."""
    dumped = state.model_dump(mode="json")
    _sort_sets(state, dumped)
    return json.dumps(dumped, ensure_ascii=False, separators=(",", ":"))


def _sort_sets(value: object, dumped: object) -> None:
    """Sort, in `dumped` (the JSON form of `value`), every list that holds a set of `value`."""
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        for name in type(value).model_fields:
            item = getattr(value, name)
            if isinstance(item, set | frozenset):
                dumped[name] = sorted(dumped[name], key=json.dumps)
            else:
                _sort_sets(item, dumped[name])
    elif isinstance(value, dict) and isinstance(dumped, dict):
        for key, item in value.items():
            _sort_sets(item, dumped[str(key)])
    elif isinstance(value, list | tuple) and isinstance(dumped, list):
        for item, out in zip(value, dumped, strict=True):
            _sort_sets(item, out)


def _case_id(name: str, stored: StoredEvent) -> UUID:
    """The case whose stream holds `stored` (`_projected` checks it against the case's state)."""
    try:
        return UUID(stored.stream_id.partition("-")[2])
    except ValueError:
        raise ProjectionError(
            f"projection {name}: event {stored.event_id} at position {stored.position} is in "
            f"stream {stored.stream_id}, which is not a case's stream"
        ) from None


def _projected(name: str, stored: StoredEvent, before: CaseState | None) -> ProjectedEvent:
    """The stored event decoded and folded into its case's state."""
    where = (
        f"projection {name}: event {stored.event_id} ({stored.type}) at position {stored.position}"
    )
    try:
        event = decode(
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            data=stored.data,
            metadata=stored.metadata,
        )
        after = apply(before, event)
    except Exception as error:
        # A validation error's own message quotes the event's data: it is not kept as the cause.
        cause = None if isinstance(error, ValidationError) else error
        raise ProjectionError(f"{where} {describe_failure(error)}") from cause
    if case_stream_id(after.case_id) != stored.stream_id or after.version != stored.version:
        raise ProjectionError(
            f"{where} is version {stored.version} of stream {stored.stream_id}, but folds into "
            f"version {after.version} of case {after.case_id}"
        )
    return ProjectedEvent(
        position=stored.position,
        stream_id=stored.stream_id,
        version=stored.version,
        event_id=stored.event_id,
        recorded_at=stored.recorded_at,
        event=event,
        before=before,
        after=after,
    )


class _Stopped(Exception):
    """The event at `index` of a batch could not be applied (`error` says why)."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class _Listener:
    """LISTEN on EVENTS_CHANNEL on a pool connection held for it, taken again when it drops."""

    def __init__(self, pool: asyncpg.Pool, wake: asyncio.Event) -> None:
        self._pool = pool
        self._wake = wake
        self._connection: asyncpg.pool.PoolConnectionProxy | None = None

    async def ensure(self) -> None:
        if self._connection is not None:
            if not self._connection.is_closed():
                return
            log.warning("projector_listen_lost")
            await self.close()
        try:
            connection = await self._pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("projector_listen_failed", error=type(error).__name__)
            return
        try:
            await connection.add_listener(EVENTS_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("projector_listen_failed", error=type(error).__name__)
            await self._pool.release(connection)
            return
        self._connection = connection
        self._wake.set()  # whatever was appended before we listened is read on this turn

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await connection.remove_listener(EVENTS_CHANNEL, self._notified)
        await self._pool.release(connection)

    def _notified(
        self,
        connection: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        pid: int,
        channel: str,
        payload: object,
    ) -> None:
        self._wake.set()


async def _first_of(events: Iterable[asyncio.Event], *, seconds: float) -> None:
    """Wait until one of `events` is set, or `seconds` have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
