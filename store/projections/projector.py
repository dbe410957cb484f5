"""The projector: keeps every projection current with the event log, each event applied once.

Each projection reads the global log from its own position in `projection_positions`, in
batches. A batch is one transaction: the events are decoded (upcast) and folded into their
cases' states with `domain.state.apply`, each projection's `Changes` take them in, in memory, and
write them set-based (a few statements a batch), and the folded states and the new position are
stored before the commit. Appends NOTIFY `EVENTS_CHANNEL`; the projector LISTENs on a connection
of its own and also polls, so a lost notification (or a dropped listening connection) delays it
by one poll interval at most.

Projections standing at the same position (all of them, after a rebuild of all from zero or
once caught up) take their batches together: one transaction locks all their positions, reads
the log once, decodes each event once, and hands it to every one of them. Each projection keeps
folded states of its own (so that it can be rebuilt alone). At the same position they are the
fold of the same events, and so the same, unless the fold changed in between: a projection
rebuilt after `domain.state.apply` or an upcaster changed holds the new fold's states, the
others the old one's. So the batch reads the states of all of them, and folds each event once
for each set of projections holding the same states (once in all, as a rule): each goes on from
its own states, as it would alone.

An event that does not decode, or does not follow its case's state, stops its projection at
the position before it (the error names the event, never its data); the other projections go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Final
from uuid import UUID

import asyncpg
import pydantic
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from caseflow.logs import get_logger
from domain.codec import case_stream_id, decode
from domain.events import CaseEvent
from domain.state import CaseState, apply
from store import statements as store_sql
from store.events import EVENTS_CHANNEL
from store.projections.base import (
    Changes,
    Connection,
    ProjectedEvent,
    Projection,
    ProjectionError,
    describe_failure,
)
from store.projections.registry import PROJECTIONS, projection_named

log = get_logger(__name__)

DEFAULT_BATCH_SIZE: Final = 5000  # events; a case touched often within a batch is stored once
POLL_INTERVAL: Final = 1.5  # seconds between looks at the log when no notification comes
MAX_RETRY_DELAY: Final = 60.0  # seconds, for a projection whose last batch failed
ROUND_BATCHES: Final = 10  # batches per projection before the service loop looks around

ENSURE_POSITIONS: Final = """
INSERT INTO projection_positions (name) SELECT unnest($1::text[])
ON CONFLICT (name) DO NOTHING
"""
# Rows are locked in the order they are returned: by name, whoever locks several at once.
LOCK_POSITIONS: Final = """
SELECT name, position FROM projection_positions WHERE name = ANY ($1::text[])
ORDER BY name
FOR UPDATE
"""
SAVE_POSITIONS: Final = """
UPDATE projection_positions SET position = $2, updated_at = now() WHERE name = ANY ($1::text[])
"""
SELECT_POSITIONS: Final = "SELECT name, position FROM projection_positions ORDER BY name"
# Each distinct state of a case once, with the projections holding it.
SELECT_STATES: Final = """
SELECT case_id, state::text AS state, array_agg(projection) AS projections
FROM projected_cases
WHERE projection = ANY ($1::text[]) AND case_id = ANY ($2::uuid[])
GROUP BY case_id, projected_cases.state
"""
# Each state is parsed once ($5 is jsonb[]) and stored for every projection of the fold.
SAVE_STATES: Final = """
INSERT INTO projected_cases (projection, case_id, version, position, state)
SELECT p.name, s.case_id, s.version, s.position, s.state
FROM unnest($1::text[]) AS p (name)
CROSS JOIN unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::jsonb[])
    AS s (case_id, version, position, state)
ON CONFLICT (projection, case_id) DO UPDATE SET
    version = excluded.version, position = excluded.position, state = excluded.state
"""
DELETE_STATES: Final = "DELETE FROM projected_cases WHERE projection = ANY ($1::text[])"


@dataclass(frozen=True, slots=True)
class Progress:
    """A batch of a rebuild: the log read once, and the projections it moved on together."""

    projections: tuple[str, ...]
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
        names = [projection.name for projection in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"a projector takes each projection once, not {names}")
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
        is still behind after `max_batches` batches (call again). When a batch fails, the other
        projections still go on; then the first failure is raised."""
        behind, failures = await self._advance(self._projections, max_batches=max_batches)
        for error in failures.values():
            raise error
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
        """A few batches of every projection not waiting to retry; True when one is behind."""
        now = asyncio.get_running_loop().time()
        due = [p for p in self._projections if self._retry_at.get(p.name, 0.0) <= now]
        behind, failures = await self._advance(due, max_batches=ROUND_BATCHES, stop=stop)
        for projection in due:
            name = projection.name
            error = failures.get(name)
            if error is not None:  # one projection failing must not stop the others
                count = self._failures[name] = self._failures.get(name, 0) + 1
                delay = min(MAX_RETRY_DELAY, self._poll_interval * 2**count)
                self._retry_at[name] = now + delay
                log.error(
                    "projection_failed",
                    projection=name,
                    error=describe_failure(error),
                    retry_in_seconds=round(delay, 1),
                    exc_info=error if not isinstance(error, ProjectionError) else False,
                )
            else:
                if self._failures.pop(name, None) is not None:
                    log.info("projection_recovered", projection=name)
                self._retry_at.pop(name, None)
        return behind and not stop.is_set()

    async def _advance(
        self,
        projections: Sequence[Projection],
        *,
        max_batches: int,
        stop: asyncio.Event | None = None,
        until: int | None = None,
        on_batch: Callable[[tuple[str, ...], int], None] | None = None,
    ) -> tuple[bool, dict[str, Exception]]:
        """Up to `max_batches` batches of each of `projections`, those at the same position
        together; with `until`, none for a projection standing there or past it. Whether one
        is still behind, and what each failing one raised (it stops there; the others go on).
        `on_batch` is told, after each batch, which projections it moved on and to where."""
        await self.ensure_positions()
        active = list(projections)
        failures: dict[str, Exception] = {}
        for _ in range(max_batches):
            if not active or (stop is not None and stop.is_set()):
                break
            at = await positions(self._pool)
            if until is not None:
                active = [p for p in active if at.get(p.name, 0) < until]
            groups: dict[int, list[Projection]] = {}
            for projection in active:
                groups.setdefault(at.get(projection.name, 0), []).append(projection)
            behind: set[str] = set()
            for group in groups.values():
                behind |= await self._step_group(group, failures, on_batch)
            active = [projection for projection in active if projection.name in behind]
        return bool(active), failures

    async def _step_group(
        self,
        group: Sequence[Projection],
        failures: dict[str, Exception],
        on_batch: Callable[[tuple[str, ...], int], None] | None,
    ) -> set[str]:
        """One batch of `group` (together when it is more than one); the names of those that
        may be behind still. A projection's failure is put in `failures`."""
        if len(group) > 1:
            try:
                position, count = await self._apply_batch(group, self._batch_size)
            except _Moved:  # another projector moved some of them on: look again
                return {projection.name for projection in group}
            except Exception as error:
                # Which of them cannot go on, and from where: each finds out alone.
                log.debug("projection_batch_split", error=describe_failure(error))
            else:
                if count:
                    names = tuple(projection.name for projection in group)
                    log.debug("projection_advanced", projections=names, to=position, n=count)
                    if on_batch is not None:
                        on_batch(names, position)
                return {p.name for p in group} if count >= self._batch_size else set()
        behind: set[str] = set()
        for projection in group:
            try:
                position, count = await self.step(projection)
            except Exception as error:
                failures[projection.name] = error
                continue
            if count:
                log.debug("projection_advanced", projection=projection.name, to=position, n=count)
                if on_batch is not None:
                    on_batch((projection.name,), position)
            if count >= self._batch_size:
                behind.add(projection.name)
        return behind

    async def step(self, projection: Projection) -> tuple[int, int]:
        """Apply one batch to `projection`: its position after the batch, and how many events
        the batch held (fewer than the batch size: the projection has reached the log's end).

        When an event cannot be applied, the events before it are applied (as a batch of their
        own) and the error raised: the projection stops right before that event. When the
        batch's writes fail without naming the event at fault, its events are applied again one
        batch each, up to the one that fails.
        """
        try:
            return await self._apply_batch((projection,), self._batch_size)
        except _Stopped as stopped:
            if stopped.index is None:
                applied = 0
                with contextlib.suppress(_Stopped):
                    while applied < stopped.count:
                        position, count = await self._apply_batch((projection,), 1)
                        if count == 0:
                            break
                        applied += 1
                if applied == stopped.count:  # it did not fail again: the batch is through
                    return position, applied
            elif stopped.index > 0:
                with contextlib.suppress(_Stopped):
                    await self._apply_batch((projection,), stopped.index)
            raise stopped.error from stopped.error.__cause__

    async def _apply_batch(self, projections: Sequence[Projection], size: int) -> tuple[int, int]:
        """Up to `size` events past the projections' position, applied to each of them in one
        transaction; they must all stand at the same position. (`size` 0: just the position.)"""
        names = sorted(projection.name for projection in projections)
        label = "projection " + ", ".join(names)
        async with self._pool.acquire() as connection, connection.transaction():
            # Exactly once. The position rows are locked FOR UPDATE before the log is read, and
            # the batch's read-model changes, folded states and new positions commit together: a
            # batch that fails, or is cancelled, or whose process dies, leaves all three as they
            # were, and the next attempt starts from the same position. Two projectors (or a
            # projector and a rebuild) on the same projection take turns on the row lock, and
            # the second reads the position the first committed, so neither applies an event
            # twice; rows are locked in name order, so two batches locking several never wait
            # for each other in a circle. The log is gap-safe (see store/events.py read_all,
            # whose query this is), so reading from the stored position never passes over an
            # event committed late.
            locked = await connection.fetch(LOCK_POSITIONS, names)
            if len(locked) != len(names):
                missing = sorted(set(names) - {row["name"] for row in locked})
                raise ProjectionError(
                    f"projection {', '.join(missing)} has no position: run `caseflow migrate`"
                )
            standing = {row["position"] for row in locked}
            if len(standing) != 1:
                raise _Moved
            (position,) = standing
            if size == 0:
                return position, 0
            rows = await connection.fetch(store_sql.SELECT_LOG, position, size)
            if not rows:
                return position, 0
            # The rows as they are: a StoredEvent for each would cost ≈ 3 µs an event, a tenth
            # of all the projector spends on one.
            events = rows
            streams = {name: _Stream.of(name) for name in {row["stream_id"] for row in events}}
            changes = [(projection.name, projection.changes()) for projection in projections]
            folds = await _load_folds(connection, changes, streams.values())
            for index, stored in enumerate(events):
                stream = streams[stored["stream_id"]]
                event: CaseEvent | None = None  # decoded for the first fold, then shared
                for shared in folds:
                    try:
                        projected = _projected(label, stored, stream, shared.states, event)
                    except Exception as error:
                        raise _Stopped(index, error, len(events)) from None
                    event = projected.event
                    for name, change in shared.changes:
                        try:
                            change.add(projected)
                        except Exception as error:
                            if not isinstance(error, ProjectionError):
                                error.add_note(f"projection {name}, {_which(stored)}")
                            raise _Stopped(index, error, len(events)) from None
                    after = projected.after
                    shared.states[after.case_id] = after
                    shared.folded[after.case_id] = (after, stored["position"])
            for _, change in changes:
                try:
                    await change.write(connection)
                except ProjectionError as error:
                    at_fault = _index_of(events, error.position)
                    raise _Stopped(at_fault, error, len(events)) from None
                except (asyncpg.PostgresError, ValueError) as error:
                    raise _Stopped(None, error, len(events)) from None
            for shared in folds:
                await connection.execute(
                    SAVE_STATES,
                    shared.names,
                    list(shared.folded),
                    [state.version for state, _ in shared.folded.values()],
                    [at for _, at in shared.folded.values()],
                    [_state_json(state) for state, _ in shared.folded.values()],
                )
            position = events[-1]["position"]
            await connection.execute(SAVE_POSITIONS, names, position)
        return position, len(events)

    async def ensure_positions(self) -> None:
        """Give every projection of this projector a position row (at 0) if it has none."""
        if not self._positions_ensured:
            names = [projection.name for projection in self._projections]
            await self._pool.execute(ENSURE_POSITIONS, names)
            self._positions_ensured = True


async def reset(pool: asyncpg.Pool, names: Sequence[str]) -> None:
    """Empty the tables and folded states of the projections `names` and set their positions
    back to 0, in one transaction: the projector then replays the log into them from the start.
    """
    projections = [projection_named(name) for name in names]
    await Projector(pool, projections, listen=False).ensure_positions()
    sorted_names = sorted(names)
    tables = [table for projection in projections for table in projection.tables]
    async with pool.acquire() as connection, connection.transaction():
        # The position rows first, as every batch takes them: a batch in flight finishes before
        # the tables are emptied, and none starts until the positions are back at 0.
        await connection.fetch(LOCK_POSITIONS, sorted_names)
        await connection.execute(f"TRUNCATE {', '.join(tables)}")
        await connection.execute(DELETE_STATES, sorted_names)
        await connection.execute(SAVE_POSITIONS, sorted_names, 0)


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
    reached = await rebuild_together(pool, (name,), batch_size=batch_size, on_progress=on_progress)
    return reached[name]


async def rebuild_together(
    pool: asyncpg.Pool,
    names: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, int]:
    """Empty the projections `names` and replay the log into them from the start, up to the
    log's head as it was when the rebuild began (a running projector carries on from there).
    Emptied at once, they stand at the same position and take each batch together: the log is
    read, decoded and folded once for all of them. When one fails, the others go on to the
    head; then the first failure is raised. Returns each projection's position at the end."""
    projections = [projection_named(name) for name in names]
    projector = Projector(pool, projections, batch_size=batch_size, listen=False)
    await reset(pool, names)
    head = await log_head(pool)
    log.info("projection_rebuild_started", projections=list(names), head=head)

    def advanced(batch: tuple[str, ...], position: int) -> None:
        if on_progress is not None:
            on_progress(Progress(batch, min(position, head), head))

    # Each round of batches moves every projection below the head on by a whole batch, or to
    # the end of the log, so this many rounds reach it.
    _, failures = await projector._advance(
        projections,
        max_batches=head // batch_size + 2,
        until=head,
        on_batch=advanced,
    )
    at = await positions(pool)
    reached = {name: at[name] for name in names}
    for name, position in reached.items():
        if name in failures:
            error = describe_failure(failures[name])
            log.error("projection_rebuild_failed", projection=name, position=position, error=error)
        else:
            log.info("projection_rebuilt", projection=name, position=position)
    if failures:
        raise next(iter(failures.values()))  # the first; each is logged above
    return reached


async def positions(pool: asyncpg.Pool) -> dict[str, int]:
    """How far into the log each projection has read."""
    return {row["name"]: row["position"] for row in await pool.fetch(SELECT_POSITIONS)}


async def log_head(pool: asyncpg.Pool) -> int:
    """The log's last position."""
    return int(await pool.fetchval(store_sql.SELECT_LOG_HEAD))


@dataclass(slots=True)
class _Fold:
    """The projections of a batch holding the same states of its cases: the batch's events are
    folded once for all of them."""

    changes: list[tuple[str, Changes]]  # each projection's changes, by its name
    states: dict[UUID, CaseState]  # each case's state, as far as the batch has folded it
    # The states to store: each case's last, and the log position of its last event.
    folded: dict[UUID, tuple[CaseState, int]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.changes]


async def _load_folds(
    connection: Connection, changes: Sequence[tuple[str, Changes]], streams: Iterable[_Stream]
) -> list[_Fold]:
    """The stored states of the batch's cases, each projection of `changes` (by name) with its
    own, in one `_Fold` for each set of projections holding the same."""
    case_ids = [stream.case_id for stream in streams if stream.case_id is not None]
    held: dict[str, dict[UUID, CaseState]] = {name: {} for name, _ in changes}
    for row in await connection.fetch(SELECT_STATES, list(held), case_ids):
        state = CaseState.model_validate_json(row["state"])  # once for all who hold it
        for name in row["projections"]:
            held[name][row["case_id"]] = state
    folds: list[_Fold] = []
    for name, change in changes:
        # States compare equal when they are the one parsed row (the rule), or when their
        # stored texts differ but parse the same: either way, one fold serves both.
        same = next((shared for shared in folds if shared.states == held[name]), None)
        if same is None:
            folds.append(_Fold([(name, change)], held[name], {}))
        else:
            same.changes.append((name, change))
    return folds


def _index_of(events: Sequence[asyncpg.Record], position: int | None) -> int | None:
    """Where the event at log `position` stands in the batch `events` (positions ascend)."""
    if position is None:
        return None
    guess = position - int(events[0]["position"])  # the log's positions are dense
    if 0 <= guess < len(events) and events[guess]["position"] == position:
        return guess
    return next(
        (index for index, stored in enumerate(events) if stored["position"] == position), None
    )


def _state_json(state: CaseState) -> str:
    """The state as JSON, its sets sorted. Pydantic writes a set in iteration order, which for
    strings follows their hashes, and those differ from process to process: sorted, a rebuild in
    another process stores the very same text."""
    dumped = state.model_dump(mode="json")
    _sort_sets(state, dumped)
    return to_json(dumped).decode()


def _sort_sets(value: object, dumped: Any) -> None:
    """Sort, in `dumped` (the JSON form of `value`), every list that holds a set of `value`.
    Only the fields whose types can hold a set are looked into."""
    if isinstance(value, BaseModel) and isinstance(dumped, dict):
        for name in _fields_with_sets(type(value)):
            item = getattr(value, name)
            if isinstance(item, set | frozenset):
                dumped[name] = sorted(dumped[name], key=_sort_key)
            else:
                _sort_sets(item, dumped[name])
    elif isinstance(value, dict) and isinstance(dumped, dict):
        for key, item in value.items():
            _sort_sets(item, dumped[str(key)])
    elif isinstance(value, list | tuple) and isinstance(dumped, list):
        for item, out in zip(value, dumped, strict=True):
            _sort_sets(item, out)


def _sort_key(item: object) -> str:
    return to_json(item).decode()


@functools.cache
def _fields_with_sets(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` whose declared types may hold a set, at any depth."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if _may_hold_sets(field.annotation, frozenset({model}))
    )


# Types whose values hold no set (JSON scalars, as pydantic dumps them).
_PLAIN: Final = (
    str, int, float, bool, bytes, UUID, date, datetime, Enum, type(None),
    pydantic.AwareDatetime, pydantic.NaiveDatetime, pydantic.PastDate, pydantic.FutureDate,
    pydantic.PastDatetime, pydantic.FutureDatetime,
)  # fmt: skip


def _may_hold_sets(annotation: object, seen: frozenset[type]) -> bool:
    """Whether a value of the type `annotation` may hold a set (unknown types: yes)."""
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type):
            if issubclass(annotation, set | frozenset):
                return True
            if issubclass(annotation, BaseModel):
                if annotation in seen:
                    return False  # looked into already, further up
                return any(
                    _may_hold_sets(field.annotation, seen | {annotation})
                    for field in annotation.model_fields.values()
                )
            return not issubclass(annotation, _PLAIN)
        return True  # Any, a type variable, a forward reference: maybe
    if origin in (set, frozenset):
        return True
    if origin is typing.Literal:
        return False
    if origin is typing.Annotated:
        return _may_hold_sets(typing.get_args(annotation)[0], seen)
    if origin in (typing.Union, types.UnionType, list, tuple, dict) or (
        isinstance(origin, type) and issubclass(origin, Sequence | dict)
    ):
        return any(
            _may_hold_sets(arg, seen) for arg in typing.get_args(annotation) if arg is not ...
        )
    return True


@dataclass(frozen=True, slots=True)
class _Stream:
    """A stream of the batch: the case it is named after, if any (`case-<case id>`)."""

    case_id: UUID | None  # None: not a case's stream
    canonical: bool  # written exactly as `case_stream_id` writes the case's stream

    @classmethod
    def of(cls, stream_id: str) -> _Stream:
        try:
            case_id = UUID(stream_id.partition("-")[2])
        except ValueError:
            return cls(None, False)
        return cls(case_id, case_stream_id(case_id) == stream_id)


def _projected(
    label: str,
    stored: asyncpg.Record,
    stream: _Stream,
    states: dict[UUID, CaseState],
    event: CaseEvent | None,
) -> ProjectedEvent:
    """The event of the log's row `stored` decoded (unless `event` is it, decoded already) and
    folded into its case's state in `states`."""
    if stream.case_id is None:
        raise ProjectionError(
            f"{label}: event {stored['event_id']} at position {stored['position']} is in "
            f"stream {stored['stream_id']}, which is not a case's stream"
        )
    before = states.get(stream.case_id)
    try:
        if event is None:
            event = decode(
                event_id=stored["event_id"],
                type=stored["type"],
                schema_version=stored["schema_version"],
                data=stored["data"],
                metadata=stored["metadata"],
            )
        after = apply(before, event)
    except Exception as error:
        # A validation error's own message quotes the event's data: it is not kept as the cause.
        cause = None if isinstance(error, ValidationError) else error
        raise ProjectionError(f"{label}: {_which(stored)} {describe_failure(error)}") from cause
    version = stored["version"]
    # The same as `case_stream_id(after.case_id) == stream_id`, without writing it out.
    if not stream.canonical or after.case_id != stream.case_id or after.version != version:
        raise ProjectionError(
            f"{label}: {_which(stored)} is version {version} of stream {stored['stream_id']}, "
            f"but folds into version {after.version} of case {after.case_id}"
        )
    return ProjectedEvent(
        position=stored["position"],
        stream_id=stored["stream_id"],
        version=version,
        event_id=stored["event_id"],
        recorded_at=stored["recorded_at"],
        event=event,
        before=before,
        after=after,
    )


def _which(stored: asyncpg.Record) -> str:
    """The event of the log's row `stored`, by id, type and position: never its data."""
    return f"event {stored['event_id']} ({stored['type']}) at position {stored['position']}"


class _Stopped(Exception):
    """The event at `index` of a batch of `count` could not be applied (`error` says why);
    `index` None: the batch's writes failed, at an event they did not name."""

    def __init__(self, index: int | None, error: Exception, count: int) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error
        self.count = count


class _Moved(Exception):
    """Projections meant to take a batch together no longer stand at the same position."""


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
