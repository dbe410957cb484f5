"""caseflow's event store beside the `eventsourcing` library's PostgreSQL store, same server.

Measured, each beside the library doing the same work (events per second, median of
`--repeats` runs, ABBA-paired), against the same PostgreSQL in one run:

- appends, one event per transaction, one writer: `EventStore.append` against the library's
  `PostgresApplicationRecorder.insert_events` (what `Application.save` calls once its mapper
  has turned the aggregate's new events into stored events);
- appends in batches of `--es-batch-size` events, one transaction each, likewise;
- reconstructing one `--es-replay-events`-event case: `store.case_history.load_case` (fetch,
  decode, fold into `CaseState`) against the library's `Repository.get` of an aggregate with
  as many events carrying the same facts (fetch, its mapper and JSON transcoder, `mutate`).

The library is used as its users would: an `Application` configured by its environment
settings (`PERSISTENCE_MODULE=eventsourcing.postgres` and the `POSTGRES_*` connection settings,
nothing else), so every other setting is the library's default: its application recorder,
which locks its table in EXCLUSIVE mode for each insert (gap-free notification ids, like
caseflow's `log_head` lock) and notifies a channel; optimistic concurrency from its primary key
(originator id, version); a pipeline per transaction (`POSTGRES_ENABLE_DB_FUNCTIONS` off);
JSON transcoding; no snapshots and no aggregate cache (so `Repository.get` replays every event).

The events are the store suite's: one real case life decided by the domain's own commands
(`benchmarks.store.case_life`), encoded by `domain.codec.encode`. On the library's side each
event carries the same facts (the codec's `data`) and the same metadata (the codec's
`metadata`) as JSON objects, so the stored bytes per event are close (see `details`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from typing import Any, Final
from uuid import UUID

import asyncpg
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import Environment, EnvType
from psycopg.conninfo import conninfo_to_dict

from benchmarks.common import Comparison, Run, SuiteResult, check_work, measure_pair
from benchmarks.store import (
    Append,
    Payload,
    Streams,
    appending,
    case_life,
    caseflow_append,
    opened_case,
    payloads,
)
from domain.codec import case_stream_id
from domain.events import CaseEvent
from domain.state import fold
from store.case_history import load_case
from store.events import EventStore, NewEvent
from store.pool import create_pool

NAME: Final = "eventsourcing"
# caseflow/library, from issue 7.
SINGLE_TARGET: Final = 5.0
BATCH_TARGET: Final = 3.0
RECONSTRUCT_TARGET: Final = 4.0

# -- sizes --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LibrarySizes:
    single_events: int = 2000  # events per measured run, one per transaction
    batch_events: int = 5000  # events per measured run, in batches
    batch_size: int = 10
    stream_length: int = 100  # appends start a new stream (aggregate) every this many events
    replay_events: int = 10_000  # events in the reconstructed case / aggregate
    warmup_events: int = 200  # appended by each side before each append benchmark
    repeats: int = 7

    def check(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"{name} must be 1 or more, not {value}")
        if self.replay_events < 3:
            raise ValueError("replay_events must be 3 or more (an opened, screened case)")


FLAG_PREFIX: Final = "--es-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = LibrarySizes()
    group = parser.add_argument_group("eventsourcing library comparison sizes")
    helps = {
        "single_events": "events per run appended one per transaction",
        "batch_events": "events per run appended in batches",
        "batch_size": "events per batch (one transaction each)",
        "stream_length": "events per stream/aggregate before appends start a new one",
        "replay_events": "events in the reconstructed case and aggregate",
        "warmup_events": "events each side appends before each append benchmark",
    }
    for name, text in helps.items():
        default = getattr(defaults, name)
        group.add_argument(
            FLAG_PREFIX + name.replace("_", "-"),
            dest=f"es_{name}",
            type=int,
            default=default,
            help=f"{text} (default {default})",
        )


def sizes_from(options: argparse.Namespace) -> LibrarySizes:
    """The sizes given on the command line; `--repeats` is the one the store suite uses too."""
    names = [name for name in LibrarySizes.__dataclass_fields__ if name != "repeats"]
    given = {
        name: getattr(options, f"es_{name}") for name in names if hasattr(options, f"es_{name}")
    }
    repeats = getattr(options, "repeats", LibrarySizes().repeats)
    return LibrarySizes(**given, repeats=repeats)


# -- the library's side: an application and its aggregate ----------------------------------------


class CaseRecord(Aggregate):
    """A case as the library's users would write one: an aggregate whose events carry the
    case's facts. Its `apply` is trivial (a count and the last type and facts), as the store
    suite's bare baseline's is; caseflow's side folds a real `CaseState`."""

    def __init__(self, event_type: str, facts: dict[str, Any], metadata: dict[str, Any]) -> None:
        self.recorded = 1
        self.last_type = event_type
        self.last_facts = facts

    class Recorded(Aggregate.Event):
        event_type: str
        facts: dict[str, Any]
        metadata: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.recorded += 1
            aggregate.last_type = self.event_type
            aggregate.last_facts = self.facts


class CaseRecords(Application[UUID]):
    """The library's application (its events table: `caserecords_events`)."""

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the settings given (`library_env`): unlike the library's default, the process
        environment is not read, so a stray POSTGRES_*, AGGREGATE_CACHE_* or snapshotting
        variable on the machine cannot change what is compared."""
        return Environment(name, dict(env or {}))


def library_env(database_url: str) -> dict[str, str]:
    """The library's environment settings for the database at `database_url`: the persistence
    module and the connection, nothing else (every other setting is its default)."""
    params = conninfo_to_dict(database_url)
    host, dbname, user = params.get("host"), params.get("dbname"), params.get("user")
    if not (host and dbname and user):
        raise ValueError(
            "the eventsourcing comparison needs a host, a database and a user in the database "
            "URL (the library's POSTGRES_* settings)"
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(dbname),
        "POSTGRES_HOST": str(host),
        "POSTGRES_PORT": str(params.get("port") or 5432),
        "POSTGRES_USER": str(user),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
    }


@dataclass(frozen=True, slots=True)
class LibraryEvent:
    """A template event as the library's mapper stores it."""

    topic: str
    state: bytes


def facts_of(payload: Payload) -> dict[str, Any]:
    """The library event's attributes for one of caseflow's encoded events: the same facts."""
    return {
        "event_type": payload.type,
        "facts": json.loads(payload.data),
        "metadata": json.loads(payload.metadata),
    }


def record_case(encoded: Sequence[Payload]) -> CaseRecord:
    """An aggregate with one library event per encoded event (all pending, none saved)."""
    first, *rest = encoded
    record = CaseRecord(**facts_of(first))
    for payload in rest:
        record.trigger_event(CaseRecord.Recorded, **facts_of(payload))
    return record


def library_template(app: CaseRecords, template: Sequence[Payload]) -> list[LibraryEvent]:
    """The template case's events through the library's own mapper (topic and state bytes)."""
    record = record_case(template)
    stored = [app.mapper.to_stored_event(event) for event in record.collect_events()]
    return [LibraryEvent(event.topic, event.state) for event in stored]


def library_append(recorder: ApplicationRecorder, template: Sequence[LibraryEvent]) -> Append:
    """Appends of the template's events, the library's way: stored events of a new aggregate id
    per stream, versions from 1, inserted in one transaction by the application recorder."""
    current: dict[str, UUID] = {}

    async def append(streams: Streams, size: int) -> int:
        stream_id, version, batch = streams.take(size)
        if stream_id not in current:
            current.clear()
            current[stream_id] = uuid.uuid4()
        originator_id = current[stream_id]
        events = [
            StoredEvent(
                originator_id=originator_id,
                originator_version=version + offset + 1,
                topic=event.topic,
                state=event.state,
            )
            for offset, event in enumerate(template[version : version + len(batch)])
        ]
        recorder.insert_events(events)  # blocks the loop: nothing else runs meanwhile
        return len(batch)

    return append


# -- the suite ----------------------------------------------------------------------------------


TRIVIAL_APPLY: Final = (
    "the library's aggregate applies trivially (count, last type and facts); caseflow folds the "
    "real CaseState"
)
BOTH_GAP_SAFE: Final = (
    "both gap-safe: caseflow locks log_head, the library's recorder locks its table (EXCLUSIVE) "
    "per insert; both notify; library via PostgresApplicationRecorder.insert_events"
)


@dataclass(frozen=True, slots=True)
class Setup:
    sizes: LibrarySizes
    pool: asyncpg.Pool
    store: EventStore
    app: CaseRecords
    template: Sequence[Payload]
    library_events: Sequence[LibraryEvent]
    log: Callable[[str], None]


async def append_case(
    store: EventStore, encoded: Sequence[Payload], events: Sequence[CaseEvent]
) -> str:
    """Store the reconstructed case in caseflow's store, 500 events per append."""
    stream_id = case_stream_id(opened_case(events))
    for start in range(0, len(encoded), 500):
        part = zip(events[start : start + 500], encoded[start : start + 500], strict=True)
        new = [NewEvent(e.event_id, p.type, p.schema_version, p.data, p.metadata) for e, p in part]
        await store.append(stream_id, new, expected_version=start)
    return stream_id


def save_case(app: CaseRecords, encoded: Sequence[Payload]) -> UUID:
    """Store the reconstructed case in the library's store, as its users would: the aggregate's
    events triggered and saved by `Application.save`, 500 events per save."""
    first, *rest = encoded
    record = CaseRecord(**facts_of(first))
    for index, payload in enumerate(rest, start=2):
        record.trigger_event(CaseRecord.Recorded, **facts_of(payload))
        if index % 500 == 0:
            app.save(record)
    app.save(record)
    return record.id


async def compare_appends(
    setup: Setup, name: str, description: str, *, events: int, batch_size: int, target: float
) -> Comparison:
    setup.log(f"{NAME}: {name}")
    ours = caseflow_append(setup.store)
    theirs = library_append(setup.app.recorder, setup.library_events)

    def runs(size: int) -> tuple[Run, Run]:
        return (
            appending(ours, setup.template, events=size, batch_size=batch_size, writers=1),
            appending(theirs, setup.template, events=size, batch_size=batch_size, writers=1),
        )

    caseflow, library = await measure_pair(
        *runs(events), repeats=setup.sizes.repeats, warmup=runs(setup.sizes.warmup_events)
    )
    return Comparison(name, description, caseflow, library, target, (BOTH_GAP_SAFE,))


async def compare_reconstruction(setup: Setup, case_id: UUID, aggregate_id: UUID) -> Comparison:
    sizes = setup.sizes
    setup.log(f"{NAME}: reconstruct a {sizes.replay_events:,}-event case")

    async def caseflow_load() -> int:
        loaded = await load_case(setup.store, case_id)
        check_work(loaded is not None and loaded.version == sizes.replay_events, "caseflow load")
        return sizes.replay_events

    async def library_get() -> int:
        record: object = setup.app.repository.get(aggregate_id)  # blocks the loop, as above
        check_work(
            isinstance(record, CaseRecord)
            and record.version == sizes.replay_events
            and record.recorded == sizes.replay_events,
            "library get",
        )
        return sizes.replay_events

    caseflow, library = await measure_pair(
        caseflow_load,
        library_get,
        repeats=sizes.repeats,
        warmup=(caseflow_load, library_get),
    )
    return Comparison(
        f"reconstruct {sizes.replay_events:,}-event case",
        "load_case (read_stream + codec.decode + state.fold into CaseState) vs the library's "
        "Repository.get (select_events + mapper/JSON transcoder + mutate, trivial apply)",
        caseflow,
        library,
        RECONSTRUCT_TARGET,
        (TRIVIAL_APPLY,),
    )


def bytes_per_event(encoded: Sequence[Payload], library: Sequence[LibraryEvent]) -> dict[str, Any]:
    data = statistics.mean(len(p.data.encode()) for p in encoded)
    metadata = statistics.mean(len(p.metadata.encode()) for p in encoded)
    state = statistics.mean(len(event.state) for event in library)
    return {
        "caseflow": {"data": round(data, 1), "metadata": round(metadata, 1)},
        "library": {"state": round(state, 1)},
    }


def library_facts(app: CaseRecords) -> dict[str, Any]:
    """What decides the library's speed, as it ran."""
    recorder, datastore = app.recorder, getattr(app.factory, "datastore", None)
    facts: dict[str, Any] = {
        "eventsourcing": package_version("eventsourcing"),
        "psycopg": psycopg.__version__,
        "psycopg_impl": psycopg.pq.__impl__,
        "persistence_module": app.env.get("PERSISTENCE_MODULE"),
        "recorder": type(recorder).__name__,
        "mapper": type(app.mapper).__name__,
        "transcoder": type(app.mapper.transcoder).__name__,
        "compressor": None
        if app.mapper.compressor is None
        else type(app.mapper.compressor).__name__,
        "cipher": None if app.mapper.cipher is None else type(app.mapper.cipher).__name__,
        "snapshots": app.snapshots is not None,
        "aggregate_cache": app.repository.cache is not None,
    }
    if isinstance(recorder, PostgresApplicationRecorder):
        facts["events_table"] = recorder.events_table_name
    if isinstance(datastore, PostgresDatastore):
        facts["enable_db_functions"] = datastore.enable_db_functions
        # With POSTGRES_ENABLE_DB_FUNCTIONS the recorder inserts through its plpgsql function,
        # which does not lock the table: faster, but notification ids may then commit out of
        # order (not gap-safe). By default it runs LOCK TABLE ... IN EXCLUSIVE MODE first.
        facts["locks_table_per_insert"] = isinstance(recorder, PostgresApplicationRecorder) and (
            bool(recorder.lock_table_statements) and not datastore.enable_db_functions
        )
        facts["originator_id_type"] = datastore.originator_id_type
        facts["pool_min_size"] = datastore.pool.min_size
        facts["pool_max_size"] = datastore.pool.max_size
    return facts


async def run(database_url: str, sizes: LibrarySizes, *, log: Callable[[str], None]) -> SuiteResult:
    """Every comparison against the (migrated, empty) database at `database_url`, where the
    library's application creates its own table.

    Both stores first get the reconstructed case and are ANALYZEd (as the store suite does), so
    the appends run against logs that are neither empty nor unknown to the planner.
    """
    sizes.check()
    result = SuiteResult(NAME, settings=asdict(sizes))
    log(
        f"{NAME}: deciding a {sizes.replay_events:,}-event case and a "
        f"{sizes.stream_length}-event template"
    )
    replayed = case_life(sizes.replay_events)
    expected = fold(replayed)
    encoded = payloads(replayed)
    template = payloads(case_life(sizes.stream_length))
    app = CaseRecords(env=library_env(database_url))
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        store = EventStore(pool)
        library_events = library_template(app, template)
        setup = Setup(sizes, pool, store, app, template, library_events, log)

        log(f"{NAME}: storing the case in both stores")
        await append_case(store, encoded, replayed)
        aggregate_id = save_case(app, encoded)
        if expected is None or await load_case(store, expected.case_id) != expected:
            raise AssertionError("the stored case does not fold back to the decided one")
        table = library_facts(app).get("events_table", "caserecords_events")
        await pool.execute(f'ANALYZE events; ANALYZE streams; ANALYZE "{table}"')

        single = await compare_appends(
            setup,
            "append, 1 event/tx",
            "one writer, one event per append (one transaction) vs the library's "
            "PostgresApplicationRecorder.insert_events of one stored event",
            events=sizes.single_events,
            batch_size=1,
            target=SINGLE_TARGET,
        )
        batched = await compare_appends(
            setup,
            f"append, {sizes.batch_size} events/tx",
            f"one writer, batches of {sizes.batch_size} events (one transaction each) vs the "
            f"library's insert_events of {sizes.batch_size} stored events",
            events=sizes.batch_events,
            batch_size=sizes.batch_size,
            target=BATCH_TARGET,
        )
        reconstruct = await compare_reconstruction(setup, expected.case_id, aggregate_id)

        ours = int(await pool.fetchval("SELECT count(*) FROM events"))
        # The table's name is the library's (from the application's name), not input.
        theirs = int(await pool.fetchval(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
        check_work(ours == theirs, f"events stored: caseflow {ours:,}, library {theirs:,}")
        result.comparisons += [single, batched, reconstruct]
        result.details = {
            "library": library_facts(app),
            "library_gap_safe": True,
            "events_stored_per_side": ours,
            "bytes_per_event": bytes_per_event(encoded, library_template(app, encoded)),
        }
    finally:
        await pool.close()
        app.close()
    return result


__all__ = ["NAME", "LibrarySizes", "add_arguments", "run", "sizes_from"]
