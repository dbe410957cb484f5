"""Property tests of the one fold: any sequence of commands and timers that the decisions accept
folds to a case whose invariants hold, and replays exactly through the stored form."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import codec
from domain.actors import Role
from domain.child import ChildReport
from domain.commands import (
    ReopenCase,
    age_out,
    assessment_overdue,
    deadlines,
    decide,
    escalate_approval,
    on_deadline,
    open_case,
    referral_unanswered,
    visit_missed,
)
from domain.errors import CommandRefused
from domain.events import (
    ApprovalGranted,
    ApprovalRejected,
    AssistanceApproved,
    AssistanceDelivered,
    AssistanceRequested,
    CaseEvent,
)
from domain.state import (
    ApprovalStatus,
    AssistanceStatus,
    CaseState,
    CaseStatus,
    apply,
    as_of,
    fold,
)
from tests.domain.strategies import REPORTER, START, attempts, example_report, reports


def replay_through_store(events: list[CaseEvent]) -> list[CaseEvent]:
    """The events as the event store gives them back: encoded, then decoded."""
    stored = [codec.encode(event) for event in events]
    return [
        codec.decode(
            event_id=row.event_id,
            type=row.type,
            schema_version=row.schema_version,
            data=row.data,
            metadata=row.metadata,
        )
        for row in stored
    ]


def personal_data(report: ChildReport, *more: str) -> list[str]:
    return [
        report.child.name,
        report.household.address,
        *(guardian.name for guardian in report.guardians),
        *more,
    ]


ATTEMPTS_PER_STEP = 6


class CaseLife(RuleBasedStateMachine):
    """One case, driven by commands from all kinds of actors and by the engine's timers."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[CaseEvent] = []
        self.state: CaseState | None = None
        self.now = START
        self.counter = itertools.count()

    def new_id(self) -> UUID:
        return uuid.UUID(int=next(self.counter) + 1, version=4)

    def record(self, new: list[CaseEvent]) -> None:
        before = self.state
        assert before is not None
        decoded = replay_through_store(new)
        assert decoded == new, "every event round-trips through the codec"
        self.state = fold(new, before)
        assert fold(decoded, before) == self.state
        self.events += new

    @initialize(report=reports())
    def report_child(self, report: ChildReport) -> None:
        self.report = report
        self.events = open_case(
            uuid.uuid4(), report, actor=REPORTER, now=self.now, new_id=self.new_id
        )
        self.state = fold(self.events)

    @rule(minutes=st.integers(0, 36 * 60), data=st.data())
    def send_commands(self, minutes: int, data: st.DataObject) -> None:
        """Commands are tried until one is accepted (at most a few): every refusal on the way
        must leave no trace and no personal data."""
        self.now += timedelta(minutes=minutes)
        for _ in range(ATTEMPTS_PER_STEP):
            if self.try_a_command(data):
                return

    def try_a_command(self, data: st.DataObject) -> bool:
        state = self.state
        assert state is not None
        command, actor = data.draw(attempts(state, self.now))
        closed = state.status is CaseStatus.closed
        refused: CommandRefused | None = None
        try:
            new = decide(state, command, actor=actor, now=self.now, new_id=self.new_id)
        except CommandRefused as refusal:
            refused = refusal
        if refused is not None:
            for secret in personal_data(state.report, *_names_in(command)):
                assert secret not in refused.reason, "a refusal reason must carry no personal data"
            if actor.role in {Role.auditor, Role.admin}:
                assert refused.code == "role_not_allowed"
            elif closed and not isinstance(command, ReopenCase):
                assert refused.code == "case_closed"
            return False
        assert new, "an accepted command records at least one event"
        assert actor.role not in {Role.auditor, Role.admin}, "auditors and admins write nothing"
        if closed:
            assert isinstance(command, ReopenCase), "a closed case takes only ReopenCase"
        self.record(new)
        return True

    @rule(hours=st.integers(0, 24 * 5), which=st.integers(0, 5), data=st.data())
    def a_timer_fires(self, hours: int, which: int, data: st.DataObject) -> None:
        state = self.state
        assert state is not None
        self.now += timedelta(hours=hours)
        if which == 0:
            new = assessment_overdue(state, self.now, self.new_id)
        elif which == 1 and state.approvals:
            approval_id = data.draw(st.sampled_from(list(state.approvals)))
            new = escalate_approval(state, approval_id, self.now, self.new_id)
        elif which == 2 and state.referrals:
            referral_id = data.draw(st.sampled_from(list(state.referrals)))
            new = referral_unanswered(state, referral_id, self.now, self.new_id)
        elif which == 3:
            new = visit_missed(state, self.now, self.new_id)
        elif which == 4 and (ahead := deadlines(state)):
            # the workflow's way: wake at the soonest deadline
            self.now = max(self.now, ahead[0].at)
            new = on_deadline(state, ahead[0], self.now, self.new_id)
        else:
            new = age_out(state, self.now, self.new_id)
        if new:
            assert state.is_open, "timers do nothing to a closed case"
            self.record(new)

    @precondition(lambda self: self.state is not None)
    @invariant()
    def version_counts_the_events(self) -> None:
        assert self.state is not None
        assert self.state.version == len(self.events)

    @precondition(lambda self: self.state is not None)
    @invariant()
    def no_approval_is_both_decided_and_pending(self) -> None:
        assert self.state is not None
        decided = {
            event.approval_id
            for event in self.events
            if isinstance(event, ApprovalGranted | ApprovalRejected)
        }
        for approval_id, approval in self.state.approvals.items():
            if approval_id in decided:
                assert approval.status in {ApprovalStatus.granted, ApprovalStatus.rejected}
            if approval.status is ApprovalStatus.pending:
                assert approval_id not in decided

    @precondition(lambda self: self.state is not None)
    @invariant()
    def deliveries_only_for_approved_or_approval_free_requests(self) -> None:
        assert self.state is not None
        needs: dict[UUID, bool] = {}
        approved: set[UUID] = set()
        for event in self.events:
            if isinstance(event, AssistanceRequested):
                needs[event.request_id] = event.needs_approval
            elif isinstance(event, AssistanceApproved):
                approved.add(event.request_id)
            elif isinstance(event, AssistanceDelivered):
                assert not needs[event.request_id] or event.request_id in approved
        for request in self.state.assistance.values():
            assert request.delivered_quantity <= request.quantity
            assert request.delivered_value_yuan <= request.value_yuan
            if request.delivered_quantity:
                assert request.status in {AssistanceStatus.to_deliver, AssistanceStatus.delivered}

    @precondition(lambda self: self.state is not None)
    @invariant()
    def status_agrees_with_what_is_pending(self) -> None:
        state = self.state
        assert state is not None
        assert (state.status is CaseStatus.pending_closure) == (state.closure is not None)
        if state.status is CaseStatus.closed:
            assert not state.pending_approvals
            assert not state.open_referrals
            assert state.closure_reason is not None
        if state.status is CaseStatus.active:
            assert state.plan is not None

    def teardown(self) -> None:
        if self.state is None:
            return
        replayed = fold(replay_through_store(self.events))
        assert replayed == self.state, "replaying the stored stream gives exactly the state"
        assert CaseState.model_validate_json(self.state.model_dump_json()) == self.state
        # as_of: at each moment the case stood as the fold of the events up to then.
        state: CaseState | None = None
        for index, event in enumerate(self.events):
            state = apply(state, event)
            later = self.events[index + 1].occurred_at if index + 1 < len(self.events) else None
            if later is None or later > event.occurred_at:
                assert as_of(self.events, event.occurred_at) == state


def _names_in(command: object) -> list[str]:
    guardian = getattr(command, "new_guardian", None)
    return [guardian.name] if guardian is not None else []


CaseLife.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestCaseLife = CaseLife.TestCase


def test_as_of_before_the_case_is_nothing() -> None:
    moment: datetime = START - timedelta(seconds=1)
    events = open_case(uuid.uuid4(), example_report(), actor=REPORTER, now=START, new_id=uuid.uuid4)
    assert as_of(events, moment) is None
