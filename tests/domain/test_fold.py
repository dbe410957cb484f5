"""The one fold: what follows what, and the case as it stood at any moment."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import reduce

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.commands import (
    ApprovalDecision,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    RecordDelivery,
    RequestAssistance,
    open_case,
)
from domain.events import (
    AgencyKind,
    ApprovalGranted,
    AssistanceDelivered,
    AssistanceRequested,
    CaseClosed,
    CaseworkerAssigned,
    ClosureReason,
    PriorityAssigned,
)
from domain.rules.assistance import AssistanceKind
from domain.rules.escalation import EscalationLevel
from domain.state import (
    CaseState,
    CaseStatus,
    FoldError,
    _WorkingCopy,
    apply,
    as_of,
    fold,
    working_status,
)
from tests.domain.strategies import (
    REPORTER,
    START,
    SUPERVISOR,
    Driver,
    example_report,
)
from tests.domain.test_events_codec import whole_life


def test_a_stream_starts_with_the_case_opening() -> None:
    opened, prioritised = open_case(
        uuid.uuid4(), example_report(), actor=REPORTER, now=START, new_id=uuid.uuid4
    )
    assert isinstance(prioritised, PriorityAssigned)
    with pytest.raises(FoldError, match="must start with CaseOpened"):
        apply(None, prioritised)
    state = fold([opened, prioritised])
    assert state is not None
    assert state.version == 2
    assert state.status is CaseStatus.reported
    assert state.assigned_to == REPORTER.user_id
    assert state.categories == example_report().categories
    assert [g.guardian for g in state.guardians] == example_report().guardians
    with pytest.raises(FoldError, match="already open"):
        apply(state, opened)


def test_an_event_that_cannot_follow_is_a_fold_error() -> None:
    case = Driver().assessed()
    stranger = AssistanceDelivered(
        event_id=uuid.uuid4(),
        occurred_at=case.now,
        actor=REPORTER,
        delivery_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        kind=AssistanceKind.food_pack,
        quantity=1,
        unit="pack",
        value_yuan=100,
        delivered_on=case.now.date(),
    )
    with pytest.raises(FoldError, match="no assistance request"):
        apply(case.state, stranger)
    granted_nothing = ApprovalGranted(
        event_id=uuid.uuid4(),
        occurred_at=case.now,
        actor=SUPERVISOR,
        approval_id=uuid.uuid4(),
        level=EscalationLevel.township,
    )
    with pytest.raises(FoldError, match="no approval"):
        apply(case.state, granted_nothing)


def test_a_delivery_beyond_the_request_cannot_follow() -> None:
    case = Driver().assessed()
    (requested,) = case.do(
        RequestAssistance(kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300)
    )
    assert isinstance(requested, AssistanceRequested)
    (delivered,) = case.do(
        RecordDelivery(request_id=requested.request_id, quantity=2, delivered_on=case.now.date())
    )
    with pytest.raises(FoldError, match="delivered"):
        apply(case.state, delivered.model_copy(update={"event_id": uuid.uuid4()}))


def test_a_case_cannot_close_with_anything_still_waiting() -> None:
    case = Driver().assessed()
    case.do(RequestAssistance(kind=AssistanceKind.quilt, quantity=1, unit="x", value_yuan=2500))
    closed = CaseClosed(
        event_id=uuid.uuid4(),
        occurred_at=case.now,
        actor=SUPERVISOR,
        closure_reason=ClosureReason.death,
    )
    with pytest.raises(FoldError, match="approvals still pending"):
        apply(case.state, closed)


def test_nothing_but_a_reopening_follows_a_closure() -> None:
    case = Driver().assessed()
    case.do(ProposeClosure(closure_reason=ClosureReason.parent_returned))
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    assert case.state.status is CaseStatus.closed
    assigned = CaseworkerAssigned(
        event_id=uuid.uuid4(), occurred_at=case.now, actor=SUPERVISOR, caseworker="cw-2"
    )
    with pytest.raises(FoldError, match="closed"):
        apply(case.state, assigned)


def test_a_closure_rejected_returns_the_case_to_where_it_was() -> None:
    case = Driver().assessed().planned()
    case.do(ProposeClosure(closure_reason=ClosureReason.parent_returned))
    proposed = case.state
    assert proposed.status is CaseStatus.pending_closure
    assert working_status(proposed) is CaseStatus.active
    case.do(
        DecideApproval(
            approval_id=case.pending_approval(),
            decision=ApprovalDecision.reject,
            comment="the mother has not come back yet",
        ),
        SUPERVISOR,
    )
    assert case.state.status is CaseStatus.active
    assert case.state.closure is None


def test_as_of_gives_the_case_as_it_stood_then() -> None:
    case = Driver()
    opened_state = case.state
    case.later(timedelta(hours=2)).assessed()
    assessed_state = case.state
    case.later(timedelta(days=1)).planned()
    case.later(timedelta(days=1)).do(
        MakeReferral(agency_kind=AgencyKind.school, agency="school", service="enrolment")
    )
    events = case.events
    assert as_of(events, START) == opened_state
    assert as_of(events, START + timedelta(hours=3)) == assessed_state
    assert as_of(events, START - timedelta(seconds=1)) is None
    assert as_of(events, case.now + timedelta(days=365)) == case.state
    then = as_of(events, START + timedelta(hours=3))
    assert then is not None
    assert then.status is CaseStatus.assessed


def test_the_version_counts_the_events() -> None:
    case = Driver().assessed().planned()
    assert case.state.version == len(case.events)
    assert fold(case.events) == case.state


def test_the_state_crosses_the_workflow_data_converter_exactly() -> None:
    state = whole_life().state
    converter = pydantic_data_converter.payload_converter
    (carried,) = converter.from_payloads(converter.to_payloads([state]), [CaseState])
    assert carried == state
    assert isinstance(carried, CaseState)


def test_applying_an_event_changes_no_state_anyone_holds() -> None:
    """Every event type, applied one at a time: each state handed out stays as it was, however
    the rules change the working copy of it."""
    life = whole_life()
    states: list[CaseState] = []
    state: CaseState | None = None
    for event in life.events:
        state = apply(state, event)
        states.append(state)
    kept = [state.model_copy(deep=True) for state in states]
    # folds from states handed out before, which must not change them either
    for index in range(0, len(states), 7):
        assert fold(life.events[index + 1 :], states[index]) == life.state
    assert states == kept
    assert states[-1] == life.state


def test_a_whole_life_folds_at_once_as_event_by_event() -> None:
    life = whole_life()
    folded = fold(life.events)
    assert folded == reduce(apply, life.events[1:], apply(None, life.events[0])) == life.state
    assert folded is not None
    assert isinstance(folded.deliveries, tuple)
    assert isinstance(folded.escalations, tuple)
    assert isinstance(folded.corrections, tuple)
    assert fold([], folded) is folded


def test_a_fold_that_fails_leaves_its_state_as_it_was() -> None:
    case = Driver().assessed()
    (requested,) = case.do(
        RequestAssistance(kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300)
    )
    assert isinstance(requested, AssistanceRequested)
    before = case.state
    kept = before.model_copy(deep=True)
    (delivered,) = case.do(
        RecordDelivery(request_id=requested.request_id, quantity=2, delivered_on=case.now.date())
    )
    again = delivered.model_copy(update={"event_id": uuid.uuid4()})
    with pytest.raises(FoldError, match="delivered"):
        fold([delivered, again], before)
    assert before == kept


def test_the_working_copy_has_the_fields_of_the_state() -> None:
    assert _WorkingCopy.__annotations__.keys() == CaseState.model_fields.keys()
