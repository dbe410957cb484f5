"""The projector catching up a long log from zero, against a bare COPY of the same rows.

The log: `--projector-events` events (1,000,000 by default, the issue's figure) in case streams
of `--projector-stream-length` events, each case's life decided by the domain's own commands
(`benchmarks.store.case_life`: opened with a full `ChildReport`, assessed, planned, then
visits, assistance requested and delivered, referrals answered, school checks), encoded with
`domain.codec.encode` and appended through `EventStore.append`, one append per stream of up to
`--projector-append-batch` events: a valid, hash-chained log that every projection folds.

Measured, each beside its baseline (events of the log per second):

- `rebuild` of each projection in `PROJECTIONS` (`store.projections.rebuild`: empty its tables,
  then read, decode, fold into the cases' states and write what each batch changes, set-based,
  from position 0 to the head), in batches of `--projector-batch-size`;
- all projections together: every projection emptied and its position set back to 0 at once
  (`store.projections.reset`), then one `Projector(pool, PROJECTIONS).catch_up()` until no
  projection is behind. Standing at the same position, the four take each batch together, as
  the running projector does: the log is read, decoded and folded once for all of them.

Baseline: `COPY (SELECT <the columns the projector reads> FROM events ORDER BY position) TO
STDOUT` of the same rows through asyncpg's `copy_from_query`, the bytes counted and dropped: the
fastest a client can take the log off the server, with no decoding and no writes.

`details` also holds this process's CPU time per event of each caseflow figure
(`caseflow_cpu_us_per_event`): the projector's own cost, which a busy machine does not inflate
the way it does the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Final

import asyncpg
import structlog

from benchmarks.common import Comparison, Run, SuiteResult, measure_pair
from benchmarks.store import WORKFLOW_METADATA, case_life
from domain.codec import case_stream_id, encode
from store.events import EventStore, NewEvent
from store.pool import create_pool
from store.projections import PROJECTIONS, Projector, log_head, positions, rebuild, reset
from store.projections.projector import DEFAULT_BATCH_SIZE

NAME: Final = "projector"
APPENDS_IN_FLIGHT: Final = 4  # appends awaiting the server while the next case is decided

COPY_LOG: Final = """
SELECT position, stream_id, version, event_id, type, schema_version, data, metadata,
       recorded_at, hash
FROM events
ORDER BY position
"""
NAMES: Final = tuple(projection.name for projection in PROJECTIONS)


@dataclass(frozen=True, slots=True)
class ProjectorSizes:
    events: int = 1_000_000  # events in the log
    stream_length: int = 100  # events per case stream
    append_batch: int = 100  # events per append (one transaction)
    batch_size: int = DEFAULT_BATCH_SIZE  # events per projector batch
    repeats: int = 1  # measured runs of each side per figure

    def check(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"projector {name} must be 1 or more, not {value}")
        if self.stream_length < 3:
            raise ValueError("projector stream_length must be 3 or more (an opened case)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ProjectorSizes()
    group = parser.add_argument_group("projector benchmark sizes")
    helps = {
        "events": "events in the log the projector catches up",
        "stream_length": "events per case stream",
        "append_batch": "events per append while the log is written",
        "batch_size": "events per projector batch",
        "repeats": "measured runs of each side per figure",
    }
    for name, text in helps.items():
        flag = "--projector-" + name.replace("_", "-")
        default = getattr(defaults, name)
        group.add_argument(
            flag,
            dest=f"projector_{name}",
            type=int,
            default=default,
            help=f"{text} (default {default:,})",
        )


def sizes_from(options: argparse.Namespace) -> ProjectorSizes:
    names = ProjectorSizes.__dataclass_fields__
    return ProjectorSizes(**{name: getattr(options, f"projector_{name}") for name in names})


# -- the log ------------------------------------------------------------------------------------


async def write_log(
    store: EventStore, sizes: ProjectorSizes, log: Callable[[str], None]
) -> tuple[int, int]:
    """Append `sizes.events` events in case streams; returns (events, cases)."""
    slots = asyncio.Semaphore(APPENDS_IN_FLIGHT)
    pending: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []

    async def append(stream_id: str, batch: list[NewEvent], version: int) -> None:
        try:
            await store.append(stream_id, batch, expected_version=version)
        except BaseException as error:
            failures.append(error)
        finally:
            slots.release()

    written = cases = 0
    started = time.perf_counter()
    next_report = started + 15
    while written < sizes.events:
        length = min(sizes.stream_length, sizes.events - written)
        case_id = uuid.uuid4()
        stream_id = case_stream_id(case_id)
        events = [
            encode(event, extra_metadata=WORKFLOW_METADATA)
            for event in case_life(max(length, 3), case_id=case_id)[:length]
        ]
        for start in range(0, len(events), sizes.append_batch):
            batch = [
                NewEvent(e.event_id, e.type, e.schema_version, e.data, e.metadata)
                for e in events[start : start + sizes.append_batch]
            ]
            # A stream's appends must land in order: wait for the stream's earlier one.
            if start:
                await asyncio.gather(*pending)
            await slots.acquire()
            task = asyncio.create_task(append(stream_id, batch, start))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if failures:
                raise failures[0]
        written += len(events)
        cases += 1
        if time.perf_counter() > next_report:
            next_report += 15
            rate = written / (time.perf_counter() - started)
            log(f"projector: wrote {written:,} of {sizes.events:,} events ({rate:,.0f}/s)")
    await asyncio.gather(*pending)
    if failures:
        raise failures[0]
    return written, cases


# -- the runs -----------------------------------------------------------------------------------


def copy_run(pool: asyncpg.Pool, events: int) -> Run:
    async def run() -> int:
        received = 0

        async def sink(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)

        async with pool.acquire() as connection:
            status = await connection.copy_from_query(COPY_LOG, output=sink)
        copied = int(status.split()[-1])
        if copied != events or received == 0:
            raise AssertionError(f"COPY gave {copied} rows ({received} bytes), not {events}")
        return copied

    return run


class CpuClock:
    """This process's CPU time per event of each figure's caseflow runs, in microseconds: what
    the projector itself costs, whatever else the machine is doing (waiting for the server and
    for other processes is not in it; the server's own work is not either)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[float]] = {}

    def timed(self, figure: str, run: Run) -> Run:
        async def timed_run() -> int:
            started = time.process_time()
            events = await run()
            spent = time.process_time() - started
            self.runs.setdefault(figure, []).append(round(spent / events * 1e6, 1))
            return events

        return timed_run

    def medians(self) -> dict[str, float]:
        return {figure: statistics.median(runs) for figure, runs in self.runs.items()}


def rebuild_run(pool: asyncpg.Pool, name: str, head: int, batch_size: int) -> Run:
    async def run() -> int:
        position = await rebuild(pool, name, batch_size=batch_size)
        if position != head:
            raise AssertionError(f"rebuild of {name} stopped at {position}, not {head}")
        return head

    return run


def catch_up_run(pool: asyncpg.Pool, head: int, batch_size: int) -> Run:
    async def run() -> int:
        projector = Projector(pool, PROJECTIONS, batch_size=batch_size, listen=False)
        await reset(pool, [projection.name for projection in PROJECTIONS])
        while await projector.catch_up():
            pass
        at = await positions(pool)
        behind = {name: at.get(name) for name in NAMES if at.get(name) != head}
        if behind:
            raise AssertionError(f"catch-up left projections short of {head}: {behind}")
        return head

    return run


async def run(
    database_url: str, sizes: ProjectorSizes, *, log: Callable[[str], None]
) -> SuiteResult:
    sizes.check()
    # The processes log at INFO; the projector's per-batch DEBUG lines would flood the terminal.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    result = SuiteResult(NAME, {"projector": asdict(sizes), "appends_in_flight": APPENDS_IN_FLIGHT})
    pool = await create_pool(database_url, min_size=1, max_size=APPENDS_IN_FLIGHT + 1)
    try:
        log(f"projector: writing a log of {sizes.events:,} events")
        started = time.perf_counter()
        events, cases = await write_log(EventStore(pool), sizes, log)
        write_seconds = time.perf_counter() - started
        await pool.execute("ANALYZE events; ANALYZE streams")
        head = await log_head(pool)
        if head != events:
            raise AssertionError(f"the log's head is {head}, not {events}")
        log(f"projector: {events:,} events in {cases:,} cases written in {write_seconds:.0f} s")

        copy = copy_run(pool, events)
        cpu = CpuClock()
        note = "events of the log per second; baseline: COPY of the same rows, bytes dropped"
        for index, projection in enumerate(PROJECTIONS):
            log(f"projector: rebuild {projection.name}")
            ours, theirs = await measure_pair(
                cpu.timed(
                    f"rebuild {projection.name}",
                    rebuild_run(pool, projection.name, head, sizes.batch_size),
                ),
                copy,
                repeats=sizes.repeats,
                warmup=(copy,) if index == 0 else (),
            )
            result.comparisons.append(
                Comparison(
                    name=f"rebuild {projection.name}, {events:,} events",
                    description=f"rebuild of {projection.name} from position 0 to the head",
                    caseflow=ours,
                    baseline=theirs,
                    target=None,
                    notes=(note,),
                )
            )
        log("projector: all projections together")
        together = f"catch up all {len(PROJECTIONS)}"
        ours, theirs = await measure_pair(
            cpu.timed(together, catch_up_run(pool, head, sizes.batch_size)),
            copy,
            repeats=sizes.repeats,
        )
        result.comparisons.append(
            Comparison(
                name=f"{together}, {events:,} events",
                description="one Projector over every projection, from position 0 to the head",
                caseflow=ours,
                baseline=theirs,
                target=None,
                notes=(note,),
            )
        )
        size = await pool.fetchval("SELECT pg_total_relation_size('events')")
        result.details = {
            "events": events,
            "cases": cases,
            "write_log_seconds": round(write_seconds, 1),
            "write_log_events_per_s": round(events / write_seconds, 1),
            "events_table_bytes": int(size),
            # Median over the runs; the runs themselves in `caseflow_cpu_us_per_event_runs`.
            "caseflow_cpu_us_per_event": cpu.medians(),
            "caseflow_cpu_us_per_event_runs": cpu.runs,
            "projections": [projection.name for projection in PROJECTIONS],
        }
    finally:
        await pool.close()
    return result


__all__ = ["NAME", "ProjectorSizes", "add_arguments", "run", "sizes_from"]
