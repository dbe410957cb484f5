"""What the engine decides when a timer fires: deadlines breached, visits missed, referrals
chased, and the case closed on the 18th birthday. Nothing when there is nothing to do."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from domain.commands import (
    PROGRAM_TIMEZONE,
    ApprovalDecision,
    DeadlineKind,
    MakeReferral,
    RecordAssessment,
    RecordReferralAnswer,
    RecordVisit,
    ReferralAnswer,
    RequestAssistance,
    age_out,
    assessment_overdue,
    deadlines,
    on_deadline,
    referral_unanswered,
    visit_missed,
)
from domain.events import (
    AgencyKind,
    AssessmentOverdue,
    Breach,
    CaseClosed,
    ClosureReason,
    EscalationRaised,
    ReferralReminded,
    ReferralRequested,
    VisitKind,
    VisitMissed,
    VisitScheduled,
)
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import RiskLevel
from domain.state import ApprovalStatus, CaseStatus
from tests.domain.strategies import (
    ENGINE,
    HIGH_NEEDS,
    MODERATE_NEEDS,
    START,
    TOWNSHIP,
    Driver,
    example_report,
)

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def test_a_missed_assessment_deadline_is_recorded_and_escalated_once() -> None:
    case = Driver()
    due = case.state.assessment_due_at
    assert due == START + 10 * DAY  # routine: no concern, no likely orphan, an able guardian
    assert assessment_overdue(case.state, due - MINUTE, case.new_id) == []
    case.now = due
    overdue, raised = case.record(assessment_overdue(case.state, case.now, case.new_id))
    assert isinstance(overdue, AssessmentOverdue)
    assert isinstance(raised, EscalationRaised)
    assert raised.breach is Breach.assessment_overdue
    assert raised.area == TOWNSHIP
    assert raised.causation_id == overdue.event_id
    assert overdue.actor == ENGINE
    assert case.state.assessment_overdue
    assert assessment_overdue(case.state, case.now + DAY, case.new_id) == []
    case.do(RecordAssessment(scores=MODERATE_NEEDS))
    assert not case.state.assessment_overdue


def test_no_overdue_once_assessed() -> None:
    case = Driver().assessed()
    assert assessment_overdue(case.state, START + 100 * DAY, case.new_id) == []


def test_visits_follow_the_risk_level() -> None:
    case = Driver().assessed().planned()
    planned = case.state
    assert planned.risk_level is RiskLevel.moderate
    assert case.state.next_visit_due == START + 30 * DAY
    case.later(DAY).do(RecordAssessment(scores=HIGH_NEEDS))
    assert case.state.risk_level is RiskLevel.high
    assert case.state.next_visit_due == case.now + 7 * DAY
    visited_at = case.now + 2 * DAY
    case.now = visited_at
    case.do(RecordVisit(visited_at=visited_at, visit_kind=VisitKind.home, observations="ok"))
    assert case.state.next_visit_due == visited_at + 7 * DAY
    assert case.state.last_visit_at == visited_at


def test_a_missed_visit_is_recorded_escalated_and_rescheduled() -> None:
    case = Driver().assessed().planned()
    due = case.state.next_visit_due
    assert due is not None
    assert visit_missed(case.state, due - MINUTE, case.new_id) == []
    case.now = due + MINUTE
    missed, raised, scheduled = case.record(visit_missed(case.state, case.now, case.new_id))
    assert isinstance(missed, VisitMissed)
    assert missed.due_at == due
    assert isinstance(raised, EscalationRaised)
    assert raised.breach is Breach.visit_missed
    assert isinstance(scheduled, VisitScheduled)
    assert scheduled.due_at == due + 30 * DAY
    assert case.state.missed_visits == 1
    assert visit_missed(case.state, case.now, case.new_id) == []


def test_an_unanswered_referral_is_reminded_then_escalated() -> None:
    case = Driver().assessed()
    (made,) = case.do(MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="tutor"))
    assert isinstance(made, ReferralRequested)
    referral = case.state.referrals[made.referral_id]
    # made on Monday 2 March 2026: reminded at the end of Thursday, answer due end of Monday
    assert referral.remind_at == datetime.combine(date(2026, 3, 5), time.max, PROGRAM_TIMEZONE)
    assert referral.answer_due_at == datetime.combine(date(2026, 3, 9), time.max, PROGRAM_TIMEZONE)
    assert (
        referral_unanswered(
            case.state, referral.referral_id, referral.remind_at - MINUTE, case.new_id
        )
        == []
    )
    case.now = referral.remind_at
    (reminded,) = case.record(
        referral_unanswered(case.state, referral.referral_id, case.now, case.new_id)
    )
    assert isinstance(reminded, ReferralReminded)
    assert (
        referral_unanswered(case.state, referral.referral_id, case.now + MINUTE, case.new_id) == []
    )
    case.now = referral.answer_due_at
    (raised,) = case.record(
        referral_unanswered(case.state, referral.referral_id, case.now, case.new_id)
    )
    assert isinstance(raised, EscalationRaised)
    assert raised.breach is Breach.referral_unanswered
    assert raised.subject_id == referral.referral_id
    assert case.state.referrals[referral.referral_id].escalated
    assert referral_unanswered(case.state, referral.referral_id, case.now + DAY, case.new_id) == []


def test_a_referral_found_late_is_reminded_and_escalated_at_once() -> None:
    case = Driver().assessed()
    (made,) = case.do(MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="tutor"))
    assert isinstance(made, ReferralRequested)
    late = case.state.referrals[made.referral_id].answer_due_at + DAY
    events = referral_unanswered(case.state, made.referral_id, late, case.new_id)
    assert [e.type for e in events] == ["ReferralReminded", "EscalationRaised"]


def test_an_answered_referral_is_not_chased() -> None:
    case = Driver().assessed()
    (made,) = case.do(MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="tutor"))
    assert isinstance(made, ReferralRequested)
    case.do(
        RecordReferralAnswer(referral_id=made.referral_id, answer=ReferralAnswer.accepted), ENGINE
    )
    assert referral_unanswered(case.state, made.referral_id, START + 30 * DAY, case.new_id) == []


def test_the_case_closes_at_the_start_of_the_eighteenth_birthday() -> None:
    born = date(2008, 3, 20)
    case = Driver(example_report(born=born)).assessed()
    case.do(
        RequestAssistance(kind=AssistanceKind.medical_aid, quantity=1, unit="case", value_yuan=9000)
    )
    birthday = datetime.combine(date(2026, 3, 20), time.min, PROGRAM_TIMEZONE)
    assert age_out(case.state, birthday - MINUTE, case.new_id) == []
    case.now = birthday
    events = case.record(age_out(case.state, case.now, case.new_id))
    assert [e.type for e in events] == ["ApprovalWithdrawn", "CaseClosed"]
    closed = events[-1]
    assert isinstance(closed, CaseClosed)
    assert closed.closure_reason is ClosureReason.turned_18
    assert closed.rule == "closure.age_out"
    assert closed.actor == ENGINE
    assert case.state.status is CaseStatus.closed
    assert age_out(case.state, case.now + DAY, case.new_id) == []
    assert ApprovalDecision.approve  # nothing left to decide
    assert not case.state.pending_approvals


def test_the_deadlines_follow_the_state_until_the_case_closes() -> None:
    case = Driver(example_report(born=date(2008, 9, 1)))
    assert [d.kind for d in deadlines(case.state)] == [
        DeadlineKind.assessment,
        DeadlineKind.age_out,
    ]
    case.assessed().planned()
    case.do(
        RequestAssistance(kind=AssistanceKind.medical_aid, quantity=1, unit="case", value_yuan=9000)
    )
    case.do(MakeReferral(agency_kind=AgencyKind.hospital, agency="clinic", service="eyes"))
    kinds = [d.kind for d in deadlines(case.state)]
    assert kinds == [
        DeadlineKind.approval,
        DeadlineKind.referral,
        DeadlineKind.visit,
        DeadlineKind.age_out,
    ]
    # The engine wakes at each next deadline until nothing is left: the case ages out.
    for _ in range(100):
        ahead = deadlines(case.state)
        if not ahead:
            break
        case.now = max(case.now, ahead[0].at)
        case.record(on_deadline(case.state, ahead[0], case.now, case.new_id))
    assert case.state.status is CaseStatus.closed
    assert case.state.closure_reason is ClosureReason.turned_18
    (approval,) = case.state.approvals.values()
    assert approval.timed_out
    assert approval.status is ApprovalStatus.withdrawn
    types = {e.type for e in case.events}
    assert {"ApprovalEscalated", "ApprovalTimedOut", "ReferralReminded", "VisitMissed"} <= types
