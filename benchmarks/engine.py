"""The whole engine against a bare Temporal workflow, in one run against the same servers.

The dev stack as `caseflow up` runs it (the Temporal dev server on SQLite with WAL, the worker,
the API server and the outside-system simulators as child processes; PostgreSQL is the
benchmark's scratch database) carries `--engine-cases` cases through a full life over HTTP,
`--engine-concurrency` at a time (`STEPS`, issue 7): report (update-with-start), assessment,
assistance above the approval threshold, its approval by the county's supervisor, delivery,
referral, the agency's answer, visit, closure proposed, closure approved. Each command is an
update whose handler decides the events and appends them through a local activity.

Baseline: a bare workflow (`BareCase`, no domain logic, no codec, the default data converter) on
the same Temporal server, with its worker in a process of its own like caseflow's worker, driven
straight by a Temporal client at the same concurrency: the same number of cases, the same number
of updates per case (the first an update-with-start), each awaiting one local activity that
makes one durable write to the same PostgreSQL: an `INSERT` of one row of about the bytes
caseflow stores per command into a table with the event store's columns and indexes (the store
suite's baseline table), in its own transaction (commit and WAL flush, like an append).

Measured:

- cases per second, caseflow against bare (target: >= 0.8);
- each command's p50/p95 latency through the API beside the bare update round trip, with
  `--engine-concurrency` cases in flight (target: API p50 <= 1.3x bare p50, written as the ratio
  bare/API >= 0.77), and the same with one caller (`--engine-single-cases` cases, one command at
  a time: the round trip without queueing);
- the bare workload on the SQLite WAL dev server against an in-memory dev server (target: WAL
  >= 0.8 of in-memory);
- CPU milliseconds per command of every process on each side (Temporal server, worker, API,
  PostgreSQL, the driver), measured over that side's runs only;
- for sizing (`benchmarks/scale.py`, docs/scale.md): history events and bytes per case and per
  command on both sides, and stored bytes per event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
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

from benchmarks.common import Comparison, Run, Sample, SuiteResult, _free_port, measure_pair
from benchmarks.store import BASELINE_INSERT_ONE, CREATE_BASELINE
from caseflow.settings import Settings
from domain.codec import case_stream_id
from domain.commands import PROGRAM_TIMEZONE
from store.directory import Directory
from store.pool import create_app_pool, create_pool
from workers.bootstrap import prepare
from workers.embedded_temporal import EmbeddedTemporal, temporal_binary
from workers.simulate import Staff, YearPlan, enrol_staff, plan_year
from workflows.search_attributes import SEARCH_ATTRIBUTE_TYPES

NAME: Final = "engine"
COUNTY: Final = "530627"
# A case's full life (issue 7): one update each, the first an update-with-start.
STEPS: Final = (
    "report",
    "assessment",
    "assistance",
    "approval",
    "delivery",
    "referral",
    "referral_answer",
    "visit",
    "closure",
    "closure_approval",
)
SCORES: Final = {
    "survival": 2,
    "education": 1,
    "health": 1,
    "guardianship": 2,
    "safety": 0,
    "psychosocial": 1,
}
# Above the 2,000 yuan threshold (domain.rules.assistance): a supervisor must approve it.
ASSISTANCE: Final = {
    "kind": "school_supplies",
    "quantity": 1,
    "unit": "set",
    "value_yuan": 2400,
    "purpose": "Benchmark: books, uniform and fees for the term.",
}
REFERRAL: Final = {
    "agency_kind": "hospital",
    "agency": "County People's Hospital",
    "service": "Health check-up",
}
READY_TIMEOUT: Final = 90.0
HISTORY_SAMPLE: Final = 10
ROOT: Final = Path(__file__).resolve().parent.parent
# What one bare command stores: about what caseflow stores per command (≈ 1.4 events of
# ≈ 540 bytes of data and metadata each, `details.store`), as one row.
BARE_DATA: Final = '{"note": "' + "x" * 548 + '"}'
BARE_METADATA_PAD: Final = "y" * 120


@dataclass(frozen=True, slots=True)
class EngineSizes:
    cases: int = 60  # cases per measured run
    concurrency: int = 8  # cases driven at once
    repeats: int = 3
    single_cases: int = 6  # cases driven one command at a time, per side, for the round trip

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
    group.add_argument(
        "--engine-single-cases",
        type=int,
        default=defaults.single_cases,
        help="cases per side driven by one caller, for the unloaded round trip "
        f"(default {defaults.single_cases})",
    )


def sizes_from(options: argparse.Namespace) -> EngineSizes:
    return EngineSizes(
        cases=options.engine_cases,
        concurrency=options.engine_concurrency,
        repeats=options.engine_repeats,
        single_cases=getattr(options, "engine_single_cases", EngineSizes().single_cases),
    )


# -- the bare workflow ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BareAppend:
    stream_id: str
    version: int
    event_id: str
    data: str


class BareStore:
    """The bare side's durable write: one row, one statement, one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name="bare_append")
    async def append(self, request: BareAppend) -> int:
        metadata = f'{{"workflow_id": "{request.stream_id}", "pad": "{BARE_METADATA_PAD}"}}'
        await self._pool.execute(
            BASELINE_INSERT_ONE,
            request.stream_id,
            request.version,
            uuid.UUID(request.event_id),
            "BareCommand",
            1,
            request.data,
            metadata,
        )
        return request.version


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
        version = self.commands + 1
        await workflow.execute_local_activity_method(
            BareStore.append,
            BareAppend(workflow.info().workflow_id, version, str(workflow.uuid4()), body),
            start_to_close_timeout=timedelta(seconds=30),
        )
        self.commands = version
        return version


def bare_worker(client: Client, task_queue: str, pool: asyncpg.Pool) -> Worker:
    """Worker settings as caseflow's (`workers/worker.py`: the SDK's defaults, sandboxed)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareCase],
        activities=[BareStore(pool).append],
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("benchmarks")
        ),
    )


def bare_worker_main(argv: Sequence[str]) -> None:
    """The bare worker's process: `address task_queue database_url ready_file`."""
    address, task_queue, database_url, ready = argv
    asyncio.run(_serve_bare(address, task_queue, database_url, Path(ready)))


async def _serve_bare(address: str, task_queue: str, database_url: str, ready: Path) -> None:
    pool = await create_pool(database_url)  # the size of the worker's pool (create_app_pool)
    try:
        client = await Client.connect(address)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with bare_worker(client, task_queue, pool):
            ready.write_text("ready")
            await stop.wait()
    finally:
        await pool.close()


class BareWorkerProcess:
    """`bare_worker_main` in a child process, polling `task_queue` of the server at `address`."""

    def __init__(self, address: str, database_url: str, logs: Path) -> None:
        self.task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
        self._ready = logs / f"{self.task_queue}.ready"
        code = "import sys; from benchmarks.engine import bare_worker_main; "
        code += "bare_worker_main(sys.argv[1:])"
        with (logs / f"{self.task_queue}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    code,
                    address,
                    self.task_queue,
                    database_url,
                    str(self._ready),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                process_group=0,
            )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._ready.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the bare worker died; see {self._ready.with_suffix('.log')}")
            if time.monotonic() > deadline:
                raise RuntimeError("the bare worker did not come up")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    client: Client,
    task_queue: str,
    *,
    cases: int,
    concurrency: int,
    latencies: Latencies | None,
    workflow_ids: list[str] | None = None,
) -> Run:
    """One run of the bare workload: returns the number of cases carried."""

    async def one(case: int, prefix: str) -> None:
        start = WithStartWorkflowOperation(
            BareCase.run,
            id=f"bare-{prefix}-{case}",
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        began = time.perf_counter()
        version = await client.execute_update_with_start_workflow(
            "command", BARE_DATA, start_workflow_operation=start, result_type=int
        )
        if latencies is not None:
            latencies.add(STEPS[0], time.perf_counter() - began)
        handle = await start.workflow_handle()
        if workflow_ids is not None:
            workflow_ids.append(handle.id)
        for step in STEPS[1:]:
            began = time.perf_counter()
            version = await handle.execute_update("command", BARE_DATA, result_type=int)
            if latencies is not None:
                latencies.add(step, time.perf_counter() - began)
        if version != len(STEPS):
            raise RuntimeError(f"bare case {handle.id} recorded {version} commands")

    async def run() -> int:
        prefix = uuid.uuid4().hex[:8]
        slots = asyncio.Semaphore(concurrency)

        async def limited(case: int) -> None:
            async with slots:
                await one(case, prefix)

        await asyncio.gather(*(limited(case) for case in range(cases)))
        return cases

    return run


# -- CPU per process ------------------------------------------------------------------------------


def _cpu(pid: int) -> float | None:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


@dataclass
class CpuMeter:
    """CPU seconds of named groups of processes, sampled before and after each run of a side."""

    groups: dict[str, Callable[[], list[int]]]
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # side -> group -> s
    commands: dict[str, int] = field(default_factory=dict)

    def sample(self) -> dict[str, dict[int, float]]:
        found: dict[str, dict[int, float]] = {}
        for name, pids in self.groups.items():
            found[name] = {}
            for pid in pids():
                value = _cpu(pid)
                if value is not None:
                    found[name][pid] = value
        return found

    def metered(self, side: str, run: Run, commands_per_unit: int) -> Run:
        """`run`, adding the CPU of every group over it to `side`."""

        async def wrapped() -> int:
            before = self.sample()
            units = await run()
            after = self.sample()
            totals = self.seconds.setdefault(side, {})
            for name, pids in after.items():
                spent = sum(s - before.get(name, {}).get(pid, 0.0) for pid, s in pids.items())
                totals[name] = totals.get(name, 0.0) + spent
            self.commands[side] = self.commands.get(side, 0) + units * commands_per_unit
            return units

        return wrapped

    def per_command_ms(self, side: str) -> dict[str, float]:
        commands = max(self.commands.get(side, 0), 1)
        spent = self.seconds.get(side, {})
        per = {name: round(s * 1000 / commands, 3) for name, s in spent.items()}
        per["total"] = round(sum(spent.values()) * 1000 / commands, 3)
        return per


async def postgres_pids(database_url: str) -> Callable[[], list[int]]:
    """The PostgreSQL server's processes (postmaster and backends), when it runs on this
    machine; else none."""
    connection = await asyncpg.connect(database_url)
    try:
        backend = int(await connection.fetchval("SELECT pg_backend_pid()"))
        try:  # while the backend lives: it exits when the connection closes
            postmaster = psutil.Process(backend).parent()
        except psutil.Error:
            postmaster = None
    finally:
        await connection.close()
    if postmaster is None or "postgres" not in postmaster.name():
        return list

    def pids() -> list[int]:
        # process_iter skips processes that end while it lists them (other users' too).
        children = [
            process.pid
            for process in psutil.process_iter(["ppid"])
            if process.info["ppid"] == postmaster.pid
        ]
        return [postmaster.pid, *children]

    return pids


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
    latencies: Latencies = field(default_factory=Latencies)
    plans: list[tuple[YearPlan, Staff]] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    commands: int = 0
    retries: int = 0

    async def prepare(self, runs: int, cases: int) -> None:
        now = datetime.now(PROGRAM_TIMEZONE)
        pool = await create_app_pool(self.stack.settings(), max_size=2)
        try:
            for _ in range(runs):
                run = f"bench{uuid.uuid4().hex[:8]}"
                plan = plan_year(year=now.year, cases=cases, seed=run, counties=[COUNTY], now=now)
                self.plans.append((plan, await enrol_staff(Directory(pool), plan, run)))
        finally:
            await pool.close()

    def run(self, *, concurrency: int, latencies: Latencies | None) -> Run:
        async def run() -> int:
            plan, staff = self.plans.pop()
            slots = asyncio.Semaphore(concurrency)
            limits = httpx.Limits(max_connections=concurrency * 2)
            async with httpx.AsyncClient(
                base_url=self.stack.url, timeout=60, trust_env=False, limits=limits
            ) as http:

                async def limited(number: int) -> None:
                    async with slots:
                        await self._life(http, plan, staff, number, latencies)

                await asyncio.gather(*(limited(n) for n in range(len(plan.cases))))
            return len(plan.cases)

        return run

    async def _life(
        self,
        http: httpx.AsyncClient,
        plan: YearPlan,
        staff: Staff,
        number: int,
        latencies: Latencies | None,
    ) -> None:
        case = plan.cases[number]
        caseworker = staff.tokens[staff.caseworkers[case.township]]
        supervisor = staff.tokens[staff.supervisors[COUNTY]]
        now = datetime.now(PROGRAM_TIMEZONE)

        async def send(
            step: str, path: str, body: dict[str, Any], token: str = caseworker
        ) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{number}-{step}"}
            for _ in range(5):
                began = time.perf_counter()
                answer = await http.post(path, json=body, headers=headers)
                if answer.is_success:
                    if latencies is not None:
                        latencies.add(step, time.perf_counter() - began)
                        self.commands += 1
                    reply: dict[str, Any] = answer.json()
                    return reply
                if answer.status_code != 503:
                    raise RuntimeError(f"{step}: {answer.status_code} {answer.text}")
                self.retries += 1
                await asyncio.sleep(0.5)
            raise RuntimeError(f"{step}: still 503 after 5 tries")

        def pending_approval(reply: dict[str, Any], kind: str) -> str:
            [found] = [
                approval_id
                for approval_id, approval in reply["state"]["approvals"].items()
                if approval["kind"] == kind and approval["status"] == "pending"
            ]
            return str(found)

        state = await send("report", "/cases", case.report)
        at = f"/cases/{state['case_id']}"
        if latencies is not None:
            self.case_ids.append(str(state["case_id"]))
        await send("assessment", f"{at}/assessment", {"scores": SCORES})
        reply = await send("assistance", f"{at}/assistance", ASSISTANCE)
        [request_id] = reply["state"]["assistance"]
        approve = {"decision": "approve", "comment": "Benchmark: approved."}
        approval = pending_approval(reply, "assistance")
        await send("approval", f"{at}/approvals/{approval}/decision", approve, supervisor)
        delivery = {"quantity": 1, "delivered_on": now.date().isoformat()}
        await send("delivery", f"{at}/assistance/{request_id}/deliveries", delivery)
        reply = await send("referral", f"{at}/referrals", REFERRAL)
        [referral_id] = reply["state"]["referrals"]
        answer = {"answer": "accepted", "note": "Benchmark: appointment booked."}
        await send("referral_answer", f"{at}/referrals/{referral_id}/answer", answer)
        visit = {
            "visited_at": (now - timedelta(minutes=30)).isoformat(),
            "visit_kind": "home",
            "observations": "Child well; benchmark visit.",
        }
        await send("visit", f"{at}/visits", visit)
        closure = {"closure_reason": "situation_resolved", "note": "Benchmark: resolved."}
        reply = await send("closure", f"{at}/closure", closure)
        approval = pending_approval(reply, "closure")
        reply = await send(
            "closure_approval", f"{at}/approvals/{approval}/decision", approve, supervisor
        )
        if reply["state"]["status"] != "closed":
            raise RuntimeError(f"closure_approval: the case is {reply['state']['status']}")


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
        bare = await connection.fetchval(
            "SELECT coalesce(avg(octet_length(data::text) + octet_length(metadata::text)), 0)"
            " FROM baseline_events"
        )
    finally:
        await connection.close()
    assert row is not None
    events = max(int(row["events"]), 1)
    return {
        "events": int(row["events"]),
        "streams": int(row["streams"]),
        "payload_bytes_per_event": round(float(row["payload"]), 1),
        "heap_bytes_per_event": round(int(row["heap"]) / events, 1),
        "total_bytes_per_event": round(int(row["total"]) / events, 1),
        "bare_payload_bytes_per_command": round(float(bare), 1),
    }


def latency_comparison(
    step: str, api: list[float], bare: list[float], *, callers: str
) -> Comparison:
    """p50 latency as 'commands per second of one caller' (1/p50), so higher is better and the
    target 'API p50 <= 1.3x bare' reads as ratio >= 1/1.3."""
    ours = statistics.median(api)
    theirs = statistics.median(bare)
    return Comparison(
        name=f"p50 latency, {callers}: {step}",
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
        bare: list[BareWorkerProcess] = []
        try:
            log(f"engine: starting the dev stack in {folder}")
            await stack.start()
            await _measure(stack, bare, database_url, sizes, result, log)
        finally:
            for worker in bare:
                worker.stop()
            stack.stop()
    return result


async def _measure(
    stack: DevStack,
    bare_workers: list[BareWorkerProcess],
    database_url: str,
    sizes: EngineSizes,
    result: SuiteResult,
    log: Callable[[str], None],
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(CREATE_BASELINE)
    finally:
        await connection.close()
    bare = BareWorkerProcess(stack.temporal.address, database_url, stack.logs)
    bare_workers.append(bare)
    workload = CaseflowWorkload(stack)
    await workload.prepare(sizes.repeats + 2, sizes.cases)
    single = CaseflowWorkload(stack)
    await single.prepare(sizes.single_cases, 1)  # a plan of one case for each turn
    client = await Client.connect(stack.temporal.address)
    await bare.wait_ready()

    stack_pids = {name: child.pid for name, child in stack.children.items()}
    server = stack.temporal._server_pid()  # ours: to read its CPU time
    groups: dict[str, Callable[[], list[int]]] = {
        name: partial(list, [pid]) for name, pid in stack_pids.items()
    }
    groups["temporal_server"] = lambda: [server] if server is not None else []
    groups["bare_worker"] = lambda: [bare.process.pid]
    groups["postgres"] = await postgres_pids(database_url)
    groups["driver"] = lambda: [os.getpid()]
    meter = CpuMeter(groups)

    api_latencies, bare_latencies = Latencies(), Latencies()
    bare_ids: list[str] = []
    log(f"engine: caseflow vs bare, {sizes.cases} cases x {sizes.repeats} runs")

    def bare_side(latencies: Latencies | None, ids: list[str] | None = None) -> Run:
        return bare_run(
            client,
            bare.task_queue,
            cases=sizes.cases,
            concurrency=sizes.concurrency,
            latencies=latencies,
            workflow_ids=ids,
        )

    ours, theirs = await measure_pair(
        meter.metered(
            "caseflow",
            workload.run(concurrency=sizes.concurrency, latencies=api_latencies),
            len(STEPS),
        ),
        meter.metered("bare", bare_side(bare_latencies, bare_ids), len(STEPS)),
        repeats=sizes.repeats,
        warmup=[
            workload.run(concurrency=sizes.concurrency, latencies=None),
            bare_side(None),
            workload.run(concurrency=sizes.concurrency, latencies=None),
            bare_side(None),
        ],
    )
    result.comparisons.append(
        Comparison(
            name="cases/s: caseflow vs bare",
            description=(
                f"{len(STEPS)}-command case lives through the API against the same number of "
                "updates and local activities (one durable INSERT each) on a bare workflow, "
                "same Temporal server and PostgreSQL"
            ),
            caseflow=ours,
            baseline=theirs,
            target=0.8,
            notes=("throughput rows are cases/s, not events/s",),
        )
    )
    for step in STEPS:
        result.comparisons.append(
            latency_comparison(
                step,
                api_latencies.by_step[step],
                bare_latencies.by_step[step],
                callers=f"{sizes.concurrency} cases in flight",
            )
        )

    log(f"engine: one caller, {sizes.single_cases} cases a side")
    single_api, single_bare = Latencies(), Latencies()
    for turn in range(sizes.single_cases):
        # One case a side per turn, ABBA: whatever the loaded runs left behind (the server's
        # history and visibility tasks, a projector catching up) falls on both sides alike.
        ours_case = single.run(concurrency=1, latencies=single_api)
        bare_case = bare_run(client, bare.task_queue, cases=1, concurrency=1, latencies=single_bare)
        for one_case in (ours_case, bare_case) if turn % 2 == 0 else (bare_case, ours_case):
            await one_case()
    result.comparisons.append(
        latency_comparison("all commands", single_api.all(), single_bare.all(), callers="1 caller")
    )

    # The same bare workload on an in-memory dev server, against the WAL one.
    log("engine: SQLite WAL vs in-memory dev server (bare workload)")
    memory = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        ui=False,
        dev_server_log_level="warn",
    )
    try:
        in_memory_worker = BareWorkerProcess(
            memory.client.service_client.config.target_host, database_url, stack.logs
        )
        bare_workers.append(in_memory_worker)
        await in_memory_worker.wait_ready()

        def on(target: Client, queue: str) -> Run:
            return bare_run(
                target, queue, cases=sizes.cases, concurrency=sizes.concurrency, latencies=None
            )

        wal, in_memory = await measure_pair(
            on(client, bare.task_queue),
            on(memory.client, in_memory_worker.task_queue),
            repeats=sizes.repeats,
            warmup=[on(memory.client, in_memory_worker.task_queue)],
        )
        in_memory_worker.stop()
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
    bare_history = await history_sizes(client, bare_ids[:HISTORY_SAMPLE])
    store = await store_sizes(database_url)
    cpu = {side: meter.per_command_ms(side) for side in ("caseflow", "bare")}
    caseflow_cpu = cpu["caseflow"]
    result.details.update(
        {
            "latency_ms": {
                "api": {
                    step: percentiles(values) for step, values in api_latencies.by_step.items()
                },
                "bare": {
                    step: percentiles(values) for step, values in bare_latencies.by_step.items()
                },
                "api_all": percentiles(api_latencies.all()),
                "bare_all": percentiles(bare_latencies.all()),
                "one_caller": {
                    "api": {step: percentiles(v) for step, v in single_api.by_step.items()},
                    "bare": {step: percentiles(v) for step, v in single_bare.by_step.items()},
                    "api_all": percentiles(single_api.all()),
                    "bare_all": percentiles(single_bare.all()),
                },
            },
            "per_command": {
                "commands_measured": workload.commands,
                # Read by benchmarks/scale.py: the caseflow side's processes.
                "cpu_ms_per_command": {
                    "temporal_server": caseflow_cpu.get("temporal_server", 0.0),
                    "worker": caseflow_cpu.get("worker", 0.0),
                    "api": caseflow_cpu.get("api", 0.0),
                    "postgres": caseflow_cpu.get("postgres", 0.0),
                },
                "cpu_ms_per_command_by_side": cpu,
                "cpu_note": (
                    "CPU of each process over one side's measured runs only, divided by that "
                    "side's commands; 'driver' is the benchmark's own process (HTTP client, or "
                    "Temporal client), 'postgres' every process of the server"
                ),
                "history_events_per_command": round(history["events_per_case"] / len(STEPS), 2),
                "history_bytes_per_command": round(history["bytes_per_case"] / len(STEPS), 1),
                "bare_history_events_per_command": round(
                    bare_history["events_per_case"] / len(STEPS), 2
                ),
                "bare_history_bytes_per_command": round(
                    bare_history["bytes_per_case"] / len(STEPS), 1
                ),
                "store_events_per_command": round(
                    store["events"] / max(store["streams"], 1) / len(STEPS), 2
                ),
                "retries_503": workload.retries,
            },
            "history": {**history, "commands_per_case": len(STEPS)},
            "bare_history": bare_history,
            "store": store,
        }
    )
    _print_details(result, log)


def _print_details(result: SuiteResult, log: Callable[[str], None]) -> None:
    latency = result.details["latency_ms"]
    for step in STEPS:
        api, bare = latency["api"][step], latency["bare"][step]
        log(
            f"engine: {step:<16} API p50 {api['p50_ms']:7.1f} ms p95 {api['p95_ms']:7.1f} ms | "
            f"bare p50 {bare['p50_ms']:6.1f} ms p95 {bare['p95_ms']:6.1f} ms | "
            f"x{api['p50_ms'] / max(bare['p50_ms'], 1e-9):.2f}"
        )
    one = latency["one_caller"]
    log(
        f"engine: one caller     API p50 {one['api_all']['p50_ms']:7.1f} ms "
        f"p95 {one['api_all']['p95_ms']:7.1f} ms | bare p50 {one['bare_all']['p50_ms']:6.1f} ms "
        f"p95 {one['bare_all']['p95_ms']:6.1f} ms"
    )
    per = result.details["per_command"]
    for side, cpu in per["cpu_ms_per_command_by_side"].items():
        log(f"engine: CPU ms per command, {side}: {cpu}")
    log(
        f"engine: history events per command {per['history_events_per_command']} "
        f"(bare {per['bare_history_events_per_command']}), bytes "
        f"{per['history_bytes_per_command']} (bare {per['bare_history_bytes_per_command']}); "
        f"store events per command {per['store_events_per_command']}; "
        f"503 retries {per['retries_503']}"
    )
    log(f"engine: store {result.details['store']}")
