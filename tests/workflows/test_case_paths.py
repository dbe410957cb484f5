"""Every path of a case's life, end to end: the real worker, Temporal, PostgreSQL and simulators.

Each test drives a case as the API does (update-with-start, then one update per command), lets
the engine do the outside work (eligibility checks, recognition, guardianship registration,
places), and ends by checking that replaying the case's stored events gives exactly the state the
workflow reports.
"""

from __future__ import annotations

from uuid import UUID

from domain.child import Guardian
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordReferralAnswer,
    RecordTransfer,
    RecordVisit,
    ReferralAnswer,
    ReopenCase,
    RequestAssistance,
    RequestEligibilityCheck,
    WithdrawReferral,
)
from domain.events import (
    AgencyKind,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    VisitKind,
)
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from domain.state import (
    ApprovalStatus,
    AssistanceStatus,
    CaseState,
    CaseStatus,
    CheckStatus,
    ProposalStatus,
    RecognitionStatus,
    ReferralStatus,
    TransferStatus,
)
from tests.workflows.driver import (
    CASEWORKER,
    SUPERVISOR,
    CaseDriver,
    today,
    types_of,
)

SCORES = NeedScores(survival=2, education=1, health=1, guardianship=3, safety=1, psychosocial=2)


async def assessed_case(driver: CaseDriver) -> UUID:
    opened = await driver.open_case()
    await driver.send(opened.case_id, RecordAssessment(scores=SCORES, summary="Needs help"))
    return opened.case_id


async def active_case(driver: CaseDriver) -> UUID:
    case_id = await assessed_case(driver)
    await driver.send(case_id, RecordCasePlan(goals=("Food and school for the child",)))
    return case_id


def only_pending_approval(state: CaseState) -> UUID:
    pending = list(state.pending_approvals)
    assert len(pending) == 1, state.pending_approvals
    return pending[0]


async def test_report_assess_plan_and_deliver_assistance_below_the_threshold(
    driver: CaseDriver,
) -> None:
    opened = await driver.open_case()
    case_id = opened.case_id
    assert opened.reply.state.status is CaseStatus.reported
    assert types_of(await driver.stored(case_id)) == ["CaseOpened", "PriorityAssigned"]

    # Eligibility checks: the engine asks civil affairs and the school system.
    for kind in EligibilityCheckKind:
        await driver.send(case_id, RequestEligibilityCheck(check=kind))
    checked = await driver.wait_for(
        case_id,
        lambda s: (
            len(s.eligibility_checks) == 3
            and all(c.status is not CheckStatus.requested for c in s.eligibility_checks.values())
        ),
        what="the three eligibility checks answered",
    )
    for check in checked.eligibility_checks.values():
        assert check.status is CheckStatus.answered, check
        assert check.facts is not None
        assert check.facts.kind == check.check
    assert checked.report.household.registration_area is not None  # civil affairs' answer
    assert checked.school_status is not None  # the school system's answer

    assessed = await driver.send(case_id, RecordAssessment(scores=SCORES))
    assert assessed.state.status is CaseStatus.assessed
    planned = await driver.send(
        case_id, RecordCasePlan(goals=("Food security", "Stay in school"), review_by=None)
    )
    assert planned.state.status is CaseStatus.active
    assert planned.state.next_visit_due is not None

    requested = await driver.send(
        case_id,
        RequestAssistance(kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300),
    )
    request_id = next(iter(requested.state.assistance))
    assert requested.state.assistance[request_id].status is AssistanceStatus.to_deliver
    assert not requested.state.pending_approvals  # below the threshold: no approval
    delivered = await driver.send(
        case_id, RecordDelivery(request_id=request_id, quantity=2, delivered_on=today())
    )
    assert delivered.state.assistance[request_id].status is AssistanceStatus.delivered
    assert len(delivered.state.deliveries) == 1

    stored = types_of(await driver.stored(case_id))
    # The answers come in their own time: each after its request, in any order.
    assert sorted(stored[2:8]) == [
        *["EligibilityCheckAnswered"] * 3,
        *["EligibilityCheckRequested"] * 3,
    ]
    assert stored[:2] + stored[8:] == [
        "CaseOpened",
        "PriorityAssigned",
        "AssessmentRecorded",
        "CasePlanRecorded",
        "VisitScheduled",
        "AssistanceRequested",
        "AssistanceDelivered",
    ]
    await driver.assert_replay_matches(case_id)


async def test_checks_the_outside_systems_cannot_answer_are_recorded_as_failed(
    driver: CaseDriver,
) -> None:
    """The alternative path of a check: the systems do not know the child (they refuse)."""
    await driver.configure_simulators(derive_unknown=False)
    case_id = (await driver.open_case()).case_id
    for kind in EligibilityCheckKind:
        await driver.send(case_id, RequestEligibilityCheck(check=kind))
    checked = await driver.wait_for(
        case_id,
        lambda s: all(c.status is not CheckStatus.requested for c in s.eligibility_checks.values()),
        what="the checks answered",
    )
    for check in checked.eligibility_checks.values():
        assert check.status is CheckStatus.failed
        assert check.failure is CheckFailure.not_found
        assert check.facts is None
    assert checked.report.household.registration_area is None
    # The caseworker goes on without them, and may ask again.
    await driver.configure_simulators()
    again = await driver.send(
        case_id, RequestEligibilityCheck(check=EligibilityCheckKind.household_registration)
    )
    assert len(again.state.eligibility_checks) == 4
    await driver.wait_for(
        case_id,
        lambda s: s.report.household.registration_area is not None,
        what="the household registration answered",
    )
    await driver.assert_replay_matches(case_id)


async def test_assistance_above_the_threshold_waits_for_a_supervisor_who_approves(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    requested = await driver.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.tuition_and_fees, quantity=1, unit="year", value_yuan=2500
        ),
    )
    request_id = next(iter(requested.state.assistance))
    approval_id = only_pending_approval(requested.state)
    assert requested.state.assistance[request_id].status is AssistanceStatus.awaiting_approval

    early = await driver.refused(
        case_id, RecordDelivery(request_id=request_id, quantity=1, delivered_on=today())
    )
    assert early.code == "awaiting_approval"
    # The caseworker who asked cannot approve it: only a supervisor decides.
    own = await driver.refused(
        case_id, DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve)
    )
    assert own.code == "role_not_allowed"

    approved = await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    assert approved.state.approvals[approval_id].status is ApprovalStatus.granted
    assert approved.state.assistance[request_id].status is AssistanceStatus.to_deliver
    delivered = await driver.send(
        case_id, RecordDelivery(request_id=request_id, quantity=1, delivered_on=today())
    )
    assert delivered.state.assistance[request_id].status is AssistanceStatus.delivered
    assert delivered.state.deliveries[0].value_yuan == 2500
    assert types_of(await driver.stored(case_id))[-5:] == [
        "AssistanceRequested",
        "ApprovalRequested",
        "ApprovalGranted",
        "AssistanceApproved",
        "AssistanceDelivered",
    ]
    await driver.assert_replay_matches(case_id)


async def test_assistance_above_the_threshold_rejected_by_the_supervisor(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    requested = await driver.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.medical_aid, quantity=1, unit="stay", value_yuan=5000
        ),
    )
    request_id = next(iter(requested.state.assistance))
    approval_id = only_pending_approval(requested.state)

    rejected = await driver.send(
        case_id,
        DecideApproval(
            approval_id=approval_id,
            decision=ApprovalDecision.reject,
            comment="Ask the hospital's medical aid fund first",
        ),
        by=SUPERVISOR,
    )
    assert rejected.state.approvals[approval_id].status is ApprovalStatus.rejected
    assert rejected.state.assistance[request_id].status is AssistanceStatus.rejected
    refused = await driver.refused(
        case_id, RecordDelivery(request_id=request_id, quantity=1, delivered_on=today())
    )
    assert refused.code == "not_deliverable"
    await driver.assert_replay_matches(case_id)


async def test_a_referral_is_accepted_then_completed_and_another_withdrawn(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    made = await driver.send(
        case_id,
        MakeReferral(agency_kind=AgencyKind.hospital, agency="County hospital", service="Check-up"),
    )
    referral_id = next(iter(made.state.referrals))
    accepted = await driver.send(
        case_id, RecordReferralAnswer(referral_id=referral_id, answer=ReferralAnswer.accepted)
    )
    assert accepted.state.referrals[referral_id].status is ReferralStatus.accepted
    completed = await driver.send(
        case_id,
        RecordReferralAnswer(
            referral_id=referral_id, answer=ReferralAnswer.completed, note="Healthy"
        ),
    )
    assert completed.state.referrals[referral_id].status is ReferralStatus.completed

    other = await driver.send(
        case_id,
        MakeReferral(agency_kind=AgencyKind.ngo, agency="Partner NGO", service="Tutoring"),
    )
    other_id = next(r for r in other.state.referrals if r != referral_id)
    withdrawn = await driver.send(
        case_id, WithdrawReferral(referral_id=other_id, reason="The school arranged tutoring")
    )
    assert withdrawn.state.referrals[other_id].status is ReferralStatus.withdrawn
    assert not withdrawn.state.open_referrals
    assert types_of(await driver.stored(case_id))[-5:] == [
        "ReferralRequested",
        "ReferralAccepted",
        "ReferralCompleted",
        "ReferralRequested",
        "ReferralWithdrawn",
    ]
    await driver.assert_replay_matches(case_id)


async def test_recognition_approved_by_civil_affairs_starts_the_allowance(
    driver: CaseDriver,
) -> None:
    case_id = await assessed_case(driver)
    applied = await driver.send(case_id, ApplyForRecognition())
    assert applied.state.recognition is not None
    application_id = applied.state.recognition.application_id

    confirmed = await driver.wait_for(
        case_id,
        lambda s: s.recognition is not None and s.recognition.status is RecognitionStatus.confirmed,
        what="recognition confirmed",
    )
    recognition = confirmed.recognition
    assert recognition is not None
    assert recognition.application_id == application_id
    assert recognition.monthly_allowance_yuan is not None
    assert recognition.allowance_first_month is not None
    assert types_of(await driver.stored(case_id))[-4:] == [
        "RecognitionApplied",
        "RecognitionVerified",
        "RecognitionConfirmed",
        "AllowanceStarted",
    ]
    # Civil affairs received the application once and pays the allowance once.
    effects = [
        e
        for e in (await driver.journal("civil_affairs")).effects
        if str(case_id) in e.idempotency_key
    ]
    assert sorted(e.operation for e in effects) == ["allowance", "recognition"]
    await driver.assert_replay_matches(case_id)


async def test_recognition_denied_with_reasons_and_a_new_application_approved(
    driver: CaseDriver,
) -> None:
    case_id = await assessed_case(driver)
    await driver.configure_simulators(decision_mode="deny")
    first = (await driver.send(case_id, ApplyForRecognition())).state.recognition
    assert first is not None
    denied = await driver.wait_for(
        case_id,
        lambda s: s.recognition is not None and s.recognition.status is RecognitionStatus.denied,
        what="recognition denied",
    )
    assert denied.recognition is not None
    assert denied.recognition.denial_reasons
    assert denied.status is CaseStatus.assessed  # the case goes on
    assert "RecognitionDenied" in types_of(await driver.stored(case_id))

    # The domain allows a new application after a denial; this time civil affairs approves.
    await driver.configure_simulators(decision_mode="approve")
    second = (await driver.send(case_id, ApplyForRecognition())).state.recognition
    assert second is not None
    assert second.application_id != first.application_id
    confirmed = await driver.wait_for(
        case_id,
        lambda s: s.recognition is not None and s.recognition.status is RecognitionStatus.confirmed,
        what="second application confirmed",
    )
    assert confirmed.recognition is not None
    assert confirmed.recognition.application_id == second.application_id
    await driver.assert_replay_matches(case_id)


async def test_guardian_change_approved_is_registered_with_civil_affairs_by_the_engine(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    aunt = Guardian(name="Test Aunt", relation="aunt", phone="138 0000 0000")
    proposed = await driver.send(
        case_id, ProposeGuardianChange(new_guardian=aunt, reason="The grandmother is too frail")
    )
    change_id = next(iter(proposed.state.guardian_changes))
    approval_id = only_pending_approval(proposed.state)
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    registered = await driver.wait_for(
        case_id,
        lambda s: s.guardian_changes[change_id].status is ProposalStatus.registered,
        what="guardian change registered",
    )
    assert aunt in registered.current_guardians
    stored = await driver.stored(case_id)
    assert types_of(stored)[-4:] == [
        "GuardianChangeProposed",
        "ApprovalRequested",
        "ApprovalGranted",
        "GuardianChangeRegistered",
    ]
    assert stored[-1].actor.user_id == "system"
    await driver.assert_replay_matches(case_id)


async def test_transfer_to_an_institution_with_a_place_confirmed_by_civil_affairs(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    proposed = await driver.send(
        case_id,
        ProposeTransfer(
            destination_kind=DestinationKind.institution,
            destination="County child welfare institution",
            reason="No relative can care for the child",
        ),
    )
    transfer_id = next(iter(proposed.state.transfers))
    await driver.send(
        case_id,
        DecideApproval(
            approval_id=only_pending_approval(proposed.state), decision=ApprovalDecision.approve
        ),
        by=SUPERVISOR,
    )
    placed = await driver.wait_for(
        case_id,
        lambda s: (
            s.transfers[transfer_id].status is not TransferStatus.approved
            and s.transfers[transfer_id].status is not TransferStatus.proposed
        ),
        what="a place confirmed or refused",
    )
    assert placed.transfers[transfer_id].status is TransferStatus.place_confirmed
    assert placed.transfers[transfer_id].place_reference
    moved = await driver.send(
        case_id, RecordTransfer(transfer_id=transfer_id, transferred_on=today())
    )
    assert moved.state.transfers[transfer_id].status is TransferStatus.transferred
    assert moved.state.placement is not None
    assert types_of(await driver.stored(case_id))[-5:] == [
        "TransferProposed",
        "ApprovalRequested",
        "ApprovalGranted",
        "TransferPlaceConfirmed",
        "ChildTransferred",
    ]
    await driver.assert_replay_matches(case_id)


async def test_transfer_refused_for_want_of_a_place_is_recorded(driver: CaseDriver) -> None:
    case_id = await active_case(driver)
    await driver.configure_simulators(decision_mode="deny")
    proposed = await driver.send(
        case_id,
        ProposeTransfer(
            destination_kind=DestinationKind.institution,
            destination="County child welfare institution",
            reason="No relative can care for the child",
        ),
    )
    transfer_id = next(iter(proposed.state.transfers))
    await driver.send(
        case_id,
        DecideApproval(
            approval_id=only_pending_approval(proposed.state), decision=ApprovalDecision.approve
        ),
        by=SUPERVISOR,
    )
    refused = await driver.wait_for(
        case_id,
        lambda s: s.transfers[transfer_id].status is TransferStatus.place_refused,
        what="place refused",
    )
    assert refused.placement is None
    stored = await driver.stored(case_id)
    assert stored[-1].type == "TransferPlaceRefused"
    # Another destination may be proposed after a refusal.
    await driver.configure_simulators()
    again = await driver.send(
        case_id,
        ProposeTransfer(
            destination_kind=DestinationKind.boarding_school,
            destination="County boarding school",
            reason="A boarding place instead",
        ),
    )
    assert len(again.state.transfers) == 2
    await driver.assert_replay_matches(case_id)


async def test_a_visit_is_recorded_and_schedules_the_next(driver: CaseDriver) -> None:
    case_id = await active_case(driver)
    before = await driver.state(case_id)
    visited = await driver.send(
        case_id,
        RecordVisit(
            visited_at=before.updated_at,
            visit_kind=VisitKind.home,
            observations="Fed and at school",
        ),
    )
    assert visited.state.visits == 1
    assert visited.state.last_visit_at == before.updated_at
    assert "VisitRecorded" in types_of(await driver.stored(case_id))[-2:]
    await driver.assert_replay_matches(case_id)


async def test_closure_approved_closes_the_case_and_it_can_be_reopened(
    driver: CaseDriver,
) -> None:
    case_id = await active_case(driver)
    proposed = await driver.send(
        case_id,
        ProposeClosure(closure_reason=ClosureReason.parent_returned, note="Mother came home"),
    )
    assert proposed.state.status is CaseStatus.pending_closure
    closed = await driver.send(
        case_id,
        DecideApproval(
            approval_id=only_pending_approval(proposed.state), decision=ApprovalDecision.approve
        ),
        by=SUPERVISOR,
    )
    assert closed.state.status is CaseStatus.closed
    assert closed.state.closure_reason is ClosureReason.parent_returned
    refused = await driver.refused(case_id, RecordAssessment(scores=SCORES))
    assert refused.code == "case_closed"
    await driver.assert_replay_matches(case_id)

    reopened = await driver.send(case_id, ReopenCase(reason="The mother left again"), by=CASEWORKER)
    assert reopened.state.status is CaseStatus.reported
    assert reopened.state.reopen_count == 1
    assert types_of(await driver.stored(case_id))[-6:] == [
        "ClosureProposed",
        "ApprovalRequested",
        "ApprovalGranted",
        "CaseClosed",
        "CaseReopened",
        "PriorityAssigned",
    ]
    await driver.assert_replay_matches(case_id)
