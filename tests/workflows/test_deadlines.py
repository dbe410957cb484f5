"""Deadlines are durable timers: days and months pass on Temporal's time-skipping test server.

Each test runs a real worker (every workflow and activity) on its own time-skipping test server,
with the event store on the session's real PostgreSQL. It moves the clock to just before a
deadline (nothing is recorded), then just past it (the breach is recorded, at the deadline),
reads the events back from the store and checks that replaying them gives the state the workflow
reports.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

import pytest
from temporalio.client import WorkflowExecutionStatus

import domain.commands.recognition
from domain.actors import Actor, Role
from domain.commands import (
    PROGRAM_TIMEZONE,
    ApplyForRecognition,
    ApprovalDecision,
    DecideApproval,
    MakeReferral,
    RecognitionDecision,
    RecordAssessment,
    RecordCasePlan,
    RecordRecognitionDecision,
    RecordVisit,
    RequestAssistance,
)
from domain.events import (
    AgencyKind,
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRequested,
    ApprovalTimedOut,
    AssessmentOverdue,
    Breach,
    CaseClosed,
    CaseEvent,
    EscalationRaised,
    RecognitionApplied,
    RecognitionVerified,
    ReferralReminded,
    ReferralRequested,
    VisitKind,
    VisitMissed,
    VisitScheduled,
)
from domain.events.closure import ClosureReason
from domain.rules.assistance import AssistanceKind
from domain.rules.calendar import DEFAULT_CALENDAR, WorkingCalendar
from domain.rules.escalation import EscalationLevel
from domain.rules.risk import NeedScores, RiskLevel
from domain.state import ApprovalStatus, AssistanceStatus, CaseState, CaseStatus, fold
from tests.workflows.timeskip import (
    CASEWORKER,
    COUNTY,
    PREFECTURE,
    SUPERVISOR,
    TOWNSHIP,
    VILLAGE,
    TimeSkippingEngine,
    a_report,
    end_of_local_day,
    local_midnight,
    timeskip_fixture,  # noqa: F401  (the `timeskip` fixture)
    types_of,
)
from workflows.case import CaseWorkflow
from workflows.search_attributes import OVERDUE

# A fired timer's events carry the time its workflow task started: the deadline itself, give or
# take the few milliseconds the worker takes.
SLACK = timedelta(seconds=30)
JUST_PAST = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

MODERATE_NEEDS = NeedScores(
    survival=2, education=1, health=1, guardianship=1, safety=0, psychosocial=1
)
HIGH_NEEDS = NeedScores(survival=1, education=1, health=3, guardianship=1, safety=0, psychosocial=1)
COUNTY_OFFICER = Actor(user_id="timeskip-county-officer", role=Role.supervisor, area=COUNTY)

FRIDAY = 4


def recorded_at(event: CaseEvent, deadline: datetime) -> None:
    """`event` was recorded when `deadline` passed: not before it, and not long after."""
    assert deadline <= event.occurred_at < deadline + SLACK, (
        f"{event.type} at {event.occurred_at.isoformat()}, deadline {deadline.isoformat()}"
    )


async def nothing_new(timeskip: TimeSkippingEngine, case_id: UUID, count: int) -> None:
    """The case still has exactly `count` events, in the store and in the workflow."""
    assert len(await timeskip.events(case_id)) == count
    assert (await timeskip.state(case_id)).version == count


async def assessed(timeskip: TimeSkippingEngine, scores: NeedScores = MODERATE_NEEDS) -> CaseState:
    """A reported child, assessed at once (so no assessment deadline is running)."""
    opened = await timeskip.open_case(a_report())
    return await timeskip.send(opened.case_id, RecordAssessment(scores=scores))


def quiet_friday(after: date) -> date:
    """The first Friday after `after` whose next four weeks the default calendar treats as
    ordinary weeks (no holiday, no bridging working weekend)."""
    exceptions = DEFAULT_CALENDAR.holidays | DEFAULT_CALENDAR.extra_working_days
    day = after + DAY
    while day.weekday() != FRIDAY or any(day + n * DAY in exceptions for n in range(29)):
        day += DAY
    return day


def local_today(moment: datetime) -> date:
    return moment.astimezone(PROGRAM_TIMEZONE).date()


# -- assessment ----------------------------------------------------------------------------------


async def test_an_immediate_case_not_assessed_in_24_hours_is_overdue_and_escalated(
    timeskip: TimeSkippingEngine,
) -> None:
    opened = await timeskip.open_case(a_report(concerns=["living_alone"]))
    case_id = opened.case_id
    assert opened.priority == "immediate"
    due = opened.assessment_due_at
    assert due == opened.opened_at + timedelta(hours=24)

    await timeskip.sleep_until(due - HOUR)  # 23 hours on: not overdue yet
    await nothing_new(timeskip, case_id, 2)
    assert not (await timeskip.state(case_id)).assessment_overdue

    await timeskip.sleep_until(due + JUST_PAST)
    events = await timeskip.recorded(case_id, 4, what="the overdue assessment")
    overdue, raised = events[2:]
    assert isinstance(overdue, AssessmentOverdue)
    assert isinstance(raised, EscalationRaised)
    recorded_at(overdue, due)
    assert overdue.due_at == due
    assert overdue.actor.role is Role.system
    assert raised.causation_id == overdue.event_id
    assert (raised.breach, raised.deadline, raised.level, raised.area) == (
        Breach.assessment_overdue,
        due,
        EscalationLevel.township,
        TOWNSHIP,
    )

    # Once recorded, the breach is not recorded again however long the case waits.
    await timeskip.sleep(timedelta(days=5))
    await nothing_new(timeskip, case_id, 4)
    state = await timeskip.replayed_state(case_id)
    assert state.assessment_overdue
    assert state.status is CaseStatus.reported
    # The operators' "Overdue" flag was upserted on the test server too.
    description = await timeskip.handle(case_id).describe()
    assert description.typed_search_attributes.get(OVERDUE) is True


# -- approvals -----------------------------------------------------------------------------------


async def test_an_undecided_approval_escalates_to_the_county_then_the_prefecture_then_times_out(
    timeskip: TimeSkippingEngine,
) -> None:
    case = await assessed(timeskip)
    case_id = case.case_id
    state = await timeskip.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.medical_aid, quantity=1, unit="operation", value_yuan=2500
        ),
    )
    (approval,) = state.approvals.values()
    assert (approval.level, approval.area, approval.emergency) == (
        EscalationLevel.township,
        TOWNSHIP,
        False,
    )
    township_due = approval.due_at
    assert township_due == approval.requested_at + timedelta(hours=48)
    count = state.version

    await timeskip.sleep_until(township_due - HOUR)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(township_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 2, what="the escalation to the county")
    raised, escalated = events[-2:]
    assert isinstance(raised, EscalationRaised)
    assert isinstance(escalated, ApprovalEscalated)
    recorded_at(raised, township_due)
    assert (raised.breach, raised.subject_id, raised.deadline, raised.level, raised.area) == (
        Breach.approval_undecided,
        approval.approval_id,
        township_due,
        EscalationLevel.county,
        COUNTY,
    )
    assert (escalated.from_level, escalated.to_level, escalated.area) == (
        EscalationLevel.township,
        EscalationLevel.county,
        COUNTY,
    )
    county_due = escalated.due_at
    assert county_due == escalated.occurred_at + timedelta(hours=48)

    await timeskip.sleep_until(county_due - HOUR)
    await nothing_new(timeskip, case_id, count + 2)

    await timeskip.sleep_until(county_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 4, what="the escalation to the prefecture")
    raised, escalated = events[-2:]
    assert isinstance(raised, EscalationRaised)
    assert isinstance(escalated, ApprovalEscalated)
    recorded_at(raised, county_due)
    assert (raised.deadline, raised.level, raised.area) == (
        county_due,
        EscalationLevel.prefecture,
        PREFECTURE,
    )
    assert (escalated.from_level, escalated.to_level, escalated.area) == (
        EscalationLevel.county,
        EscalationLevel.prefecture,
        PREFECTURE,
    )
    prefecture_due = escalated.due_at
    assert prefecture_due == escalated.occurred_at + timedelta(hours=48)

    await timeskip.sleep_until(prefecture_due - HOUR)
    await nothing_new(timeskip, case_id, count + 4)

    await timeskip.sleep_until(prefecture_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 6, what="the prefecture's timeout")
    raised, timed_out = events[-2:]
    assert isinstance(raised, EscalationRaised)
    assert isinstance(timed_out, ApprovalTimedOut)
    recorded_at(raised, prefecture_due)
    assert (raised.deadline, raised.level, raised.area) == (
        prefecture_due,
        EscalationLevel.prefecture,
        PREFECTURE,
    )
    assert (timed_out.approval_id, timed_out.level, timed_out.due_at) == (
        approval.approval_id,
        EscalationLevel.prefecture,
        prefecture_due,
    )

    # The prefecture is the last level: the approval stays there, and nothing more is recorded.
    await timeskip.sleep(timedelta(days=7))
    await nothing_new(timeskip, case_id, count + 6)
    state = await timeskip.replayed_state(case_id)
    final = state.approvals[approval.approval_id]
    assert (final.status, final.level, final.timed_out) == (
        ApprovalStatus.pending,
        EscalationLevel.prefecture,
        True,
    )
    assert [escalation.level for escalation in state.escalations] == [
        EscalationLevel.county,
        EscalationLevel.prefecture,
        EscalationLevel.prefecture,
    ]


async def test_an_emergency_placement_escalates_after_4_hours(
    timeskip: TimeSkippingEngine,
) -> None:
    opened = await timeskip.open_case(a_report())
    case_id = opened.case_id
    # A placement made at once, before any assessment; approved after the fact.
    state = await timeskip.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.temporary_shelter,
            quantity=3,
            unit="night",
            value_yuan=300,
            emergency=True,
        ),
    )
    (approval,) = state.approvals.values()
    assert approval.emergency
    township_due = approval.due_at
    assert township_due == approval.requested_at + timedelta(hours=4)
    count = state.version

    await timeskip.sleep_until(township_due - HOUR)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(township_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 2, what="the emergency escalation")
    raised, escalated = events[-2:]
    assert isinstance(raised, EscalationRaised)
    assert isinstance(escalated, ApprovalEscalated)
    recorded_at(raised, township_due)
    assert (raised.level, escalated.to_level) == (EscalationLevel.county, EscalationLevel.county)
    # The county has 4 hours too.
    assert escalated.due_at == escalated.occurred_at + timedelta(hours=4)

    # A county officer decides in time: the county's timer stops.
    await timeskip.sleep(timedelta(hours=2))
    state = await timeskip.send(
        case_id,
        DecideApproval(approval_id=approval.approval_id, decision=ApprovalDecision.approve),
        by=COUNTY_OFFICER,
    )
    assert state.approvals[approval.approval_id].status is ApprovalStatus.granted
    count = state.version
    await timeskip.sleep_until(escalated.due_at + timedelta(hours=12))
    await nothing_new(timeskip, case_id, count)
    await timeskip.replayed_state(case_id)


async def test_a_decision_before_the_sla_stops_the_escalation(
    timeskip: TimeSkippingEngine,
) -> None:
    case = await assessed(timeskip)
    case_id = case.case_id
    state = await timeskip.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.tuition_and_fees, quantity=1, unit="year", value_yuan=3000
        ),
    )
    (approval,) = state.approvals.values()
    await timeskip.sleep_until(approval.due_at - HOUR)  # 47 hours on
    state = await timeskip.send(
        case_id,
        DecideApproval(approval_id=approval.approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    count = state.version
    events = await timeskip.events(case_id)
    granted = events[-2]
    assert isinstance(granted, ApprovalGranted)
    assert granted.level is EscalationLevel.township

    await timeskip.sleep_until(approval.due_at + timedelta(days=7))
    await nothing_new(timeskip, case_id, count)
    state = await timeskip.replayed_state(case_id)
    assert not state.escalations
    assert state.approvals[approval.approval_id].status is ApprovalStatus.granted
    (request,) = state.assistance.values()
    assert request.status is AssistanceStatus.to_deliver
    assert not any(isinstance(event, ApprovalEscalated) for event in events)


# -- service referrals ---------------------------------------------------------------------------


async def test_an_unanswered_referral_is_reminded_then_escalated_counting_working_days(
    timeskip: TimeSkippingEngine,
) -> None:
    friday = quiet_friday(local_today(await timeskip.now()))
    await timeskip.sleep_until(datetime.combine(friday, time(10), tzinfo=PROGRAM_TIMEZONE))
    case = await assessed(timeskip)
    case_id = case.case_id
    state = await timeskip.send(
        case_id,
        MakeReferral(
            agency_kind=AgencyKind.hospital, agency="County Hospital", service="Health check"
        ),
    )
    (referral,) = state.referrals.values()
    # Made on a Friday: the weekend does not count. Reminded at the end of the 3rd working day
    # (Wednesday), due at the end of the 5th (the next Friday), not 5 calendar days later.
    assert referral.remind_at == end_of_local_day(friday + 5 * DAY)
    assert referral.answer_due_at == end_of_local_day(friday + 7 * DAY)
    assert referral.answer_due_at.astimezone(PROGRAM_TIMEZONE).weekday() == FRIDAY
    count = state.version

    await timeskip.sleep_until(referral.remind_at - HOUR)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(referral.remind_at + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 1, what="the reminder")
    reminded = events[-1]
    assert isinstance(reminded, ReferralReminded)
    recorded_at(reminded, referral.remind_at)
    assert (reminded.referral_id, reminded.answer_due_at) == (
        referral.referral_id,
        referral.answer_due_at,
    )

    await timeskip.sleep_until(referral.answer_due_at - HOUR)
    await nothing_new(timeskip, case_id, count + 1)

    await timeskip.sleep_until(referral.answer_due_at + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 2, what="the referral's escalation")
    raised = events[-1]
    assert isinstance(raised, EscalationRaised)
    recorded_at(raised, referral.answer_due_at)
    assert (raised.breach, raised.subject_id, raised.deadline, raised.level, raised.area) == (
        Breach.referral_unanswered,
        referral.referral_id,
        referral.answer_due_at,
        EscalationLevel.township,
        TOWNSHIP,
    )

    await timeskip.sleep(timedelta(days=14))
    await nothing_new(timeskip, case_id, count + 2)
    state = await timeskip.replayed_state(case_id)
    chased = state.referrals[referral.referral_id]
    assert (chased.status, chased.reminded, chased.escalated) == ("requested", True, True)
    assert isinstance(events[count - 1], ReferralRequested)


# -- monitoring visits ---------------------------------------------------------------------------


async def test_a_missed_monthly_visit_is_escalated_and_a_visit_moves_the_schedule(
    timeskip: TimeSkippingEngine,
) -> None:
    case = await assessed(timeskip, MODERATE_NEEDS)
    case_id = case.case_id
    assert case.risk_level is RiskLevel.moderate
    state = await timeskip.send(case_id, RecordCasePlan(goals=("Keep her in school",)))
    due = state.next_visit_due
    assert due is not None
    assert state.plan is not None
    assert due == state.plan.recorded_at + timedelta(days=30)
    count = state.version

    await timeskip.sleep_until(due - HOUR)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 3, what="the missed visit")
    missed, raised, scheduled = events[-3:]
    assert isinstance(missed, VisitMissed)
    assert isinstance(raised, EscalationRaised)
    assert isinstance(scheduled, VisitScheduled)
    recorded_at(missed, due)
    assert missed.due_at == due
    assert (raised.breach, raised.deadline, raised.level, raised.area) == (
        Breach.visit_missed,
        due,
        EscalationLevel.township,
        TOWNSHIP,
    )
    assert scheduled.due_at == due + timedelta(days=30)

    # A visit 10 days later: the next one is due 30 days after it, not at the old date.
    await timeskip.sleep(timedelta(days=10))
    visited_at = await timeskip.now()
    state = await timeskip.send(
        case_id,
        RecordVisit(visited_at=visited_at, visit_kind=VisitKind.home, observations="All well."),
    )
    assert state.next_visit_due == visited_at + timedelta(days=30)
    count = state.version
    await timeskip.sleep_until(scheduled.due_at + JUST_PAST)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(visited_at + timedelta(days=30) + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 3, what="the second missed visit")
    missed = events[-3]
    assert isinstance(missed, VisitMissed)
    recorded_at(missed, visited_at + timedelta(days=30))
    state = await timeskip.replayed_state(case_id)
    assert (state.visits, state.missed_visits) == (1, 2)


async def test_at_high_risk_visits_are_weekly(timeskip: TimeSkippingEngine) -> None:
    case = await assessed(timeskip, HIGH_NEEDS)
    case_id = case.case_id
    assert case.risk_level is RiskLevel.high
    state = await timeskip.send(case_id, RecordCasePlan(goals=("Treatment for her illness",)))
    first_due = state.next_visit_due
    assert first_due is not None
    assert state.plan is not None
    assert first_due == state.plan.recorded_at + timedelta(days=7)
    count = state.version

    await timeskip.sleep_until(first_due - HOUR)
    await nothing_new(timeskip, case_id, count)

    await timeskip.sleep_until(first_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 3, what="the first missed visit")
    missed, raised, scheduled = events[-3:]
    assert isinstance(missed, VisitMissed)
    assert isinstance(raised, EscalationRaised)
    assert isinstance(scheduled, VisitScheduled)
    recorded_at(missed, first_due)
    assert raised.breach is Breach.visit_missed
    second_due = scheduled.due_at
    assert (second_due, scheduled.risk_level) == (first_due + timedelta(days=7), RiskLevel.high)

    await timeskip.sleep_until(second_due - HOUR)
    await nothing_new(timeskip, case_id, count + 3)

    await timeskip.sleep_until(second_due + JUST_PAST)
    events = await timeskip.recorded(case_id, count + 6, what="the second missed visit")
    assert types_of(events[-3:]) == ["VisitMissed", "EscalationRaised", "VisitScheduled"]
    recorded_at(events[-3], second_due)
    state = await timeskip.replayed_state(case_id)
    assert state.missed_visits == 2
    assert state.next_visit_due == second_due + timedelta(days=7)


# -- recognition ---------------------------------------------------------------------------------


async def test_recognition_deadlines_skip_weekends_and_holidays(
    timeskip: TimeSkippingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test server's clock starts at the machine's time and only moves forward, and every
    # holiday of the default calendar (2026) may be behind it. So the deployment here supplies
    # its calendar (as the calendar's module says deployments do): the default one plus a
    # three-day holiday from Monday to Wednesday after the Friday the application is made.
    friday = quiet_friday(local_today(await timeskip.now()))
    holiday = frozenset(friday + n * DAY for n in (3, 4, 5))
    calendar = WorkingCalendar(
        holidays=DEFAULT_CALENDAR.holidays | holiday,
        extra_working_days=DEFAULT_CALENDAR.extra_working_days,
    )
    monkeypatch.setattr(domain.commands.recognition, "DEFAULT_CALENDAR", calendar)

    await timeskip.sleep_until(datetime.combine(friday, time(10), tzinfo=PROGRAM_TIMEZONE))
    opened = await timeskip.open_case(a_report())
    case_id = opened.case_id
    state = await timeskip.send(case_id, ApplyForRecognition())
    recognition = state.recognition
    assert recognition is not None
    # 10 working days after Friday: Thursday and Friday, the week after, then Monday to
    # Wednesday: 19 days on (14 with no holiday, 10 counting every day).
    assert recognition.verification_due_at == end_of_local_day(friday + 19 * DAY)

    # Civil affairs' township verifies the same day (entered by the caseworker): the county
    # has 5 working days from then, Thursday and Friday, then Monday to Wednesday after the
    # holiday: 12 days on (7 with no holiday).
    state = await timeskip.send(
        case_id,
        RecordRecognitionDecision(
            application_id=recognition.application_id, decision=RecognitionDecision.verified
        ),
        by=CASEWORKER,
    )
    assert state.recognition is not None
    assert state.recognition.confirmation_due_at == end_of_local_day(friday + 12 * DAY)

    events = await timeskip.recorded(case_id, 4, what="the recognition")
    applied, verified = events[2:]
    assert isinstance(applied, RecognitionApplied)
    assert isinstance(verified, RecognitionVerified)
    assert applied.verification_due_at == end_of_local_day(friday + 19 * DAY)
    assert verified.confirmation_due_at == end_of_local_day(friday + 12 * DAY)
    assert local_today(applied.occurred_at) == local_today(verified.occurred_at) == friday
    await timeskip.replayed_state(case_id)


# -- coming of age -------------------------------------------------------------------------------


async def test_the_case_closes_on_its_own_at_the_start_of_the_18th_birthday(
    timeskip: TimeSkippingEngine,
) -> None:
    today = local_today(await timeskip.now())
    birthday = today + 3 * DAY
    while (birthday.month, birthday.day) == (2, 29):
        birthday += DAY
    born = birthday.replace(year=birthday.year - 18)
    # A routine case (assessment due in 10 days): nothing else is due before the birthday.
    opened = await timeskip.open_case(
        a_report(
            born=born,
            categories=["left_behind"],
            parents=[
                {"relation": "father", "situation": "working_away"},
                {"relation": "mother", "situation": "working_away"},
            ],
        )
    )
    case_id = opened.case_id
    assert opened.priority == "routine"
    comes_of_age = local_midnight(birthday)

    await timeskip.sleep_until(comes_of_age - HOUR)
    await nothing_new(timeskip, case_id, 2)
    assert (await timeskip.state(case_id)).is_open

    # Awaiting the result lets the server skip the clock to the workflow's next timer.
    final = await timeskip.result(case_id)
    events = await timeskip.recorded(case_id, 3, what="the closure")
    closed = events[-1]
    assert isinstance(closed, CaseClosed)
    recorded_at(closed, comes_of_age)
    assert closed.occurred_at.astimezone(PROGRAM_TIMEZONE).date() == birthday
    assert (closed.closure_reason, closed.closure_id, closed.rule) == (
        ClosureReason.turned_18,
        None,
        "closure.age_out",
    )
    assert closed.actor == Actor(user_id="system", role=Role.system, area=VILLAGE)
    assert not any(isinstance(event, ApprovalRequested) for event in events)

    assert (final.status, final.closure_reason, final.closed_at) == (
        CaseStatus.closed,
        ClosureReason.turned_18,
        closed.occurred_at,
    )
    assert fold(events) == final
    handle = timeskip.handle(case_id)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    assert await handle.query(CaseWorkflow.state) == final
