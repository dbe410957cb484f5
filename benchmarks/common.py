"""What every benchmark shares: a PostgreSQL to run against, timing, and the table/JSON output.

A benchmark compares caseflow doing some work with the same work done the bare way (its
baseline), in the same run against the same server, and reports events per second for both and
their ratio. Runs of the two are interleaved (ABBA), each measurement is repeated and the median
kept, and both sides are warmed up first, so drift of the machine during a run (page cache,
autovacuum, a noisy neighbour) falls on both sides alike.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from store.migrate import apply_migrations
from workers.embedded_postgres import EmbeddedPostgres

# Bumped when the JSON's shape changes (tests/test_benchmarks_smoke.py checks it).
REPORT_FORMAT: Final = 1
RESULTS_DIR: Final = Path(__file__).with_name("results")
DEFAULT_OUTPUT: Final = RESULTS_DIR / "latest.json"

# A measured run: does the work once and returns how many events it handled.
Run = Callable[[], Awaitable[int]]


# -- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Server:
    url: str  # connects as a role that may create databases
    kind: str  # "embedded" or "DATABASE_URL"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server(database_url: str | None) -> Iterator[Server]:
    """The server named by `database_url`, or an embedded one in a temporary folder.

    The embedded server is the one `caseflow up` runs (same binaries and settings, fsync on),
    started fresh and stopped (and its folder removed) at the end, whatever happens.
    """
    if database_url:
        yield Server(database_url, "DATABASE_URL")
        return
    with tempfile.TemporaryDirectory(prefix="caseflow-bench-") as folder:
        server = EmbeddedPostgres(Path(folder) / "data", _free_port(), Path(folder) / "pg.log")
        try:
            url = server.start()
            yield Server(url, "embedded")
        finally:
            server.stop()


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A new, migrated database on the server, dropped at the end; yields its (owner) URL.

    Benchmarks never write into an existing database: the event log is append-only, so what they
    append could never be taken out again.
    """
    name = f"caseflow_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await admin.close()
    url = with_database(server_url, name)
    try:
        await apply_migrations(url)
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def server_facts(url: str) -> dict[str, str]:
    """The settings that decide write speed, to print beside the figures."""
    connection = await asyncpg.connect(url)
    try:
        facts = {"server_version": str(await connection.fetchval("SHOW server_version"))}
        for name in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers"):
            facts[name] = str(await connection.fetchval(f"SHOW {name}"))
        return facts
    finally:
        await connection.close()


# -- timing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """Events per second of each measured run."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_json(self, key: str = "events_per_s") -> dict[str, Any]:
        """`key` names the median: events_per_s, or `median` for another unit."""
        return {key: round(self.median, 1), "runs": [round(r, 1) for r in self.runs]}


def check_work(condition: bool, what: str) -> None:
    """Refuses a measurement whose work was not the work intended (e.g. fewer events stored)."""
    # Not `assert`: a benchmark run with -O must still refuse to time work it did not do.
    if not condition:
        raise AssertionError(f"{what}: the work measured was not the work intended")


async def rate(run: Run) -> float:
    """Events per second of one run of `run`.

    The garbage left by whatever ran before is collected first, outside the timing: a run pays
    for the collections its own allocations cause, not for another's."""
    gc.collect()
    started = time.perf_counter()
    events = await run()
    elapsed = time.perf_counter() - started
    if events <= 0 or elapsed <= 0:
        raise ValueError(f"a measured run handled {events} events in {elapsed:.6f} s")
    return events / elapsed


async def measure_pair(
    caseflow: Run, baseline: Run, *, repeats: int, warmup: Sequence[Run] = ()
) -> tuple[Sample, Sample]:
    """Run each of `warmup` once (unmeasured), then `caseflow` and `baseline` `repeats` times
    each, interleaved ABBA so neither always goes first. Run i of one side and run i of the other
    are measured back to back: a pair.

    What the harness holds meanwhile (a suite's prepared events, the expected results) is frozen
    out of the cyclic collector's sight: otherwise every full collection a run triggers would
    traverse it, and charge the side that allocates more for the harness's own data."""
    if repeats < 1:
        raise ValueError("repeats must be 1 or more")
    for run in warmup:
        await run()
    ours: list[float] = []
    theirs: list[float] = []
    gc.collect()
    gc.freeze()
    try:
        for index in range(repeats):
            if index % 2 == 0:
                ours.append(await rate(caseflow))
                theirs.append(await rate(baseline))
            else:
                theirs.append(await rate(baseline))
                ours.append(await rate(caseflow))
    finally:
        gc.unfreeze()
    return Sample(tuple(ours)), Sample(tuple(theirs))


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """One line of the table: caseflow against its baseline on the same work."""

    name: str
    description: str
    caseflow: Sample
    baseline: Sample
    target: float | None  # the least ratio caseflow/baseline that passes; None: reported only
    notes: tuple[str, ...] = ()
    unit: str = "events/s"  # of both samples (the memory suite reports MB)

    @property
    def ratio(self) -> float:
        """The median of the paired runs' ratios caseflow/baseline: each pair ran back to back,
        so a slow spell of the machine weighs on both sides of a pair alike. (It may differ a
        little from the quotient of the two medians.)"""
        pairs = zip(self.caseflow.runs, self.baseline.runs, strict=True)
        return statistics.median(ours / theirs for ours, theirs in pairs)

    @property
    def _key(self) -> str:
        return "events_per_s" if self.unit == "events/s" else "median"

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "unit": self.unit,
            "caseflow": self.caseflow.as_json(self._key),
            "baseline": self.baseline.as_json(self._key),
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "passed": self.passed,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class SuiteResult:
    name: str
    settings: dict[str, Any]
    comparisons: list[Comparison] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "results": [comparison.as_json() for comparison in self.comparisons],
            "details": self.details,
        }


def report(
    suites: Sequence[SuiteResult], *, server: Server, facts: dict[str, str], seconds: float
) -> dict[str, Any]:
    """The whole run as JSON-able data (what `benchmarks/results/latest.json` holds)."""
    return {
        "format": REPORT_FORMAT,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": round(seconds, 1),
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "postgres": {"source": server.kind, **facts},
        },
        "suites": {suite.name: suite.as_json() for suite in suites},
        "all_targets_passed": all(
            comparison.passed is not False for suite in suites for comparison in suite.comparisons
        ),
    }


def write_json(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _verdict(comparison: Comparison) -> str:
    if comparison.passed is None:
        return "-"
    return f"{'PASS' if comparison.passed else 'FAIL'} (>= {comparison.target:.2f})"


def render_notes(suites: Sequence[SuiteResult]) -> str:
    """The comparisons' notes as a Markdown list, each note once, naming what it is about."""
    about: dict[str, list[str]] = {}
    for suite in suites:
        for comparison in suite.comparisons:
            for note in comparison.notes:
                about.setdefault(note, []).append(comparison.name)
    return "\n".join(f"- {', '.join(names)}: {note}" for note, names in about.items())


def render_table(suites: Sequence[SuiteResult]) -> str:
    """A Markdown table of every comparison (it reads as well in a terminal)."""
    comparisons = [comparison for suite in suites for comparison in suite.comparisons]
    if all(comparison.unit == "events/s" for comparison in comparisons):
        header = ("benchmark", "caseflow ev/s", "baseline ev/s", "ratio", "target")

        def figure(value: float, unit: str) -> str:
            return f"{value:,.0f}"
    else:  # mixed units: each figure says its own
        header = ("benchmark", "caseflow", "baseline", "ratio", "target")

        def figure(value: float, unit: str) -> str:
            return f"{value:,.0f} ev/s" if unit == "events/s" else f"{value:,.1f} {unit}"

    rows = [
        (
            f"{suite.name}: {comparison.name}",
            figure(comparison.caseflow.median, comparison.unit),
            figure(comparison.baseline.median, comparison.unit),
            f"{comparison.ratio:.3f}",
            _verdict(comparison),
        )
        for suite in suites
        for comparison in suite.comparisons
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    right = (False, True, True, True, False)

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(cells, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + (":" if align else "-")
            for width, align in zip(widths, right, strict=True)
        )
        + "|"
    )
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
