"""The event store against bare asyncpg, in one run against the same PostgreSQL.

Measured, each beside its baseline (events per second, median of `--repeats` runs):

- appends, one event per transaction, one writer;
- appends in batches of `--batch-size` events (one transaction each), one writer;
- appends by `--writers` concurrent writers, each on its own streams, one event per transaction;
- replaying one `--replay-events`-event case stream into `CaseState`
  (`store.case_history.load_case`: read_stream_payloads + codec.decode + state.fold);
- reading the whole log in pages of `--page-size` (`EventStore.read_all`).

Baselines. Appends: a plain INSERT into a table with the same columns (but no hash) and the same
indexes, one statement and so one transaction per append, exactly like caseflow's; no hash
chain, no stream row, no version check beyond the unique index, no notify, and positions from an
identity sequence, so NOT gap-safe (a reader paging by position can pass over a transaction that
commits late). Replay: a bare fetch of the stream's rows holding each event as one JSON document,
pydantic validation of the event union from JSON (`EVENT_ADAPTER.validate_json`), and a trivial
apply (count, last type, last time). Log: a bare paged fetch of the same columns (no hash).

The events are real: a case opened with a full `ChildReport`, assessed and planned, then visits,
school checks, assistance requested and delivered and referrals answered, all decided by the
domain's own commands, so the replayed stream is a valid case that folds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from uuid import UUID

import asyncpg

from benchmarks.common import Comparison, Run, SuiteResult, check_work, measure_pair
from domain.actors import Actor, Role
from domain.child import (
    Category,
    ChildIdentity,
    ChildReport,
    Concern,
    Guardian,
    Household,
    IntakeSource,
    ParentRelation,
    ParentSituation,
    ParentSituationKind,
    Sex,
)
from domain.codec import case_stream_id, decode, encode
from domain.commands import (
    CaseCommand,
    MakeReferral,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordReferralAnswer,
    RecordSchoolStatus,
    RecordVisit,
    ReferralAnswer,
    RequestAssistance,
    decide,
    open_case,
)
from domain.commands.recording import today
from domain.events import (
    EVENT_ADAPTER,
    AgencyKind,
    AssistanceRequested,
    CaseEvent,
    CaseOpened,
    PlannedAssistance,
    ReferralRequested,
    SchoolStatus,
    VisitKind,
)
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from domain.state import CaseState, apply, fold
from store.case_history import load_case
from store.events import EventStore, NewEvent
from store.pool import create_pool

TARGET: Final = 0.8  # caseflow/baseline, from the issue: appends and replay
NAME: Final = "store"

# -- sizes --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreSizes:
    single_events: int = 2000  # events per measured run, one per transaction
    batch_events: int = 5000  # events per measured run, in batches
    batch_size: int = 10
    writers: int = 8
    writer_events: int = 400  # events per writer per measured run, one per transaction
    stream_length: int = 100  # appends start a new stream every this many events
    replay_events: int = 10_000
    page_size: int = 1000
    warmup_events: int = 200  # appended by each side before each append benchmark
    repeats: int = 7
    replay_only: bool = False  # measure the replay figure only (and its breakdown)

    def check(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, bool) and value < 1:
                raise ValueError(f"{name} must be 1 or more, not {value}")
        if self.replay_events < 3:
            raise ValueError("replay_events must be 3 or more (an opened, screened case)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = StoreSizes()
    group = parser.add_argument_group("store benchmark sizes")
    helps = {
        "single_events": "events per run appended one per transaction",
        "batch_events": "events per run appended in batches",
        "batch_size": "events per batch (one transaction each)",
        "writers": "concurrent writers, each on its own streams",
        "writer_events": "events per writer per run, one per transaction",
        "stream_length": "events per stream before appends start a new one",
        "replay_events": "events in the replayed case stream",
        "page_size": "events per page when reading the whole log",
        "warmup_events": "events each side appends before each append benchmark",
    }
    for name, text in helps.items():
        flag = "--" + name.replace("_", "-")
        default = getattr(defaults, name)
        group.add_argument(flag, type=int, default=default, help=f"{text} (default {default})")
    group.add_argument(
        "--replay-only",
        action="store_true",
        help="of the store suite, measure only the replay figure and its breakdown",
    )


def sizes_from(options: argparse.Namespace) -> StoreSizes:
    names = StoreSizes.__dataclass_fields__
    return StoreSizes(**{name: getattr(options, name) for name in names if hasattr(options, name)})


# -- a case's life, decided by the domain -------------------------------------------------------

VILLAGE: Final = "530627101201"
CASEWORKER: Final = Actor(user_id="cw-bench", role=Role.caseworker, area=VILLAGE)
START: Final = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP: Final = timedelta(hours=6)
MODERATE: Final = NeedScores(
    survival=2, education=1, health=1, guardianship=2, safety=1, psychosocial=2
)
OBSERVATIONS: Final = (
    "孩子在家 祖母身体尚可 The child was at home with the grandmother; the house was clean, "
    "there was rice and vegetables for the week, and homework was done. 学习用品齐全 情绪稳定"
)


def child_report() -> ChildReport:
    """A full report: a girl whose father is in prison and whose mother is missing."""
    return ChildReport(
        child=ChildIdentity(
            name="李小红", sex=Sex.female, date_of_birth=date(2015, 5, 1), id_number=None
        ),
        village=VILLAGE,
        household=Household(
            registration_area=VILLAGE, address="云南省昭通市镇雄县某镇某村第三村民小组", members=3
        ),
        guardians=[
            Guardian(name="王秀英", relation="grandmother", phone="13800000000", able_to_care=True),
            Guardian(name="李国强", relation="uncle", phone="13900000001", able_to_care=False),
        ],
        parents=[
            ParentSituation(
                relation=ParentRelation.father,
                situation=ParentSituationKind.imprisoned,
                since=date(2024, 1, 10),
                expected_end=date(2031, 1, 1),
            ),
            ParentSituation(
                relation=ParentRelation.mother,
                situation=ParentSituationKind.missing,
                since=date(2023, 6, 1),
            ),
        ],
        categories=frozenset({Category.de_facto_orphan, Category.left_behind}),
        concerns=frozenset({Concern.neglected}),
        source=IntakeSource.teacher,
        observations="老师报告 孩子经常没吃早饭 衣服单薄 Reported by the class teacher: often "
        "arrives without breakfast and in thin clothes; the grandmother is 71 and alone.",
    )


def case_life(count: int, *, case_id: UUID | None = None) -> list[CaseEvent]:
    """The first `count` events of one case, each decided by the domain from the state before.

    Opened, screened, assessed and planned; then, every six hours, the next of a round of
    visits, assistance requested and delivered, a referral made, accepted and completed, and a
    school status check.
    """
    state: CaseState | None = None
    events: list[CaseEvent] = []

    def record(new: Sequence[CaseEvent]) -> None:
        nonlocal state
        for event in new:
            state = apply(state, event)
        events.extend(new)

    now = START
    record(
        open_case(
            case_id or uuid.uuid4(), child_report(), actor=CASEWORKER, now=now, new_id=uuid.uuid4
        )
    )
    opening: list[CaseCommand] = [
        RecordAssessment(scores=MODERATE, summary="Needs food, guardianship support, company."),
        RecordCasePlan(
            goals=("Regular meals", "Stay in school", "Weekly company"),
            planned_assistance=(
                PlannedAssistance(
                    kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300
                ),
            ),
            review_by=date(2026, 9, 1),
        ),
    ]
    request_id: UUID | None = None
    referral_id: UUID | None = None
    round_no = 0
    while len(events) < count:
        now += STEP
        if state is None:
            raise AssertionError("unreachable: the case was opened")
        command: CaseCommand
        if opening:
            command = opening.pop(0)
        else:
            step = round_no % 10
            round_no += 1
            if step in (0, 2, 4, 6):
                kinds = (VisitKind.home, VisitKind.school, VisitKind.phone, VisitKind.home)
                command = RecordVisit(
                    visited_at=now,
                    visit_kind=kinds[step // 2],
                    observations=OBSERVATIONS,
                    updated_scores=MODERATE if step == 6 else None,
                )
            elif step == 1:
                command = RequestAssistance(
                    kind=AssistanceKind.food_pack,
                    quantity=2,
                    unit="pack",
                    value_yuan=300,
                    purpose="Two weeks of rice, oil and eggs",
                )
            elif step == 3 and request_id is not None:
                command = RecordDelivery(request_id=request_id, quantity=2, delivered_on=today(now))
            elif step == 5:
                command = MakeReferral(
                    agency_kind=AgencyKind.ngo,
                    agency="Zhaotong Children's Home",
                    service="after-school tutoring",
                )
            elif step == 7 and referral_id is not None:
                command = RecordReferralAnswer(
                    referral_id=referral_id, answer=ReferralAnswer.accepted, note="Starts Monday"
                )
            elif step == 8 and referral_id is not None:
                command = RecordReferralAnswer(
                    referral_id=referral_id, answer=ReferralAnswer.completed, note="Term done"
                )
            else:
                command = RecordSchoolStatus(
                    status=SchoolStatus.enrolled, school="某镇中心小学", checked_on=today(now)
                )
        decided = decide(state, command, actor=CASEWORKER, now=now, new_id=uuid.uuid4)
        for event in decided:
            if isinstance(event, AssistanceRequested):
                request_id = event.request_id
            elif isinstance(event, ReferralRequested):
                referral_id = event.referral_id
        record(decided)
    return events[:count]


# -- the two stores -----------------------------------------------------------------------------

WORKFLOW_METADATA: Final = {"workflow_id": "case-00000000-0000-0000-0000-000000000000"}

# The baseline table: the event store's columns but the hash, its indexes, nothing else.
CREATE_BASELINE: Final = """
CREATE TABLE baseline_events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id text NOT NULL,
    version bigint NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    schema_version integer NOT NULL,
    data json NOT NULL,
    metadata json NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
)
"""
BASELINE_INSERT_ONE: Final = """
INSERT INTO baseline_events (stream_id, version, event_id, type, schema_version, data, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
BASELINE_INSERT_MANY: Final = """
INSERT INTO baseline_events (stream_id, version, event_id, type, schema_version, data, metadata)
SELECT $1, $2 + e.i, e.event_id, e.type, e.schema_version, e.data::json, e.metadata::json
FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::text[], $7::text[])
    WITH ORDINALITY AS e (event_id, type, schema_version, data, metadata, i)
"""
BASELINE_STREAM: Final = "SELECT data FROM baseline_events WHERE stream_id = $1 ORDER BY version"
BASELINE_LOG: Final = """
SELECT position, stream_id, version, event_id, type, schema_version, data, metadata, recorded_at
FROM baseline_events
WHERE position > $1
ORDER BY position
LIMIT $2
"""


@dataclass(frozen=True, slots=True)
class Payload:
    """An event as both stores are given it: the codec's data and metadata text."""

    type: str
    schema_version: int
    data: str
    metadata: str


def payloads(events: Sequence[CaseEvent]) -> list[Payload]:
    encoded = (encode(event, extra_metadata=WORKFLOW_METADATA) for event in events)
    return [Payload(e.type, e.schema_version, e.data, e.metadata) for e in encoded]


class Streams:
    """One writer's streams: the template case's events in order, a new stream every
    `len(template)` events; a batch never straddles two streams."""

    def __init__(self, template: Sequence[Payload]) -> None:
        self._template = template
        self.stream_id = ""
        self.version = len(template)

    def take(self, size: int) -> tuple[str, int, Sequence[Payload]]:
        """The stream to append to, its version before the append, and the events."""
        if self.version >= len(self._template):
            self.stream_id, self.version = f"case-{uuid.uuid4()}", 0
        start = self.version
        batch = self._template[start : start + size]
        self.version += len(batch)
        return self.stream_id, start, batch


# Appends up to n events to a writer's streams; returns how many it appended.
Append = Callable[[Streams, int], Awaitable[int]]


def caseflow_append(store: EventStore) -> Append:
    async def append(streams: Streams, size: int) -> int:
        stream_id, version, batch = streams.take(size)
        events = [
            NewEvent(uuid.uuid4(), p.type, p.schema_version, p.data, p.metadata) for p in batch
        ]
        await store.append(stream_id, events, expected_version=version)
        return len(batch)

    return append


def baseline_append(pool: asyncpg.Pool) -> Append:
    async def append(streams: Streams, size: int) -> int:
        stream_id, version, batch = streams.take(size)
        if len(batch) == 1:
            (p,) = batch
            await pool.execute(
                BASELINE_INSERT_ONE,
                stream_id,
                version + 1,
                uuid.uuid4(),
                p.type,
                p.schema_version,
                p.data,
                p.metadata,
            )
        else:
            await pool.execute(
                BASELINE_INSERT_MANY,
                stream_id,
                version,
                [uuid.uuid4() for _ in batch],
                [p.type for p in batch],
                [p.schema_version for p in batch],
                [p.data for p in batch],
                [p.metadata for p in batch],
            )
        return len(batch)

    return append


def appending(
    append: Append,
    template: Sequence[Payload],
    *,
    events: int,
    batch_size: int,
    writers: int,
) -> Run:
    """A run: `writers` concurrent writers each append `events` events, `batch_size` at a time,
    to fresh streams of their own."""

    async def one_writer() -> int:
        streams = Streams(template)
        done = 0
        while done < events:
            done += await append(streams, min(batch_size, events - done))
        return done

    async def run() -> int:
        if writers == 1:
            return await one_writer()
        return sum(await asyncio.gather(*(one_writer() for _ in range(writers))))

    return run


# -- replay -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """The baseline's trivial fold."""

    version: int = 0
    last_type: str = ""
    updated_at: datetime | None = None


def trivial_apply(tally: Tally, event: CaseEvent) -> Tally:
    tally.version += 1
    tally.last_type = event.type
    tally.updated_at = event.occurred_at
    return tally


def baseline_fold(rows: Sequence[asyncpg.Record]) -> Tally:
    """Validate each row's event from its JSON and apply it, one at a time."""
    tally = Tally()
    for row in rows:
        tally = trivial_apply(tally, EVENT_ADAPTER.validate_json(row[0]))
    return tally


def decoded(rows: Sequence[asyncpg.Record]) -> Iterator[CaseEvent]:
    """The rows' events, decoded one by one, as `load_case` decodes them."""
    for event_id, type_, schema_version, data, metadata in rows:
        yield decode(
            event_id=event_id,
            type=type_,
            schema_version=schema_version,
            data=data,
            metadata=metadata,
        )


async def caseflow_phases(store: EventStore, stream_id: str) -> tuple[float, ...]:
    """Seconds in load_case's steps: the fetch (`read_stream_payloads`), decoding, and folding.

    `load_case` folds each event as it is decoded and keeps no list of them; so does this. The
    decoding is timed on its own (each event dropped once decoded), then decoding and folding
    together, as `load_case` runs them: folding is the difference."""
    started = time.perf_counter()
    rows = await store.read_stream_payloads(stream_id)
    fetched = time.perf_counter()
    for _ in decoded(rows):
        pass
    decoding = time.perf_counter()
    state = fold(decoded(rows))
    both = time.perf_counter()
    check_work(state is not None and state.version == len(rows), "caseflow's fold")
    return fetched - started, decoding - fetched, (both - decoding) - (decoding - fetched)


async def baseline_phases(pool: asyncpg.Pool, stream_id: str) -> tuple[float, ...]:
    """Seconds in the bare replay's steps: fetch, then validate and apply (one pass)."""
    started = time.perf_counter()
    rows = await pool.fetch(BASELINE_STREAM, stream_id)
    fetched = time.perf_counter()
    baseline_fold(rows)
    return fetched - started, time.perf_counter() - fetched


def phase_medians(
    runs: Sequence[tuple[float, ...]], names: Sequence[str], events: int
) -> dict[str, float]:
    """Median microseconds per event of each phase."""
    return {
        f"{name}_us_per_event": round(statistics.median(run[i] for run in runs) / events * 1e6, 2)
        for i, name in enumerate(names)
    }


# -- the suite ----------------------------------------------------------------------------------

NOT_GAP_SAFE: Final = (
    "baseline is NOT gap-safe: plain INSERT, positions from an identity sequence (a reader "
    "paging by position can pass over a late commit); no hash chain, stream row, version check "
    "or notify"
)
SERIALISED: Final = (
    "caseflow serialises appends on the log_head row from position to commit (gap-safe "
    "positions); its group commit sends the appends that wait meanwhile together, one "
    "transaction and one WAL flush for all (store/group_commit.py); see benchmarks/README.md"
)


@dataclass(frozen=True, slots=True)
class Setup:
    sizes: StoreSizes
    pool: asyncpg.Pool
    store: EventStore
    template: Sequence[Payload]
    log: Callable[[str], None]


def opened_case(events: Sequence[CaseEvent]) -> UUID:
    first = events[0]
    if not isinstance(first, CaseOpened):
        raise ValueError(f"a case stream starts with CaseOpened, not {first.type}")
    return first.case_id


async def load_replay_stream(
    store: EventStore, pool: asyncpg.Pool, events: Sequence[CaseEvent], *, chunk: int = 500
) -> str:
    """Store the replayed case in both stores: caseflow's codec form, and the baseline's one
    JSON document per event. Returns the stream's id."""
    stream_id = case_stream_id(opened_case(events))
    encoded = payloads(events)
    for start in range(0, len(events), chunk):
        part = list(zip(events[start : start + chunk], encoded[start : start + chunk], strict=True))
        new_events = [
            NewEvent(event.event_id, p.type, p.schema_version, p.data, p.metadata)
            for event, p in part
        ]
        await store.append(stream_id, new_events, expected_version=start)
        await pool.execute(
            BASELINE_INSERT_MANY,
            stream_id,
            start,
            [event.event_id for event, _ in part],
            [p.type for _, p in part],
            [p.schema_version for _, p in part],
            [EVENT_ADAPTER.dump_json(event).decode() for event, _ in part],
            [p.metadata for _, p in part],
        )
    return stream_id


async def compare_appends(
    setup: Setup, name: str, description: str, *, events: int, batch_size: int, writers: int
) -> Comparison:
    setup.log(f"store: {name}")
    ours, theirs = caseflow_append(setup.store), baseline_append(setup.pool)

    def runs(size: int) -> tuple[Run, Run]:
        return (
            appending(ours, setup.template, events=size, batch_size=batch_size, writers=writers),
            appending(theirs, setup.template, events=size, batch_size=batch_size, writers=writers),
        )

    warmup = runs(max(1, setup.sizes.warmup_events // writers))
    caseflow, baseline = await measure_pair(
        *runs(events), repeats=setup.sizes.repeats, warmup=warmup
    )
    notes = (NOT_GAP_SAFE, SERIALISED) if writers > 1 else (NOT_GAP_SAFE,)
    return Comparison(name, description, caseflow, baseline, TARGET, notes)


async def compare_replay(setup: Setup, stream_id: str, case_id: UUID) -> Comparison:
    sizes, store, pool = setup.sizes, setup.store, setup.pool
    setup.log(f"store: replay of a {sizes.replay_events:,}-event case")

    async def replay_caseflow() -> int:
        loaded = await load_case(store, case_id)
        check_work(loaded is not None and loaded.version == sizes.replay_events, "caseflow replay")
        return sizes.replay_events

    async def replay_baseline() -> int:
        tally = baseline_fold(await pool.fetch(BASELINE_STREAM, stream_id))
        check_work(tally.version == sizes.replay_events, "baseline replay")
        return sizes.replay_events

    caseflow, baseline = await measure_pair(
        replay_caseflow,
        replay_baseline,
        repeats=sizes.repeats,
        warmup=(replay_caseflow, replay_baseline),
    )
    return Comparison(
        f"replay {sizes.replay_events:,}-event case",
        "into CaseState with load_case (read_stream_payloads + codec.decode + state.fold) vs "
        "bare fetch + EVENT_ADAPTER.validate_json + trivial apply",
        caseflow,
        baseline,
        TARGET,
    )


async def replay_with_breakdown(
    setup: Setup, stream_id: str, case_id: UUID
) -> tuple[Comparison, dict[str, dict[str, float]]]:
    """The replay figure, then where each side's time goes (µs per event and step)."""
    replay = await compare_replay(setup, stream_id, case_id)
    repeats, events = setup.sizes.repeats, setup.sizes.replay_events
    ours = [await caseflow_phases(setup.store, stream_id) for _ in range(repeats)]
    theirs = [await baseline_phases(setup.pool, stream_id) for _ in range(repeats)]
    # "read_stream" is read_stream_payloads, the fetch load_case makes.
    return replay, {
        "caseflow": phase_medians(ours, ("read_stream", "decode", "fold"), events),
        "baseline": phase_medians(theirs, ("fetch", "validate_and_apply"), events),
    }


async def compare_read_log(setup: Setup) -> Comparison:
    sizes, store, pool = setup.sizes, setup.store, setup.pool
    setup.log("store: read the whole log")
    total_ours = int(await pool.fetchval("SELECT count(*) FROM events"))
    total_theirs = int(await pool.fetchval("SELECT count(*) FROM baseline_events"))

    async def read_log_caseflow() -> int:
        after, count = 0, 0
        while page := await store.read_all(after=after, limit=sizes.page_size):
            after, count = page[-1].position, count + len(page)
        check_work(count == total_ours, "caseflow's log")
        return count

    async def read_log_baseline() -> int:
        after, count = 0, 0
        while rows := await pool.fetch(BASELINE_LOG, after, sizes.page_size):
            after, count = rows[-1][0], count + len(rows)
        check_work(count == total_theirs, "the baseline's log")
        return count

    caseflow, baseline = await measure_pair(
        read_log_caseflow,
        read_log_baseline,
        repeats=sizes.repeats,
        warmup=(read_log_caseflow, read_log_baseline),
    )
    return Comparison(
        "read whole log",
        f"read_all in pages of {sizes.page_size:,} ({total_ours:,} events) vs bare paged fetch "
        f"({total_theirs:,} events)",
        caseflow,
        baseline,
        None,
    )


async def run(database_url: str, sizes: StoreSizes, *, log: Callable[[str], None]) -> SuiteResult:
    """Every store benchmark against the (migrated, empty) database at `database_url`.

    Both stores first get the replayed case (a log of `replay_events` events) and are ANALYZEd,
    as autovacuum does to any live database: the appends then run against a log that is neither
    empty nor unknown to the planner (see benchmarks/README.md for what a never-analyzed log
    does to caseflow's appends).
    """
    sizes.check()
    result = SuiteResult(NAME, settings=asdict(sizes))
    log(
        f"store: deciding a {sizes.replay_events:,}-event case and a {sizes.stream_length}-event "
        "template"
    )
    replayed = case_life(sizes.replay_events)
    expected = fold(replayed)
    template = payloads(case_life(sizes.stream_length))
    pool = await create_pool(database_url, min_size=sizes.writers, max_size=sizes.writers)
    try:
        await pool.execute(CREATE_BASELINE)
        store = EventStore(pool)
        setup = Setup(sizes, pool, store, template, log)
        stream_id = await load_replay_stream(store, pool, replayed)
        if expected is None or await load_case(store, expected.case_id) != expected:
            raise AssertionError("the stored case does not fold back to the decided one")
        await pool.execute("ANALYZE events; ANALYZE streams; ANALYZE baseline_events")

        result.details = {"baseline_gap_safe": False}
        if sizes.replay_only:
            replay, breakdown = await replay_with_breakdown(setup, stream_id, expected.case_id)
            result.comparisons.append(replay)
            result.details["replay_breakdown"] = breakdown
            return result

        single = await compare_appends(
            setup,
            "append, 1 event/tx",
            "one writer, one event per append (one transaction)",
            events=sizes.single_events,
            batch_size=1,
            writers=1,
        )
        batched = await compare_appends(
            setup,
            f"append, {sizes.batch_size} events/tx",
            f"one writer, batches of {sizes.batch_size} events (one transaction each)",
            events=sizes.batch_events,
            batch_size=sizes.batch_size,
            writers=1,
        )
        concurrent = await compare_appends(
            setup,
            f"append, {sizes.writers} writers",
            f"{sizes.writers} concurrent writers, each on its own streams, one event per append",
            events=sizes.writer_events,
            batch_size=1,
            writers=sizes.writers,
        )
        replay, breakdown = await replay_with_breakdown(setup, stream_id, expected.case_id)
        read_log = await compare_read_log(setup)
        result.comparisons += [single, batched, concurrent, replay, read_log]
        result.details["replay_breakdown"] = breakdown
        result.details["concurrent_speedup_over_one_writer"] = {
            "caseflow": round(concurrent.caseflow.median / single.caseflow.median, 2),
            "baseline": round(concurrent.baseline.median / single.baseline.median, 2),
        }
    finally:
        await pool.close()
    return result


__all__ = ["NAME", "StoreSizes", "add_arguments", "case_life", "run", "sizes_from"]
