"""The case workflow: one per child, the single writer of the case's event stream.

Commands arrive as updates. A validator checks each against the current state and the caller (a
refused update writes nothing and is never added to history); the handler decides the new events
with pure `domain` functions, appends them through a local activity, and folds them into the
state it reports.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.store import AppendEvents, StoreActivities
    from domain import commands
    from domain.errors import CommandRefused
    from domain.events import CaseEvent
    from domain.state import CaseState, CaseStatus, fold
    from workflows.messages import CaseOpenedReply, CaseStart, OpenCase

APPEND_TIMEOUT = timedelta(seconds=30)
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)


KEY_REUSED = CommandRefused(
    "idempotency_key_reused",
    "this Idempotency-Key was already used for a different report; send a new key for a new report",
)


def refused(refusal: CommandRefused) -> ApplicationError:
    """A refusal as the error an update's caller receives (no personal data in it)."""
    return ApplicationError(refusal.reason, refusal.code, type="CommandRefused", non_retryable=True)


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._case_id = start.case_id
        self._state: CaseState | None = start.state
        self._opening_fingerprint = start.opening_fingerprint
        # Commands are decided one at a time, each against the state the previous one left.
        self._deciding = asyncio.Lock()

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        await workflow.wait_condition(lambda: self._state is not None)
        await workflow.wait_condition(
            lambda: self._state is not None and self._state.status is CaseStatus.closed
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self._state is not None
        return self._state

    @workflow.query(name="state")
    def state(self) -> CaseState | None:
        return self._state

    @workflow.update(name="open_case")
    async def open_case(self, command: OpenCase) -> CaseOpenedReply:
        async with self._deciding:
            if self._state is None:
                try:
                    events = commands.open_case(
                        self._case_id,
                        command.report,
                        actor=command.actor,
                        now=workflow.now(),
                        new_id=workflow.uuid4,
                    )
                except CommandRefused as refusal:
                    raise refused(refusal) from None
                self._opening_fingerprint = command.request_fingerprint
                await self._record(events)
            self._check_same_opening(command)
            assert self._state is not None
            return CaseOpenedReply(
                state=self._state, request_fingerprint=command.request_fingerprint
            )

    @open_case.validator
    def _validate_open_case(self, command: OpenCase) -> None:
        if self._state is not None:
            self._check_same_opening(command)

    def _check_same_opening(self, command: OpenCase) -> None:
        if self._opening_fingerprint != command.request_fingerprint:
            raise refused(KEY_REUSED)

    async def _record(self, events: list[CaseEvent]) -> None:
        expected = self._state.version if self._state is not None else 0
        await workflow.execute_local_activity_method(
            StoreActivities.append_events,
            AppendEvents(case_id=self._case_id, expected_version=expected, events=events),
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
        )
        self._state = fold(events, self._state)
