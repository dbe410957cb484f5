"""The case workflow: one per child, the single writer of the case's event stream.

Commands arrive as updates. A validator checks each against the current state and the caller (a
refused update writes nothing and is never added to history); the handler decides the new events
with pure `domain` functions, appends them through a local activity, and folds them into the
state it reports. Deadlines are durable timers: the run loop sleeps until the soonest deadline
of the state (`domain.commands.deadlines`) or until a command changes the state, and records what
a passed deadline leads to. Work with outside systems runs beside it (`workflows.outside`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.store import AppendEvents, StoreActivities
    from domain import commands
    from domain.actors import Actor
    from domain.errors import CommandRefused
    from domain.events import CaseEvent
    from domain.events.closure import ClosureReason
    from domain.state import CaseState, fold
    from workflows.messages import (
        REMEMBERED_COMMANDS,
        CaseOpenedReply,
        CaseReply,
        CaseStart,
        CommandRequest,
        OpenCase,
    )
    from workflows.outside import OutsideWork, SystemDecision, answered_by_engine
    from workflows.recognition import RECOGNITION_ANSWER_SIGNAL, RecognitionAnswer
    from workflows.status import search_attributes

APPEND_TIMEOUT = timedelta(seconds=30)
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)

# Ending a run: first a timer, so the appends are committed by a task that does not end the run
# (`CaseWorkflow._settle`). Runs recorded before this have no patch marker and end as they did.
SETTLE_BEFORE_ENDING = "settle-before-ending"
SETTLING = timedelta(milliseconds=1)

# Search attributes: only those whose value changed are upserted, and nothing when none did (an
# upsert is a history event and a visibility write on the server, ≈ 3 ms of its CPU, whatever it
# sets). Runs recorded before this have no patch marker and upsert all of them on every change.
UPSERT_CHANGES_ONLY = "upsert-search-attributes-changes-only"

KEY_REUSED = CommandRefused(
    "idempotency_key_reused",
    "this Idempotency-Key was already used for a different report; send a new key for a new report",
)
NOT_OPENED = CommandRefused("no_case", "there is no case with this id yet; report the child first")
# A command from someone whose area does not reach the case. The API answers it exactly like a
# case that does not exist (404 `case_not_found`); this is where that area check is made.
OUT_OF_REACH = "case_out_of_reach"


def refused(refusal: CommandRefused) -> ApplicationError:
    """A refusal as the error an update's caller receives (no personal data in it)."""
    return ApplicationError(refusal.reason, refusal.code, type="CommandRefused", non_retryable=True)


def current_update_id() -> str:
    info = workflow.current_update_info()
    assert info is not None  # called from an update's validator or handler only
    return info.id


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._start = start
        self._case_id = start.case_id
        self._state: CaseState | None = start.state
        self._opening_fingerprint = start.opening_fingerprint
        # Commands and deadlines are decided one at a time, each against the state the previous
        # one left; `_changes` counts recorded batches so the run loop can tell the state moved.
        self._deciding = asyncio.Lock()
        self._changes = 0
        self._commands = 0
        # Update id -> the events its command recorded, oldest first: the latest commands of the
        # runs before, then this run's. The latest REMEMBERED_COMMANDS are carried on.
        self._answered: dict[str, list[UUID]] = dict(start.answered)
        self._outside = OutsideWork(self._case_id, self._record_outside_answer)

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        await workflow.wait_condition(lambda: self._state is not None)
        while not self._time_to_continue_as_new():
            assert self._state is not None
            self._outside.follow(self._state)
            if not self._state.is_open and not self._may_reopen(self._state):
                break
            await self._sleep_until_deadline_or_change(self._state)
        # Stop the outside work while holding the recording lock: every append happens under
        # it, so no outside answer is cancelled half-recorded (its events stored but not folded
        # into the state the next run starts from, which would then conflict with the stream).
        # An answer not yet recorded is asked for again by the next run, under the same keys.
        async with self._deciding:
            await self._outside.stop()
        if workflow.patched(SETTLE_BEFORE_ENDING):
            await self._settle()
        else:
            await workflow.wait_condition(workflow.all_handlers_finished)
        if self._time_to_continue_as_new():
            workflow.continue_as_new(
                CaseStart(
                    case_id=self._case_id,
                    state=self._state,
                    opening_fingerprint=self._opening_fingerprint,
                    commands_per_run=start.commands_per_run,
                    answered=dict(list(self._answered.items())[-REMEMBERED_COMMANDS:]),
                )
            )
        assert self._state is not None
        return self._state

    async def _settle(self) -> None:
        """Wait until no handler runs and every append is part of a completed workflow task, so
        that the task which ends this run appends nothing.

        Temporal refuses to end a run when events came in while its last task ran (an outside
        system's answer, a command): that task fails and runs again with the new events, and
        the decisions are made anew, maybe in another order, with other event ids. An append
        made by the failed task would stay in the stream without being in the state the next
        run starts from, and the next append would conflict with it. A timer ends the workflow
        task that recorded; the run ends only from a task that recorded nothing.
        """
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            changes = self._changes
            await workflow.sleep(SETTLING)
            if self._changes == changes and workflow.all_handlers_finished():
                return

    @workflow.query(name="state")
    def state(self) -> CaseState | None:
        return self._state

    # -- commands ----------------------------------------------------------------------------

    @workflow.update(name="open_case")
    async def open_case(self, command: OpenCase) -> CaseOpenedReply:
        async with self._deciding:
            recorded: list[CaseEvent] = []
            if self._state is None:
                try:
                    recorded = commands.open_case(
                        self._case_id,
                        command.report,
                        actor=command.actor,
                        now=workflow.now(),
                        new_id=workflow.uuid4,
                    )
                except CommandRefused as refusal:
                    raise refused(refusal) from None
                self._opening_fingerprint = command.request_fingerprint
                await self._record(recorded)
            self._check_same_opening(command)
            assert self._state is not None
            return CaseOpenedReply(
                state=self._state,
                event_ids=[event.event_id for event in recorded],
                request_fingerprint=command.request_fingerprint,
            )

    @open_case.validator
    def _validate_open_case(self, command: OpenCase) -> None:
        if self._state is not None:
            self._check_same_opening(command)
            return
        # A report the actor may not make is refused before it enters the history, like any
        # refused command (the handler decides it again, against the same rules).
        try:
            commands.check_may_report(command.actor, command.report, today=workflow.now())
        except CommandRefused as refusal:
            raise refused(refusal) from None

    def _check_same_opening(self, command: OpenCase) -> None:
        if self._opening_fingerprint != command.request_fingerprint:
            raise refused(KEY_REUSED)

    @workflow.update(name="command")
    async def command(self, request: CommandRequest) -> CaseReply:
        async with self._deciding:
            if self._state is None:
                raise refused(NOT_OPENED)
            update_id = current_update_id()
            if update_id in self._answered:
                # The same update id reached an earlier run (a client retry across
                # continue-as-new): answer it, do not decide it again.
                return CaseReply(state=self._state, event_ids=self._answered[update_id])
            self._check_in_reach(request.actor, self._state)
            try:
                events = commands.decide(
                    self._state,
                    request.command,
                    actor=request.actor,
                    now=workflow.now(),
                    new_id=workflow.uuid4,
                )
            except CommandRefused as refusal:
                raise refused(refusal) from None
            self._commands += 1
            await self._record(events)
            self._answered[update_id] = [event.event_id for event in events]
            return CaseReply(state=self._state, event_ids=self._answered[update_id])

    @command.validator
    def _validate_command(self, request: CommandRequest) -> None:
        if self._state is None:
            raise refused(NOT_OPENED)
        if current_update_id() in self._answered:
            return  # answered already; its handler repeats the answer
        self._check_in_reach(request.actor, self._state)
        try:
            commands.check_command(
                self._state, request.command, actor=request.actor, now=workflow.now()
            )
        except CommandRefused as refusal:
            raise refused(refusal) from None

    @staticmethod
    def _check_in_reach(actor: Actor, state: CaseState) -> None:
        if not actor.reaches(state.village):
            raise refused(
                CommandRefused(
                    OUT_OF_REACH,
                    f"case {state.case_id} is outside your area {actor.area}; only staff of "
                    "its area can act on it",
                )
            )

    @workflow.signal(name=RECOGNITION_ANSWER_SIGNAL)
    async def recognition_answer(self, answer: RecognitionAnswer) -> None:
        """Civil affairs' answer to the case's recognition application (from `Recognition`)."""
        await workflow.wait_condition(lambda: self._state is not None)
        await self._record_outside_answer(
            answered_by_engine(
                commands.RecordRecognitionDecision(
                    application_id=answer.application_id,
                    decision=commands.RecognitionDecision(answer.decision),
                    reasons=tuple(answer.reasons),
                    monthly_allowance_yuan=answer.monthly_allowance_yuan,
                )
            )
        )

    # -- deadlines ---------------------------------------------------------------------------

    async def _sleep_until_deadline_or_change(self, state: CaseState) -> None:
        changes = self._changes
        upcoming = commands.deadlines(state)
        woken = lambda: self._changes != changes or self._time_to_continue_as_new()  # noqa: E731
        if not upcoming:
            await workflow.wait_condition(woken)
            return
        deadline = upcoming[0]
        wait = deadline.at - workflow.now()
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(woken, timeout=wait, timeout_summary=deadline.kind)
                return
            except TimeoutError:
                pass
        async with self._deciding:
            if self._state is not state:
                return  # a command moved the case meanwhile: look at the deadlines again
            await self._record(
                commands.on_deadline(state, deadline, workflow.now(), workflow.uuid4)
            )

    # -- recording ---------------------------------------------------------------------------

    async def _record(self, events: list[CaseEvent]) -> None:
        if not events:
            return
        expected = self._state.version if self._state is not None else 0
        await workflow.execute_local_activity_method(
            StoreActivities.append_events,
            AppendEvents(case_id=self._case_id, expected_version=expected, events=events),
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
        )
        state = fold(events, self._state)
        assert state is not None
        self._state = state
        self._changes += 1
        self._show(state)

    @staticmethod
    def _show(state: CaseState) -> None:
        """Keep the case's search attributes as `state` has them."""
        updates = search_attributes(state, workflow.now())
        if workflow.patched(UPSERT_CHANGES_ONLY):
            # What the run shows already: carried over or set at its start, and every upsert
            # since (the SDK keeps `info` up to date as it upserts).
            shown = workflow.info().typed_search_attributes
            updates = [update for update in updates if shown.get(update.key) != update.value]
            if not updates:
                return
        workflow.upsert_search_attributes(updates)

    async def _record_outside_answer(self, decide: SystemDecision) -> None:
        """Record what an outside system answered, decided against the state of that moment."""
        async with self._deciding:
            assert self._state is not None
            try:
                events = decide(self._state, workflow.now(), workflow.uuid4)
            except CommandRefused as refusal:
                # The case moved on while the answer was on its way (e.g. closed): the answer no
                # longer fits, and the refusal says why without personal data.
                workflow.logger.info("outside answer no longer fits: %s", refusal.code)
                return
            await self._record(events)

    # -- lifetime ----------------------------------------------------------------------------

    def _time_to_continue_as_new(self) -> bool:
        return (
            workflow.info().is_continue_as_new_suggested()
            or self._commands >= self._start.commands_per_run
        )

    @staticmethod
    def _may_reopen(state: CaseState) -> bool:
        """A closed case waits to be reopened, except when the child came of age."""
        return state.closure_reason is not ClosureReason.turned_18
