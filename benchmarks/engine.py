"""The whole engine against a bare Temporal workflow, in one run against the same servers.

The dev stack as `caseflow up` runs it (the Temporal dev server on SQLite with WAL, the worker,
the API server and the outside-system simulators as child processes; PostgreSQL is the
benchmark's scratch database) carries `--engine-cases` cases through a short life over HTTP,
`--engine-concurrency` at a time: report (update-with-start), assessment, assistance, delivery,
visit. Each command is an update whose handler appends the events through a local activity.

Baseline: a bare workflow (`BareCase`, no domain logic, no codec, default data converter) on the
same Temporal server, its worker inside this process, driven straight by a Temporal client: the
same number of cases, the same number of updates (the first one an update-with-start), each
awaiting one local activity that does nothing.

Measured:

- cases per second, caseflow against bare (target: >= 0.8);
- each command's p50/p95 latency through the API beside the bare update round trip (target:
  API p50 <= 1.3x bare p50, written as the ratio bare/API >= 0.77);
- the bare workload on the SQLite WAL dev server against an in-memory dev server (target: WAL
  >= 0.8 of in-memory);
- for sizing (`benchmarks/scale.py`, docs/scale.md): history events and bytes per case and per
  command, CPU seconds per command of the Temporal server, the worker and the API, and stored
  bytes per event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
import psutil
from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from benchmarks.common import Comparison, Sample, SuiteResult, _free_port, measure_pair
from caseflow.settings import Settings
from domain.codec import case_stream_id
from domain.commands import PROGRAM_TIMEZONE
from store.directory import Directory
from store.pool import create_app_pool
from workers.bootstrap import prepare
from workers.embedded_temporal import EmbeddedTemporal, temporal_binary
from workers.simulate import Staff, YearPlan, enrol_staff, plan_year
from workflows.search_attributes import SEARCH_ATTRIBUTE_TYPES

NAME: Final = "engine"
COUNTY: Final = "530627"
STEPS: Final = ("report", "assessment", "assistance", "delivery", "visit")
SCORES: Final = {
    "survival": 2,
    "education": 1,
    "health": 1,
    "guardianship": 2,
    "safety": 0,
    "psychosocial": 1,
}
READY_TIMEOUT: Final = 90.0
HISTORY_SAMPLE: Final = 10


@dataclass(frozen=True, slots=True)
class EngineSizes:
    cases: int = 60  # cases per measured run
    concurrency: int = 8  # cases driven at once
    repeats: int = 3

    def check(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"{name} must be 1 or more, not {value}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = EngineSizes()
    group = parser.add_argument_group("engine benchmark sizes")
    group.add_argument(
        "--engine-cases",
        type=int,
        default=defaults.cases,
        help=f"cases per measured run (default {defaults.cases})",
    )
    group.add_argument(
        "--engine-repeats",
        type=int,
        default=defaults.repeats,
        help=f"measured runs of each side (default {defaults.repeats})",
    )
    group.add_argument(
        "--engine-concurrency",
        type=int,
        default=defaults.concurrency,
        help=f"cases driven at once (default {defaults.concurrency})",
    )


def sizes_from(options: argparse.Namespace) -> EngineSizes:
    return EngineSizes(
        cases=options.engine_cases,
        concurrency=options.engine_concurrency,
        repeats=options.engine_repeats,
    )


# -- the bare workflow ----------------------------------------------------------------------------


@activity.defn(name="bare_append")
async def bare_append(body: str) -> int:
    return len(body)


@workflow.defn(name="BareCase")
class BareCase:
    def __init__(self) -> None:
        self.commands = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: False)
        return self.commands  # pragma: no cover - runs until terminated

    @workflow.update(name="command")
    async def command(self, body: str) -> int:
        await workflow.execute_local_activity(
            bare_append, body, start_to_close_timeout=timedelta(seconds=30)
        )
        self.commands += 1
        return self.commands


def bare_worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareCase],
        activities=[bare_append],
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("benchmarks")
        ),
    )


@dataclass
class Latencies:
    by_step: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.by_step.setdefault(step, []).append(seconds)

    def all(self) -> list[float]:
        return [s for values in self.by_step.values() for s in values]


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        value = values[0] * 1000 if values else 0.0
        return {"p50_ms": round(value, 2), "p95_ms": round(value, 2), "n": len(values)}
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(cuts[18] * 1000, 2),
        "n": len(values),
    }


def bare_run(
    client: Client, task_queue: str, sizes: EngineSizes, latencies: Latencies | None
) -> Callable[[], Awaitable[int]]:
    """One measured run of the bare workload: returns the number of cases carried."""
    body = "x" * 200

    async def one(case: int, prefix: str) -> None:
        start = WithStartWorkflowOperation(
            BareCase.run,
            id=f"bare-{prefix}-{case}",
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        began = time.perf_counter()
        await client.execute_update_with_start_workflow(
            BareCase.command, body, start_workflow_operation=start
        )
        if latencies is not None:
            latencies.add("report", time.perf_counter() - began)
        handle = await start.workflow_handle()
        for step in STEPS[1:]:
            began = time.perf_counter()
            await handle.execute_update(BareCase.command, body)
            if latencies is not None:
                latencies.add(step, time.perf_counter() - began)

    async def run() -> int:
        prefix = uuid.uuid4().hex[:8]
        slots = asyncio.Semaphore(sizes.concurrency)

        async def limited(case: int) -> None:
            async with slots:
                await one(case, prefix)

        await asyncio.gather(*(limited(case) for case in range(sizes.cases)))
        return sizes.cases

    return run


# -- the dev stack ----------------------------------------------------------------------------


class DevStack:
    """The embedded Temporal (WAL) and the worker, API and simulators as child processes, on a
    given PostgreSQL database; the way `caseflow up` runs them."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.api_port = _free_port()
        self.temporal = EmbeddedTemporal(
            folder / "temporal",
            _free_port(),
            _free_port(),
            self.logs / "temporal.log",
            search_attributes=SEARCH_ATTRIBUTE_TYPES,
        )
        self.env = {
            **{
                k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
            },
            "CASEFLOW_DATA_DIR": str(folder),
            "CASEFLOW_API_PORT": str(self.api_port),
            "CASEFLOW_TEMPORAL_PORT": str(self.temporal.port),
            "CASEFLOW_TEMPORAL_UI_PORT": str(self.temporal.ui_port),
            "CASEFLOW_CIVIL_AFFAIRS_SIMULATOR_PORT": str(_free_port()),
            "CASEFLOW_SCHOOL_SIMULATOR_PORT": str(_free_port()),
            "CASEFLOW_LOAD_DEMO": "false",
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": self.temporal.address,
        }
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.env)
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    async def start(self) -> None:
        await asyncio.to_thread(self.temporal.start)
        await prepare(self.settings())
        self._spawn()
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
            while True:
                for command, child in self.children.items():
                    if child.poll() is not None:
                        raise RuntimeError(f"the {command} died; see {self.logs}")
                try:
                    if (await http.get(f"{self.url}/healthz")).is_success:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not come up; see {self.logs}")
                await asyncio.sleep(0.25)

    def _spawn(self) -> None:
        for command in ("simulators", "worker", "api"):
            with (self.logs / f"{command}.log").open("ab") as log:
                self.children[command] = subprocess.Popen(
                    [sys.executable, "-m", "workers", command],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    process_group=0,
                )

    def stop(self) -> None:
        for command in ("api", "worker", "simulators"):
            child = self.children.pop(command, None)
            if child is None or child.poll() is not None:
                continue
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.temporal.stop()

    def cpu_seconds(self) -> dict[str, float]:
        pids = {name: child.pid for name, child in self.children.items()}
        server = self.temporal._server_pid()  # ours: to read its CPU time
        if server is not None:
            pids["temporal_server"] = server
        seconds = {}
        for name, pid in pids.items():
            times = psutil.Process(pid).cpu_times()
            seconds[name] = times.user + times.system
        return seconds


@dataclass
class CaseflowWorkload:
    """Plans and users made before the timed runs; each run takes the next plan."""

    stack: DevStack
    sizes: EngineSizes
    latencies: Latencies = field(default_factory=Latencies)
    plans: list[tuple[YearPlan, Staff]] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    commands: int = 0
    retries: int = 0

    async def prepare(self, runs: int) -> None:
        now = datetime.now(PROGRAM_TIMEZONE)
        pool = await create_app_pool(self.stack.settings(), max_size=2)
        try:
            for _ in range(runs):
                run = f"bench{uuid.uuid4().hex[:8]}"
                plan = plan_year(
                    year=now.year, cases=self.sizes.cases, seed=run, counties=[COUNTY], now=now
                )
                self.plans.append((plan, await enrol_staff(Directory(pool), plan, run)))
        finally:
            await pool.close()

    def run(self, *, measured: bool) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            plan, staff = self.plans.pop()
            slots = asyncio.Semaphore(self.sizes.concurrency)
            limits = httpx.Limits(max_connections=self.sizes.concurrency * 2)
            async with httpx.AsyncClient(
                base_url=self.stack.url, timeout=60, trust_env=False, limits=limits
            ) as http:

                async def limited(number: int) -> None:
                    async with slots:
                        await self._life(http, plan, staff, number, measured)

                await asyncio.gather(*(limited(n) for n in range(len(plan.cases))))
            return len(plan.cases)

        return run

    async def _life(
        self, http: httpx.AsyncClient, plan: YearPlan, staff: Staff, number: int, measured: bool
    ) -> None:
        case = plan.cases[number]
        token = staff.tokens[staff.caseworkers[case.township]]
        now = datetime.now(PROGRAM_TIMEZONE)

        async def send(step: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{number}-{step}"}
            for _ in range(5):
                began = time.perf_counter()
                answer = await http.post(path, json=body, headers=headers)
                if answer.is_success:
                    if measured:
                        self.latencies.add(step, time.perf_counter() - began)
                        self.commands += 1
                    reply: dict[str, Any] = answer.json()
                    return reply
                if answer.status_code != 503:
                    raise RuntimeError(f"{step}: {answer.status_code} {answer.text}")
                self.retries += 1
                await asyncio.sleep(0.5)
            raise RuntimeError(f"{step}: still 503 after 5 tries")

        state = await send("report", "/cases", case.report)
        at = f"/cases/{state['case_id']}"
        if measured:
            self.case_ids.append(str(state["case_id"]))
        await send("assessment", f"{at}/assessment", {"scores": SCORES})
        reply = await send(
            "assistance",
            f"{at}/assistance",
            {"kind": "food_pack", "quantity": 2, "unit": "pack", "value_yuan": 150},
        )
        [request_id] = reply["state"]["assistance"]
        await send(
            "delivery",
            f"{at}/assistance/{request_id}/deliveries",
            {"quantity": 2, "delivered_on": now.date().isoformat()},
        )
        visit = {
            "visited_at": (now - timedelta(minutes=30)).isoformat(),
            "visit_kind": "home",
            "observations": "Child well; benchmark visit.",
        }
        await send("visit", f"{at}/visits", visit)


async def history_sizes(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    """Mean history events and bytes of the sampled workflows (first runs only)."""
    events: list[int] = []
    sizes: list[int] = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        events.append(len(history.events))
        sizes.append(sum(event.ByteSize() for event in history.events))
    return {
        "events_per_case": round(statistics.mean(events), 1),
        "bytes_per_case": round(statistics.mean(sizes), 1),
        "sampled": len(workflow_ids),
    }


async def store_sizes(database_url: str) -> dict[str, float]:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS events,"
            " coalesce(avg(octet_length(data::text) + octet_length(metadata::text)), 0) AS payload,"
            " pg_total_relation_size('events') AS total,"
            " pg_relation_size('events') AS heap,"
            " count(DISTINCT stream_id) AS streams FROM events"
        )
    finally:
        await connection.close()
    events = max(int(row["events"]), 1)
    return {
        "events": int(row["events"]),
        "streams": int(row["streams"]),
        "payload_bytes_per_event": round(float(row["payload"]), 1),
        "heap_bytes_per_event": round(int(row["heap"]) / events, 1),
        "total_bytes_per_event": round(int(row["total"]) / events, 1),
    }


def latency_comparison(step: str, api: list[float], bare: list[float]) -> Comparison:
    """p50 latency as 'commands per second of one caller' (1/p50), so higher is better and the
    target 'API p50 <= 1.3x bare' reads as ratio >= 1/1.3."""
    ours = statistics.median(api)
    theirs = statistics.median(bare)
    return Comparison(
        name=f"p50 latency: {step}",
        description=f"{step} through the API against a bare Temporal update round trip",
        caseflow=Sample((1 / ours,)),
        baseline=Sample((1 / theirs,)),
        target=round(1 / 1.3, 3),
        notes=(
            "latency rows: figures are 1/p50 (round trips per second of one caller); "
            "ratio = bare p50 / API p50, target API p50 <= 1.3x bare",
        ),
    )


async def run(database_url: str, sizes: EngineSizes, *, log: Callable[[str], None]) -> SuiteResult:
    sizes.check()
    result = SuiteResult(NAME, {**asdict(sizes), "steps": list(STEPS)})
    with tempfile.TemporaryDirectory(prefix="caseflow-bench-engine-") as folder:
        stack = DevStack(Path(folder), database_url)
        try:
            log(f"engine: starting the dev stack in {folder}")
            await stack.start()
            await _measure(stack, database_url, sizes, result, log)
        finally:
            stack.stop()
    return result


async def _measure(
    stack: DevStack,
    database_url: str,
    sizes: EngineSizes,
    result: SuiteResult,
    log: Callable[[str], None],
) -> None:
    workload = CaseflowWorkload(stack, sizes)
    await workload.prepare(sizes.repeats + 1)
    client = await Client.connect(stack.temporal.address)
    task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    bare_latencies = Latencies()
    async with bare_worker(client, task_queue):
        log(f"engine: caseflow vs bare, {sizes.cases} cases x {sizes.repeats} runs")
        cpu_before = stack.cpu_seconds()
        ours, theirs = await measure_pair(
            workload.run(measured=True),
            bare_run(client, task_queue, sizes, bare_latencies),
            repeats=sizes.repeats,
            warmup=[workload.run(measured=False), bare_run(client, task_queue, sizes, None)],
        )
    cpu_after = stack.cpu_seconds()
    result.comparisons.append(
        Comparison(
            name="cases/s: caseflow vs bare",
            description=(
                f"{len(STEPS)}-command case lives through the API against the same updates and "
                "local activities on a bare workflow, same Temporal server"
            ),
            caseflow=ours,
            baseline=theirs,
            target=0.8,
            notes=("throughput rows are cases/s, not events/s",),
        )
    )
    for step in STEPS:
        result.comparisons.append(
            latency_comparison(step, workload.latencies.by_step[step], bare_latencies.by_step[step])
        )

    # The same bare workload on an in-memory dev server, against the WAL one.
    log("engine: SQLite WAL vs in-memory dev server (bare workload)")
    memory = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        ui=False,
        dev_server_log_level="warn",
    )
    try:
        memory_queue = f"bench-mem-{uuid.uuid4().hex[:8]}"
        async with (
            bare_worker(client, task_queue),
            bare_worker(memory.client, memory_queue),
        ):
            wal, in_memory = await measure_pair(
                bare_run(client, task_queue, sizes, None),
                bare_run(memory.client, memory_queue, sizes, None),
                repeats=sizes.repeats,
                warmup=[bare_run(memory.client, memory_queue, sizes, None)],
            )
    finally:
        await memory.shutdown()
    result.comparisons.append(
        Comparison(
            name="cases/s: WAL vs in-memory server",
            description="the bare workload on the SQLite (WAL) dev server against in memory",
            caseflow=wal,
            baseline=in_memory,
            target=0.8,
            notes=("throughput rows are cases/s, not events/s",),
        )
    )

    log("engine: history and store sizes")
    sample = workload.case_ids[:HISTORY_SAMPLE]
    history = await history_sizes(client, [case_stream_id(uuid.UUID(c)) for c in sample])
    commands = workload.commands
    cpu = {
        name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / max(commands, 1), 3)
        for name in cpu_after
    }
    store = await store_sizes(database_url)
    result.details.update(
        {
            "latency_ms": {
                "api": {
                    step: percentiles(values) for step, values in workload.latencies.by_step.items()
                },
                "bare": {
                    step: percentiles(values) for step, values in bare_latencies.by_step.items()
                },
                "api_all": percentiles(workload.latencies.all()),
                "bare_all": percentiles(bare_latencies.all()),
            },
            "per_command": {
                "commands_measured": commands,
                "cpu_ms_per_command": cpu,
                "cpu_note": (
                    "CPU of each process over the measured caseflow and bare runs, divided by "
                    "the caseflow commands: the Temporal server figure includes the bare runs"
                ),
                "history_events_per_command": round(history["events_per_case"] / len(STEPS), 2),
                "history_bytes_per_command": round(history["bytes_per_case"] / len(STEPS), 1),
                "store_events_per_command": round(
                    store["events"] / max(store["streams"], 1) / 5, 2
                ),
                "retries_503": workload.retries,
            },
            "history": {**history, "commands_per_case": len(STEPS)},
            "store": store,
        }
    )
    _print_details(result, log)


def _print_details(result: SuiteResult, log: Callable[[str], None]) -> None:
    latency = result.details["latency_ms"]
    for step in STEPS:
        api, bare = latency["api"][step], latency["bare"][step]
        log(
            f"engine: {step:<10} API p50 {api['p50_ms']:7.1f} ms p95 {api['p95_ms']:7.1f} ms | "
            f"bare p50 {bare['p50_ms']:6.1f} ms p95 {bare['p95_ms']:6.1f} ms | "
            f"x{api['p50_ms'] / max(bare['p50_ms'], 1e-9):.2f}"
        )
    per = result.details["per_command"]
    log(f"engine: per command {per}")
    log(f"engine: history {result.details['history']} store {result.details['store']}")
