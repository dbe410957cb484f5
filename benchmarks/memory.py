"""The worker's memory with many open cases cached, against the same worker idle.

The dev stack as `caseflow up` runs it (`benchmarks.engine.DevStack`: the Temporal dev server on
SQLite with WAL, `python -m workers worker`, the API server and the simulators as child
processes; PostgreSQL is the benchmark's scratch database). `--memory-cases` cases are opened
through the API (`POST /cases`, an update-with-start, as api/cases.py does),
`--memory-concurrency` at a time; each stays open, its workflow waiting for the next command,
and the worker keeps it in its workflow cache.

Measured: the worker process's resident set (`VmRSS` of /proc/<pid>/status), idle (stack up,
nothing opened yet: the baseline) and after the cases were opened and the worker had
`--memory-settle` seconds to settle, each read `--memory-samples` times a second apart (the
median is kept). Reported: MB each, the ratio (loaded/idle, so above 1), the growth in MB and
KB per case opened and per workflow cached.

The worker's cache: caseflow sets no `max_cached_workflows` (there is no CASEFLOW_ setting for
it), so the Temporal SDK's default applies (`SDK_MAX_CACHED_WORKFLOWS` below): with more cases
than that, the oldest are evicted and the worker holds that many at most.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import httpx

from benchmarks.common import Comparison, Sample, SuiteResult
from benchmarks.engine import COUNTY, DevStack
from domain.commands import PROGRAM_TIMEZONE
from store.directory import Directory
from store.pool import create_app_pool
from workers.simulate import MAX_CASES, enrol_staff, plan_year

NAME: Final = "memory"
# temporalio.worker.Worker(max_cached_workflows=1000) unless given; caseflow does not give it.
SDK_MAX_CACHED_WORKFLOWS: Final = 1000


@dataclass(frozen=True, slots=True)
class MemorySizes:
    cases: int = 10_000  # cases opened (and left open)
    concurrency: int = 16  # cases opened at once
    settle: int = 5  # seconds to wait before reading the RSS
    samples: int = 3  # RSS readings, a second apart; the median is kept

    def check(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"memory {name} must be 1 or more, not {value}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = MemorySizes()
    group = parser.add_argument_group("memory benchmark sizes")
    helps = {
        "cases": "cases opened and left open in the worker",
        "concurrency": "cases opened at once",
        "settle": "seconds to wait before reading the worker's RSS",
        "samples": "RSS readings a second apart (median kept)",
    }
    for name, text in helps.items():
        default = getattr(defaults, name)
        group.add_argument(
            f"--memory-{name}",
            dest=f"memory_{name}",
            type=int,
            default=default,
            help=f"{text} (default {default:,})",
        )


def sizes_from(options: argparse.Namespace) -> MemorySizes:
    names = MemorySizes.__dataclass_fields__
    return MemorySizes(**{name: getattr(options, f"memory_{name}") for name in names})


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of process `pid`, in kB, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


async def read_rss(pid: int, sizes: MemorySizes) -> tuple[float, int]:
    """The median VmRSS in MB over `sizes.samples` readings, and the peak (VmHWM) in kB."""
    await asyncio.sleep(sizes.settle)
    readings: list[float] = []
    peak = 0
    for index in range(sizes.samples):
        if index:
            await asyncio.sleep(1)
        status = rss_kb(pid)
        readings.append(status["VmRSS"] / 1024)
        peak = status["VmHWM"]
    return statistics.median(readings), peak


async def open_cases(
    stack: DevStack, sizes: MemorySizes, log: Callable[[str], None]
) -> tuple[int, int, float]:
    """Open `sizes.cases` cases through the API; (opened, retries, seconds)."""
    now = datetime.now(PROGRAM_TIMEZONE)
    run = f"mem{uuid.uuid4().hex[:8]}"
    # The simulation plans at most MAX_CASES children a year; beyond that the same generated
    # reports open further cases (new idempotency keys), which is all memory needs.
    planned = min(sizes.cases, MAX_CASES)
    plan = plan_year(year=now.year, cases=planned, seed=run, counties=[COUNTY], now=now)
    pool = await create_app_pool(stack.settings(), max_size=2)
    try:
        staff = await enrol_staff(Directory(pool), plan, run)
    finally:
        await pool.close()
    slots = asyncio.Semaphore(sizes.concurrency)
    opened = retries = 0
    started = time.perf_counter()
    next_report = started + 15
    limits = httpx.Limits(max_connections=sizes.concurrency * 2)
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=120, trust_env=False, limits=limits
    ) as http:

        async def one(number: int) -> None:
            nonlocal opened, retries, next_report
            case = plan.cases[number % planned]
            token = staff.tokens[staff.caseworkers[case.township]]
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{run}-{number}"}
            async with slots:
                for _ in range(10):
                    answer = await http.post("/cases", json=case.report, headers=headers)
                    if answer.is_success:
                        break
                    if answer.status_code != 503:
                        raise RuntimeError(f"open case: {answer.status_code} {answer.text}")
                    retries += 1
                    await asyncio.sleep(0.5)
                else:
                    raise RuntimeError("open case: still 503 after 10 tries")
            opened += 1
            if time.perf_counter() > next_report:
                next_report += 15
                rate = opened / (time.perf_counter() - started)
                log(f"memory: opened {opened:,} of {sizes.cases:,} cases ({rate:,.1f}/s)")

        await asyncio.gather(*(one(number) for number in range(sizes.cases)))
    return opened, retries, time.perf_counter() - started


async def run(database_url: str, sizes: MemorySizes, *, log: Callable[[str], None]) -> SuiteResult:
    sizes.check()
    cached = min(sizes.cases, SDK_MAX_CACHED_WORKFLOWS)
    settings: dict[str, Any] = {
        "memory": asdict(sizes),
        "max_cached_workflows": SDK_MAX_CACHED_WORKFLOWS,
        "max_cached_workflows_source": "Temporal SDK default (caseflow sets none)",
    }
    result = SuiteResult(NAME, settings)
    with tempfile.TemporaryDirectory(prefix="caseflow-bench-memory-") as folder:
        stack = DevStack(Path(folder), database_url)
        try:
            log("memory: starting the dev stack")
            await stack.start()
            worker = stack.children["worker"].pid
            idle_mb, idle_peak = await read_rss(worker, sizes)
            log(f"memory: worker {worker} idle: {idle_mb:,.1f} MB; opening {sizes.cases:,} cases")
            opened, retries, seconds = await open_cases(stack, sizes, log)
            loaded_mb, loaded_peak = await read_rss(worker, sizes)
            log(f"memory: worker with {opened:,} cases opened: {loaded_mb:,.1f} MB")
            if stack.children["worker"].poll() is not None:
                raise RuntimeError(f"the worker died; see {stack.logs}")
        finally:
            stack.stop()
    growth_mb = loaded_mb - idle_mb
    result.comparisons.append(
        Comparison(
            name=f"worker RSS, {opened:,} cases open ({cached:,} cached)",
            description="the worker's VmRSS with the cases opened, against the same worker idle",
            caseflow=Sample((loaded_mb,)),
            baseline=Sample((idle_mb,)),
            target=None,
            notes=(
                "MB of resident memory; the ratio is loaded/idle (above 1: the cost of the "
                f"cases); cache: max_cached_workflows {SDK_MAX_CACHED_WORKFLOWS:,} (SDK default)",
            ),
            unit="MB",
        )
    )
    result.details = {
        "cases_opened": opened,
        "workflows_cached_at_most": cached,
        "open_seconds": round(seconds, 1),
        "cases_opened_per_s": round(opened / seconds, 1),
        "retries_503": retries,
        "idle_rss_mb": round(idle_mb, 1),
        "loaded_rss_mb": round(loaded_mb, 1),
        "growth_mb": round(growth_mb, 1),
        "kb_per_case_opened": round(growth_mb * 1024 / opened, 1),
        "kb_per_workflow_cached": round(growth_mb * 1024 / cached, 1),
        "peak_rss_mb": {"idle": round(idle_peak / 1024, 1), "loaded": round(loaded_peak / 1024, 1)},
    }
    return result


__all__ = ["NAME", "MemorySizes", "add_arguments", "run", "sizes_from"]
