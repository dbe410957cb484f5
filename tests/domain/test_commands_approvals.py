"""Approvals: what needs one, who may decide it (never the requester), what a decision brings,
and how an undecided one moves up."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.commands import (
    ApprovalDecision,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordDelivery,
    RequestAssistance,
    escalate_approval,
)
from domain.events import (
    AgencyKind,
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRequested,
    ApprovalTimedOut,
    ApprovalWithdrawn,
    AssistanceApproved,
    AssistanceRejected,
    AssistanceRequested,
    Breach,
    CaseClosed,
    ClosureReason,
    DestinationKind,
    EscalationRaised,
    ReferralWithdrawn,
)
from domain.rules.approvals import ApprovalKind
from domain.rules.assistance import AssistanceKind
from domain.rules.escalation import EscalationLevel
from domain.state import (
    ApprovalStatus,
    AssistanceStatus,
    CaseStatus,
    ProposalStatus,
    TransferStatus,
)
from tests.domain.strategies import (
    CASEWORKER,
    COUNTY,
    COUNTY_OFFICER,
    OTHER_SUPERVISOR,
    PREFECTURE,
    PREFECTURE_OFFICER,
    SUPERVISOR,
    TOWNSHIP,
    Driver,
    example_report,
)

HOUR = timedelta(hours=1)


def quilts(value_yuan: int) -> RequestAssistance:
    return RequestAssistance(
        kind=AssistanceKind.quilt, quantity=1, unit="quilt", value_yuan=value_yuan
    )


@pytest.mark.parametrize(
    ("kind", "value", "needs"),
    [
        (AssistanceKind.quilt, 2000, False),
        (AssistanceKind.quilt, 2001, True),
        (AssistanceKind.living_allowance, 9500, False),
    ],
)
def test_assistance_needs_approval_above_the_threshold(
    kind: AssistanceKind, value: int, needs: bool
) -> None:
    case = Driver().assessed()
    events = case.do(RequestAssistance(kind=kind, quantity=1, unit="x", value_yuan=value))
    requested = events[0]
    assert isinstance(requested, AssistanceRequested)
    assert requested.needs_approval is needs
    assert requested.rule == "assistance.approval_threshold"
    assert (len(events) == 2) is needs
    status = case.state.assistance[requested.request_id].status
    assert status is (AssistanceStatus.awaiting_approval if needs else AssistanceStatus.to_deliver)


def test_an_approval_request_goes_to_the_township_with_the_sla() -> None:
    case = Driver().assessed()
    _, asked = case.do(quilts(5000))
    assert isinstance(asked, ApprovalRequested)
    assert asked.kind is ApprovalKind.assistance
    assert asked.level is EscalationLevel.township
    assert asked.area == TOWNSHIP
    assert asked.due_at == case.now + timedelta(hours=48)
    assert asked.requested_by == "cw-1"
    assert asked.causation_id == case.events[-2].event_id
    pending = case.state.pending_approvals[asked.approval_id]
    assert pending.requested_by == "cw-1"
    assert pending.due_at == asked.due_at


def test_a_granted_approval_makes_the_assistance_deliverable() -> None:
    case = Driver().assessed()
    requested, _ = case.do(quilts(5000))
    assert isinstance(requested, AssistanceRequested)
    granted, approved = case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    assert isinstance(granted, ApprovalGranted)
    assert isinstance(approved, AssistanceApproved)
    assert approved.causation_id == granted.event_id
    assert not case.state.pending_approvals
    case.do(
        RecordDelivery(request_id=requested.request_id, quantity=1, delivered_on=case.now.date())
    )
    request = case.state.assistance[requested.request_id]
    assert request.status is AssistanceStatus.delivered
    assert request.delivered_value_yuan == 5000


def test_a_rejected_approval_rejects_the_assistance() -> None:
    case = Driver().assessed()
    requested, _ = case.do(quilts(5000))
    assert isinstance(requested, AssistanceRequested)
    _, rejected = case.do(
        DecideApproval(
            approval_id=case.pending_approval(),
            decision=ApprovalDecision.reject,
            comment="one quilt costs less",
        ),
        SUPERVISOR,
    )
    assert isinstance(rejected, AssistanceRejected)
    assert case.state.assistance[requested.request_id].status is AssistanceStatus.rejected


def test_the_requester_never_decides_their_own_request() -> None:
    case = Driver().assessed()
    case.do(
        ProposeTransfer(
            destination_kind=DestinationKind.institution, destination="home", reason="no carer"
        ),
        SUPERVISOR,
    )
    approval_id = case.pending_approval()
    for decision in ApprovalDecision:
        refusal = case.refusal(
            DecideApproval(approval_id=approval_id, decision=decision, comment="x"), SUPERVISOR
        )
        assert refusal.code == "own_request"
    case.do(
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve), OTHER_SUPERVISOR
    )
    (transfer,) = case.state.transfers.values()
    assert transfer.status is TransferStatus.approved


def test_a_county_officer_may_step_in_early() -> None:
    case = Driver().assessed()
    case.do(quilts(5000))
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        COUNTY_OFFICER,
    )
    assert case.state.approvals[next(iter(case.state.approvals))].decided_by == "sup-county"


def test_undecided_approvals_climb_to_the_prefecture_and_time_out_there() -> None:
    case = Driver().assessed()
    case.do(ProposeGuardianChange(new_guardian=example_report().guardians[0], reason="aunt"))
    approval_id = case.pending_approval()
    assert escalate_approval(case.state, approval_id, case.now + 47 * HOUR, case.new_id) == []

    case.later(48 * HOUR)
    raised, escalated = case.record(
        escalate_approval(case.state, approval_id, case.now, case.new_id)
    )
    assert isinstance(raised, EscalationRaised)
    assert raised.breach is Breach.approval_undecided
    assert (raised.level, raised.area) == (EscalationLevel.county, COUNTY)
    assert isinstance(escalated, ApprovalEscalated)
    assert (escalated.from_level, escalated.to_level) == (
        EscalationLevel.township,
        EscalationLevel.county,
    )
    assert escalated.due_at == case.now + 48 * HOUR
    # the township no longer decides; the county does
    refusal = case.refusal(
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve), OTHER_SUPERVISOR
    )
    assert refusal.code == "outside_area"

    case.later(48 * HOUR)
    _, to_prefecture = case.record(
        escalate_approval(case.state, approval_id, case.now, case.new_id)
    )
    assert isinstance(to_prefecture, ApprovalEscalated)
    assert to_prefecture.area == PREFECTURE

    case.later(48 * HOUR)
    _, timed_out = case.record(escalate_approval(case.state, approval_id, case.now, case.new_id))
    assert isinstance(timed_out, ApprovalTimedOut)
    assert timed_out.level is EscalationLevel.prefecture
    approval = case.state.approvals[approval_id]
    assert approval.timed_out
    assert approval.status is ApprovalStatus.pending
    assert escalate_approval(case.state, approval_id, case.now + 100 * HOUR, case.new_id) == []

    refusal = case.refusal(
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve), COUNTY_OFFICER
    )
    assert refusal.code == "outside_area"
    case.do(
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        PREFECTURE_OFFICER,
    )
    (change,) = case.state.guardian_changes.values()
    assert change.status is ProposalStatus.approved
    assert escalate_approval(case.state, approval_id, case.now + 100 * HOUR, case.new_id) == []


def test_an_emergency_placement_is_delivered_first_and_approved_after() -> None:
    case = Driver()  # not assessed yet: an emergency does not wait for the assessment
    requested, asked = case.do(
        RequestAssistance(
            kind=AssistanceKind.temporary_shelter,
            quantity=2,
            unit="night",
            value_yuan=5000,
            emergency=True,
        ),
        CASEWORKER,
    )
    assert isinstance(requested, AssistanceRequested)
    assert isinstance(asked, ApprovalRequested)
    assert asked.kind is ApprovalKind.emergency_placement
    assert asked.emergency
    assert asked.due_at == case.now + 4 * HOUR
    case.do(
        RecordDelivery(request_id=requested.request_id, quantity=2, delivered_on=case.now.date())
    )
    case.later(4 * HOUR)
    _, escalated = case.record(
        escalate_approval(case.state, asked.approval_id, case.now, case.new_id)
    )
    assert isinstance(escalated, ApprovalEscalated)
    assert escalated.due_at == case.now + 4 * HOUR


def test_a_granted_closure_closes_the_case_and_ends_what_waits() -> None:
    case = Driver().assessed().planned()
    case.do(quilts(5000))
    case.do(MakeReferral(agency_kind=AgencyKind.school, agency="school", service="fees"))
    case.do(ProposeClosure(closure_reason=ClosureReason.parent_returned, note="mother back"))
    proposed = case.state
    assert proposed.status is CaseStatus.pending_closure
    closure_approval = next(
        a.approval_id
        for a in case.state.pending_approvals.values()
        if a.kind is ApprovalKind.closure
    )
    events = case.do(
        DecideApproval(approval_id=closure_approval, decision=ApprovalDecision.approve), SUPERVISOR
    )
    assert [type(e) for e in events] == [
        ApprovalGranted,
        ApprovalWithdrawn,
        ReferralWithdrawn,
        CaseClosed,
    ]
    assert case.state.status is CaseStatus.closed
    assert case.state.closure_reason is ClosureReason.parent_returned
    assert not case.state.pending_approvals
    assert not case.state.open_referrals
    (request,) = case.state.assistance.values()
    assert request.status is AssistanceStatus.withdrawn


def test_a_closure_by_age_needs_no_approval() -> None:
    case = Driver(example_report(born=date(2008, 3, 10)))
    case.later(timedelta(days=9))  # the birthday timer has not closed it yet
    events = case.do(ProposeClosure(closure_reason=ClosureReason.turned_18))
    assert [e.type for e in events] == ["ClosureProposed", "CaseClosed"]
    assert case.state.status is CaseStatus.closed
