"""The engine's processes started one by one, so a test can kill or restart any of them.

`Engine` runs an embedded PostgreSQL and an embedded Temporal dev server (SQLite, WAL) in a
folder of its own, prepares the database, and starts `python -m workers worker|api|simulators`
as child processes, all on free loopback ports. `Crowd` drives many cases through a short life
over the API, retrying each command with the same Idempotency-Key until it is answered, and
remembers every 2xx answer; `check_store` then holds the store to those answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from caseflow.settings import Settings
from domain.codec import case_stream_id
from domain.commands import PROGRAM_TIMEZONE
from store.directory import Directory
from store.integrity import verify
from store.pool import create_app_pool
from tests.conftest import free_port
from workers.bootstrap import prepare
from workers.embedded_postgres import EmbeddedPostgres
from workers.embedded_temporal import EmbeddedTemporal
from workers.simulate import Staff, YearPlan, enrol_staff, plan_year
from workflows.search_attributes import SEARCH_ATTRIBUTE_TYPES

EXTERNAL_SERVERS = {"DATABASE_URL", "TEMPORAL_ADDRESS"}
READY_TIMEOUT = 60.0
COUNTIES = ["530627"]
SCORES = {
    "survival": 2,
    "education": 1,
    "health": 1,
    "guardianship": 2,
    "safety": 0,
    "psychosocial": 1,
}


class Child:
    """`python -m workers <command>`, logging to a file; killable with SIGKILL."""

    def __init__(self, command: str, log_file: Path, env: dict[str, str]) -> None:
        self.command = command
        self.log_file = log_file
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workers", self.command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                process_group=0,
            )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Engine:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        self.simulator_ports = (free_port(), free_port())
        self.postgres = EmbeddedPostgres(folder / "postgres", free_port(), self.logs / "pg.log")
        self.temporal = EmbeddedTemporal(
            folder / "temporal",
            free_port(),
            free_port(),
            self.logs / "temporal.log",
            search_attributes=SEARCH_ATTRIBUTE_TYPES,
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVERS},
            "CASEFLOW_DATA_DIR": str(folder),
            "CASEFLOW_API_PORT": str(self.api_port),
            "CASEFLOW_POSTGRES_PORT": str(self.postgres.port),
            "CASEFLOW_TEMPORAL_PORT": str(self.temporal.port),
            "CASEFLOW_TEMPORAL_UI_PORT": str(self.temporal.ui_port),
            "CASEFLOW_CIVIL_AFFAIRS_SIMULATOR_PORT": str(self.simulator_ports[0]),
            "CASEFLOW_SCHOOL_SIMULATOR_PORT": str(self.simulator_ports[1]),
            "CASEFLOW_LOAD_DEMO": "false",
            "DATABASE_URL": self.postgres.url,
            "TEMPORAL_ADDRESS": self.temporal.address,
        }
        self.children = {
            name: Child(name, self.logs / f"{name}.log", self.env)
            for name in ("simulators", "worker", "api")
        }

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

    def start(self) -> None:
        self.postgres.start()
        self.temporal.start()
        asyncio.run(prepare(self.settings()))
        for child in self.children.values():
            child.start()
        self.wait_for_api()

    def wait_for_api(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"the API did not come up; see {self.logs}")

    def check_children(self) -> None:
        for name, child in self.children.items():
            if not child.running():
                tail = child.log_file.read_text(errors="replace")[-3000:]
                raise AssertionError(f"the {name} process died:\n{tail}")

    def stop(self) -> None:
        for name in ("api", "worker", "simulators"):
            self.children[name].stop()
        self.temporal.stop()
        self.postgres.stop()

    def set_simulators(self, config: dict[str, Any]) -> None:
        for port in self.simulator_ports:
            answer = httpx.put(
                f"http://127.0.0.1:{port}/_simulator/config",
                json=config,
                timeout=10,
                trust_env=False,
            )
            answer.raise_for_status()


# -- driving cases ------------------------------------------------------------------------------


@dataclass
class Answered:
    """A command answered 2xx: which case, and the events its answer named."""

    case_id: str
    step: str
    event_ids: list[str]


@dataclass
class Crowd:
    """N cases driven concurrently through report, assessment, assistance, delivery, visit
    (and, with `check`, an eligibility check answered by an outside system)."""

    engine: Engine
    cases: int
    seed: str
    concurrency: int = 16
    check: bool = False
    command_deadline: float = 150.0
    answered: list[Answered] = field(default_factory=list)
    reported: dict[str, int] = field(default_factory=dict)  # case id -> version after report
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    completed: int = 0
    commands_done: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # set at every answer
    case_tokens: dict[str, str] = field(default_factory=dict)  # case id -> its caseworker's

    @property
    def commands_per_case(self) -> int:
        return 6 if self.check else 5

    async def prepare(self) -> None:
        now = datetime.now(PROGRAM_TIMEZONE)
        self.plan: YearPlan = plan_year(
            year=now.year, cases=self.cases, seed=self.seed, counties=COUNTIES, now=now
        )
        pool = await create_app_pool(self.engine.settings(), max_size=2)
        try:
            self.staff: Staff = await enrol_staff(Directory(pool), self.plan, self.seed)
        finally:
            await pool.close()

    async def run(self, on_progress: Callable[[Crowd], Any] | None = None) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        limits = httpx.Limits(max_connections=self.concurrency * 2)
        async with httpx.AsyncClient(
            base_url=self.engine.url, timeout=90, trust_env=False, limits=limits
        ) as http:

            async def one(number: int) -> None:
                async with slots:
                    await self._life(http, number, on_progress)

            await asyncio.gather(*(one(n) for n in range(self.cases)))

    async def _life(
        self, http: httpx.AsyncClient, number: int, on_progress: Callable[[Crowd], Any] | None
    ) -> None:
        plan = self.plan.cases[number]
        user = self.staff.caseworkers[plan.township]
        token = self.staff.tokens[user]
        key = f"{self.seed}-{number}"
        now = datetime.now(PROGRAM_TIMEZONE)

        async def send(step: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            reply = await self._send(http, token, f"{key}-{step}", path, body, step)
            if on_progress is not None:
                on_progress(self)
            return reply

        state = await send("report", "/cases", plan.report)
        case_id = str(state["case_id"])
        self.reported[case_id] = int(state["version"])
        self.case_tokens[case_id] = token
        at = f"/cases/{case_id}"
        reply = await send("assessment", f"{at}/assessment", {"scores": SCORES})
        self._answer(case_id, "assessment", reply)
        reply = await send(
            "assistance",
            f"{at}/assistance",
            {"kind": "food_pack", "quantity": 2, "unit": "pack", "value_yuan": 150},
        )
        self._answer(case_id, "assistance", reply)
        [request_id] = reply["state"]["assistance"]
        reply = await send(
            "delivery",
            f"{at}/assistance/{request_id}/deliveries",
            {"quantity": 2, "delivered_on": now.date().isoformat()},
        )
        self._answer(case_id, "delivery", reply)
        visit = {
            "visited_at": (now - timedelta(minutes=30)).isoformat(),
            "visit_kind": "home",
            "observations": "Child well; fault test visit.",
        }
        reply = await send("visit", f"{at}/visits", visit)
        self._answer(case_id, "visit", reply)
        if self.check:
            body = {"check": "household_registration"}
            reply = await send("check", f"{at}/eligibility-checks", body)
            self._answer(case_id, "check", reply)
        self.completed += 1

    def _answer(self, case_id: str, step: str, reply: dict[str, Any]) -> None:
        self.answered.append(Answered(case_id, step, [str(e) for e in reply["event_ids"]]))

    async def _send(
        self,
        http: httpx.AsyncClient,
        token: str,
        key: str,
        path: str,
        body: dict[str, Any],
        step: str,
    ) -> dict[str, Any]:
        """POST until a 2xx answer, with the same Idempotency-Key; any 4xx fails the test."""
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        deadline = time.monotonic() + self.command_deadline
        pause = 0.2
        while True:
            started = time.monotonic()
            try:
                answer = await http.post(path, json=body, headers=headers)
            except httpx.TransportError:
                self.transport_errors += 1
            else:
                self.statuses[answer.status_code] += 1
                if answer.is_success:
                    self.commands_done += 1
                    self.progress.set()
                    self.latencies.setdefault(step, []).append(time.monotonic() - started)
                    reply: dict[str, Any] = answer.json()
                    return reply
                if answer.status_code < 500:
                    raise AssertionError(
                        f"{step} {path} refused: {answer.status_code} {answer.text}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"{step} {path} not answered within {self.command_deadline} s")
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 2.0)


# -- checking the store -------------------------------------------------------------------------


async def wait_for_checks(engine: Engine, crowd: Crowd, seconds: float) -> list[str]:
    """Case ids whose eligibility check is still unanswered after `seconds`."""
    async with httpx.AsyncClient(base_url=engine.url, timeout=30, trust_env=False) as http:
        deadline = time.monotonic() + seconds
        waiting = set(crowd.reported)
        tokens = crowd.case_tokens
        while waiting and time.monotonic() < deadline:
            for case_id in list(waiting):
                answer = await http.get(
                    f"/cases/{case_id}", headers={"Authorization": f"Bearer {tokens[case_id]}"}
                )
                if not answer.is_success:
                    continue
                checks = answer.json().get("eligibility_checks", {})
                if checks and all(c.get("status") != "requested" for c in checks.values()):
                    waiting.discard(case_id)
            if waiting:
                await asyncio.sleep(1.0)
        return sorted(waiting)


async def check_store(engine: Engine, crowd: Crowd) -> dict[str, int]:
    """No event missing, none duplicated, versions contiguous, every hash chain verified."""
    assert crowd.completed == crowd.cases, f"{crowd.completed} of {crowd.cases} cases completed"
    streams = {case_stream_id(UUID(case_id)): case_id for case_id in crowd.reported}
    assert len(streams) == crowd.cases
    connection = await asyncpg.connect(engine.postgres.url)
    try:
        rows = await connection.fetch(
            "SELECT stream_id, version, event_id::text AS event_id, type, metadata::text AS meta"
            " FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version",
            list(streams),
        )
        duplicated = await connection.fetchval(
            "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id"
            " HAVING count(*) > 1) d"
        )
    finally:
        await connection.close()
    assert duplicated == 0
    by_stream: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_stream.setdefault(row["stream_id"], []).append(row)
    assert set(by_stream) == set(streams), "a reported case has no events"
    stored = Counter(row["event_id"] for row in rows)
    assert all(n == 1 for n in stored.values()), "an event id stored twice"
    for stream_id, events in by_stream.items():
        versions = [row["version"] for row in events]
        assert versions == list(range(1, len(versions) + 1)), f"{stream_id}: gaps {versions}"
        assert len(events) >= crowd.reported[streams[stream_id]]
    # Every event a 2xx answer named is stored exactly once, in that answer's case.
    where = {row["event_id"]: row["stream_id"] for row in rows}
    named: set[str] = set()
    for answer in crowd.answered:
        assert answer.event_ids, f"{answer.step} of {answer.case_id} recorded no event"
        for event_id in answer.event_ids:
            assert stored[event_id] == 1, f"{answer.step} event {event_id} missing"
            assert where[event_id] == case_stream_id(UUID(answer.case_id))
            named.add(event_id)
    # Nothing a person did was recorded twice: every event by a person that no answer names is
    # one of the report's (the stream's first versions, answered with the state).
    for stream_id, events in by_stream.items():
        opened = crowd.reported[streams[stream_id]]
        for row in events[opened:]:
            if row["event_id"] in named:
                continue
            role = json.loads(row["meta"]).get("actor", {}).get("role")
            assert role == "system", f"{stream_id} v{row['version']} {row['type']} by {role}"
    pool = await asyncpg.create_pool(engine.postgres.url, min_size=1, max_size=2)
    try:
        report = await verify(pool, public_key=None)
    finally:
        await pool.close()
    assert report.ok, report.first_problem
    return {"events": len(rows), "log_events_verified": report.events_checked}
