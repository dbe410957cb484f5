"""Drive case workflows as the API does: open a case with update-with-start, send commands as
updates whose id is the caller's idempotency key, read the state by query, and compare it with
the fold of the stored events.

Shared by every module of `tests/workflows` (the deadline tests may read it too). The demo
directory's users act; their actors are built from the directory the engine loaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from caseflow.codec import Keys
from domain.actors import Actor, Role
from domain.child import ChildReport
from domain.codec import case_stream_id
from domain.commands import CaseCommand
from domain.events import CaseEvent
from domain.state import CaseState
from integrations.simulation.config import SimulatorConfig
from integrations.simulation.service import Journal
from store.case_history import case_events, load_case
from store.events import EventStore
from tests.integration.engine import Engine
from workflows.case import CaseWorkflow
from workflows.messages import CaseOpenedReply, CaseReply, CaseStart, CommandRequest, OpenCase

# TEST-ONLY payload key. It encrypts the Temporal payloads of the workflow tests and of the
# recorded histories in tests/workflows/histories/, which are replayed with it. It protects
# nothing: never configure it anywhere but in tests.
TEST_PAYLOAD_KEYS = Keys.parse("workflow-tests:vmrU2N4FuEBMEPCfA05OszZW0Rt0feQyBPnZTVu1TgY=")

VILLAGE = "530627101201"  # demo-caseworker's village, in demo-supervisor's township
SIMULATOR_SEED = "caseflow-workflow-tests"

# The demo directory's users (workers/demo.py).
CASEWORKER = "demo-caseworker"
SOCIAL_WORKER = "demo-social-worker"  # a caseworker of the other township
SUPERVISOR = "demo-supervisor"
COUNTY_OFFICER = "demo-county-officer"
AUDITOR = "demo-auditor"

WAIT_SECONDS = 30.0


class Refused(Exception):
    """A command the workflow refused: its code and reason, as the caller receives them."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def a_report(
    *,
    name: str = "Test Child",
    village: str = VILLAGE,
    born: date = date(2014, 5, 17),
    parents: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> ChildReport:
    """A likely de facto orphan (father imprisoned, mother missing), unless told otherwise."""
    report: dict[str, Any] = {
        "child": {"name": name, "sex": "female", "date_of_birth": born.isoformat()},
        "village": village,
        "household": {"address": "Group 3", "members": 2},
        "guardians": [{"name": "Test Grandmother", "relation": "grandmother"}],
        "parents": parents
        if parents is not None
        else [
            {
                "relation": "father",
                "situation": "imprisoned",
                "since": "2023-01-10",
                "expected_end": "2031-01-10",
            },
            {"relation": "mother", "situation": "missing", "since": "2022-06-01"},
        ],
        "categories": ["de_facto_orphan"],
        "observations": "Lives with an elderly grandmother.",
    }
    report.update(changes)
    return ChildReport.model_validate(report)


def fingerprint(report: ChildReport) -> str:
    """What the API sends as `request_fingerprint`: the hash of the report's content."""
    return hashlib.sha256(report.model_dump_json().encode()).hexdigest()


@dataclass
class Opened:
    case_id: UUID
    reply: CaseOpenedReply

    @property
    def workflow_id(self) -> str:
        return case_stream_id(self.case_id)


class CaseDriver:
    """Opens cases and sends them commands through the Temporal client, as the API will."""

    def __init__(self, engine: Engine, task_queue: str, simulator_urls: dict[str, str]) -> None:
        self.engine = engine
        self.task_queue = task_queue
        self.simulator_urls = simulator_urls  # by system: civil_affairs, school

    @property
    def temporal(self) -> Client:
        return self.engine.temporal

    @property
    def events(self) -> EventStore:
        return self.engine.events

    def actor(self, user_id: str) -> Actor:
        user = self.engine.users[user_id]
        return Actor(user_id=user.user_id, role=Role(user.role), area=user.area)

    def handle(self, case_id: UUID) -> WorkflowHandle[CaseWorkflow, CaseState]:
        return self.temporal.get_workflow_handle_for(CaseWorkflow.run, case_stream_id(case_id))

    # -- commands ----------------------------------------------------------------------------

    async def open_case(
        self,
        report: ChildReport | None = None,
        *,
        by: str = CASEWORKER,
        case_id: UUID | None = None,
        key: str | None = None,
        commands_per_run: int | None = None,
    ) -> Opened:
        """Report a child: update-with-start of the case workflow, as `POST /cases` does."""
        report = report or a_report()
        case_id = case_id or uuid.uuid4()
        start = CaseStart(case_id=case_id)
        if commands_per_run is not None:
            start = CaseStart(case_id=case_id, commands_per_run=commands_per_run)
        operation = WithStartWorkflowOperation(
            CaseWorkflow.run,
            start,
            id=case_stream_id(case_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            reply: CaseOpenedReply = await self.temporal.execute_update_with_start_workflow(
                "open_case",
                OpenCase(
                    report=report, actor=self.actor(by), request_fingerprint=fingerprint(report)
                ),
                start_workflow_operation=operation,
                id=f"open-{key or case_id}",
                result_type=CaseOpenedReply,
            )
        except WorkflowUpdateFailedError as failure:
            raise refusal_of(failure) from None
        return Opened(case_id, reply)

    async def send(
        self, case_id: UUID, command: CaseCommand, *, by: str = CASEWORKER, key: str | None = None
    ) -> CaseReply:
        """One command, as the API sends it: an update whose id is the idempotency key."""
        try:
            reply: CaseReply = await self.handle(case_id).execute_update(
                "command",
                CommandRequest(command=command, actor=self.actor(by)),
                id=key or f"command-{uuid.uuid4()}",
                result_type=CaseReply,
            )
            return reply
        except WorkflowUpdateFailedError as failure:
            raise refusal_of(failure) from None

    async def refused(
        self, case_id: UUID, command: CaseCommand, *, by: str = CASEWORKER, key: str | None = None
    ) -> Refused:
        """Send a command that must be refused; the refusal."""
        try:
            reply = await self.send(case_id, command, by=by, key=key)
        except Refused as refusal:
            return refusal
        raise AssertionError(f"{command.command} by {by} was accepted: {reply.event_ids}")

    # -- outside systems ---------------------------------------------------------------------

    async def configure_simulators(self, **changes: Any) -> None:
        """Set both simulators' behaviour over HTTP (`PUT /_simulator/config`); fields left out
        take their defaults, and the chances restart from the seed."""
        config = SimulatorConfig(seed=SIMULATOR_SEED, **changes).model_dump(mode="json")
        async with httpx.AsyncClient() as http:
            for url in self.simulator_urls.values():
                answer = await http.put(f"{url}/_simulator/config", json=config)
                assert answer.status_code == 200, answer.text

    async def journal(self, system: str) -> Journal:
        """What a simulator did: its calls, injected failures, replays and effects."""
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{self.simulator_urls[system]}/_simulator/journal")
        assert answer.status_code == 200, answer.text
        return Journal.model_validate_json(answer.content)

    # -- reading -----------------------------------------------------------------------------

    async def state(self, case_id: UUID) -> CaseState:
        state = await self.handle(case_id).query(CaseWorkflow.state)
        assert state is not None, f"case {case_id} is not opened"
        return state

    async def stored(self, case_id: UUID) -> list[CaseEvent]:
        return await case_events(self.events, case_id)

    async def stream_version(self, case_id: UUID) -> int:
        return await self.events.stream_version(case_stream_id(case_id))

    async def wait_for(
        self,
        case_id: UUID,
        condition: Callable[[CaseState], bool],
        *,
        what: str,
        within: float = WAIT_SECONDS,
    ) -> CaseState:
        """The case's state once `condition` holds (outside systems answer in their own time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            state = await self.state(case_id)
            if condition(state):
                return state
            if loop.time() > deadline:
                raise AssertionError(f"case {case_id}: {what} did not happen in {within:g} s")
            await asyncio.sleep(0.1)

    async def assert_replay_matches(self, case_id: UUID, *, within: float = 10.0) -> CaseState:
        """Replaying the stored events gives exactly the state the workflow reports.

        The workflow stores events before it folds them, so a read may fall between the two; the
        comparison is made once the state is the same before and after reading the store.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            before = await self.state(case_id)
            replayed = await load_case(self.events, case_id)
            after = await self.state(case_id)
            if before == after and before.version == await self.stream_version(case_id):
                assert replayed == after
                history = await raw_history(self.temporal, case_stream_id(case_id))
                assert not failed_workflow_tasks(history)
                return after
            if loop.time() > deadline:
                assert replayed == after  # shows the difference
            await asyncio.sleep(0.1)


def refusal_of(failure: WorkflowUpdateFailedError) -> Refused:
    cause = failure.cause
    if isinstance(cause, ApplicationError) and cause.type == "CommandRefused":
        code = str(cause.details[0]) if cause.details else ""
        return Refused(code, cause.message)
    raise failure


def types_of(events: Iterable[CaseEvent]) -> list[str]:
    return [event.type for event in events]


def today() -> date:
    return datetime.now(UTC).date()


# -- Temporal's raw record ---------------------------------------------------------------------


async def raw_history(temporal: Client, workflow_id: str, *, run_id: str | None = None) -> History:
    """A workflow's history as the Temporal server holds it, read by a client without the key
    (the latest run's, unless `run_id` names another)."""
    plain = Client(temporal.service_client, namespace=temporal.namespace)
    assert plain.data_converter.payload_codec is None
    fetched = await plain.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return History(events=fetched.events)


def accepted_update_ids(history: History) -> list[str]:
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


def failed_workflow_tasks(history: History) -> list[str]:
    """Why the workflow's tasks failed, if any did (a bug in workflow code, or non-determinism):
    a healthy case has none."""
    return [
        event.workflow_task_failed_event_attributes.failure.message
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
