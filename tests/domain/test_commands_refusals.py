"""Every refusal: the command produces no events, leaves the case as it was, says what was wrong
with a stable code, and never names the child, a guardian or an address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.actors import Actor
from domain.child import Guardian, ParentRelation, ParentSituation, ParentSituationKind
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    AssignCaseworker,
    CaseCommand,
    CorrectFact,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecognitionDecision,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordEligibilityAnswer,
    RecordRecognitionDecision,
    RecordReferralAnswer,
    RecordVisit,
    ReferralAnswer,
    RegisterGuardianChange,
    ReopenCase,
    RequestAssistance,
    RequestEligibilityCheck,
    check_command,
)
from domain.errors import CommandRefused
from domain.events import (
    AgencyKind,
    AssistanceRequested,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    ReferralRequested,
    SchoolEnrolmentFacts,
    SchoolStatus,
    VisitKind,
)
from domain.rules.assistance import AssistanceKind
from tests.domain.strategies import (
    ADMIN,
    AUDITOR,
    CASEWORKER,
    ENGINE,
    FAR_CASEWORKER,
    FAR_SUPERVISOR,
    HIGH_NEEDS,
    MODERATE_NEEDS,
    REPORTER,
    START,
    SUPERVISOR,
    Driver,
    example_report,
)

NEW_GUARDIAN = Guardian(name="赵淑芬", relation="aunt", phone="13700000000")
Setup = Callable[[], tuple[Driver, CaseCommand, Actor]]


def _assessed() -> Driver:
    return Driver().assessed()


def _closed() -> Driver:
    case = _assessed()
    case.do(ProposeClosure(closure_reason=ClosureReason.parent_returned))
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    return case


def _with_request(value_yuan: int, quantity: int = 2) -> tuple[Driver, UUID]:
    case = _assessed()
    requested = case.do(
        RequestAssistance(
            kind=AssistanceKind.quilt, quantity=quantity, unit="quilt", value_yuan=value_yuan
        )
    )[0]
    assert isinstance(requested, AssistanceRequested)
    return case, requested.request_id


def _rejected_request() -> tuple[Driver, UUID]:
    case, request_id = _with_request(3000)
    case.do(
        DecideApproval(
            approval_id=case.pending_approval(),
            decision=ApprovalDecision.reject,
            comment="too much",
        ),
        SUPERVISOR,
    )
    return case, request_id


def _by_supervisor_proposal() -> Driver:
    case = _assessed()
    case.do(
        ProposeTransfer(
            destination_kind=DestinationKind.institution,
            destination="county home",
            reason="no carer",
        ),
        SUPERVISOR,
    )
    return case


def _with_check() -> tuple[Driver, UUID]:
    case = Driver()
    case.do(RequestEligibilityCheck(check=EligibilityCheckKind.parents_status))
    (check_id,) = case.state.eligibility_checks
    return case, check_id


def _applied() -> tuple[Driver, UUID]:
    case = _assessed()
    case.do(ApplyForRecognition())
    assert case.state.recognition is not None
    return case, case.state.recognition.application_id


def _with_referral() -> tuple[Driver, UUID]:
    case = _assessed()
    (made,) = case.do(
        MakeReferral(agency_kind=AgencyKind.hospital, agency="clinic", service="check-up")
    )
    assert isinstance(made, ReferralRequested)
    return case, made.referral_id


def _proposed_guardian() -> tuple[Driver, UUID]:
    case = _assessed()
    case.do(ProposeGuardianChange(new_guardian=NEW_GUARDIAN, reason="the aunt can care"))
    (change_id,) = case.state.guardian_changes
    return case, change_id


def _adult_closed() -> Driver:
    report = example_report(born=START.date().replace(year=START.year - 18) + timedelta(days=10))
    case = Driver(report)
    case.do(ProposeClosure(closure_reason=ClosureReason.moved_out_of_area))
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    case.later(timedelta(days=30))
    return case


def _parents_at_home() -> Driver:
    report = example_report().model_copy(
        update={
            "parents": [
                ParentSituation(
                    relation=ParentRelation.father, situation=ParentSituationKind.present_and_able
                ),
                ParentSituation(
                    relation=ParentRelation.mother, situation=ParentSituationKind.working_away
                ),
            ]
        }
    )
    return Driver(report).assessed()


def case_at(
    setup: Callable[[], tuple[Driver, UUID]],
    make: Callable[[UUID], CaseCommand],
    actor: Actor = REPORTER,
) -> Setup:
    def build() -> tuple[Driver, CaseCommand, Actor]:
        case, some_id = setup()
        return case, make(some_id), actor

    return build


def simply(setup: Callable[[], Driver], command: CaseCommand, actor: Actor = REPORTER) -> Setup:
    return lambda: (setup(), command, actor)


def _deciding(decision: ApprovalDecision, actor: Actor) -> Setup:
    """A decision on a pending assistance approval, without a comment."""

    def build() -> tuple[Driver, CaseCommand, Actor]:
        case, _ = _with_request(3000)
        return case, DecideApproval(approval_id=case.pending_approval(), decision=decision), actor

    return build


def _closing() -> Driver:
    case = _assessed()
    case.do(ProposeClosure(closure_reason=ClosureReason.situation_resolved))
    return case


def _own_request() -> tuple[Driver, CaseCommand, Actor]:
    case = _by_supervisor_proposal()
    return (
        case,
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )


def _decided_twice() -> tuple[Driver, CaseCommand, Actor]:
    case, _ = _with_request(3000)
    approval_id = case.pending_approval()
    case.do(DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve), SUPERVISOR)
    return (
        case,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        SUPERVISOR,
    )


def _answered_twice() -> tuple[Driver, CaseCommand, Actor]:
    case, check_id = _with_check()
    answer = RecordEligibilityAnswer(check_id=check_id, facts=None, failure=CheckFailure.not_found)
    case.do(answer, ENGINE)
    return case, answer, ENGINE


def _confirmed_without_amount() -> tuple[Driver, CaseCommand, Actor]:
    case, application_id = _applied()
    case.do(
        RecordRecognitionDecision(
            application_id=application_id, decision=RecognitionDecision.verified
        ),
        ENGINE,
    )
    return (
        case,
        RecordRecognitionDecision(
            application_id=application_id, decision=RecognitionDecision.confirmed
        ),
        ENGINE,
    )


def _correct(path: str, value: str) -> CaseCommand:
    return CorrectFact(event_id=_OPENED, field_path=path, value=value, reason="wrong on the report")


_OPENED = Driver().state.opened_event_id


ASSESS = RecordAssessment(scores=MODERATE_NEEDS)
TODAY = START.date()

REFUSALS: list[tuple[str, Setup]] = [
    ("role_not_allowed", simply(Driver, ASSESS, AUDITOR)),
    ("role_not_allowed", simply(Driver, ASSESS, ADMIN)),
    ("role_not_allowed", simply(Driver, ASSESS, ENGINE)),
    ("role_not_allowed", simply(Driver, AssignCaseworker(caseworker="cw-2"), REPORTER)),
    (
        "role_not_allowed",
        _deciding(ApprovalDecision.approve, CASEWORKER),
    ),
    ("outside_area", simply(Driver, ASSESS, FAR_CASEWORKER)),
    (
        "outside_area",
        _deciding(ApprovalDecision.approve, FAR_SUPERVISOR),
    ),
    (
        "case_closed",
        simply(
            _closed,
            RequestAssistance(
                kind=AssistanceKind.food_pack, quantity=1, unit="pack", value_yuan=80
            ),
        ),
    ),
    ("case_closed", simply(_closed, ASSESS)),
    ("case_open", simply(Driver, ReopenCase(reason="new report"))),
    ("not_assessed", simply(Driver, RecordCasePlan(goals=("meals",)))),
    (
        "not_assessed",
        simply(
            Driver,
            RequestAssistance(
                kind=AssistanceKind.food_pack, quantity=1, unit="pack", value_yuan=80
            ),
        ),
    ),
    (
        "not_assessed",
        simply(
            Driver,
            RecordVisit(
                visited_at=START,
                visit_kind=VisitKind.home,
                observations="ok",
                updated_scores=HIGH_NEEDS,
            ),
        ),
    ),
    (
        "closure_pending",
        lambda: (_closing(), ProposeClosure(closure_reason=ClosureReason.death), REPORTER),
    ),
    (
        "not_found",
        simply(_assessed, RecordDelivery(request_id=UUID(int=99), quantity=1, delivered_on=TODAY)),
    ),
    (
        "not_found",
        simply(
            _assessed,
            DecideApproval(approval_id=UUID(int=99), decision=ApprovalDecision.approve),
            SUPERVISOR,
        ),
    ),
    ("not_pending", lambda: _decided_twice()),
    ("own_request", lambda: _own_request()),
    (
        "comment_required",
        _deciding(ApprovalDecision.reject, SUPERVISOR),
    ),
    (
        "awaiting_approval",
        case_at(
            lambda: _with_request(3000),
            lambda r: RecordDelivery(request_id=r, quantity=1, delivered_on=TODAY),
        ),
    ),
    (
        "not_deliverable",
        case_at(
            _rejected_request,
            lambda r: RecordDelivery(request_id=r, quantity=1, delivered_on=TODAY),
        ),
    ),
    (
        "over_delivery",
        case_at(
            lambda: _with_request(300),
            lambda r: RecordDelivery(request_id=r, quantity=3, delivered_on=TODAY),
        ),
    ),
    (
        "over_value",
        case_at(
            lambda: _with_request(300),
            lambda r: RecordDelivery(request_id=r, quantity=1, value_yuan=301, delivered_on=TODAY),
        ),
    ),
    (
        "in_future",
        case_at(
            lambda: _with_request(300),
            lambda r: RecordDelivery(request_id=r, quantity=1, delivered_on=date(2026, 3, 4)),
        ),
    ),
    (
        "in_future",
        simply(
            _assessed,
            RecordVisit(
                visited_at=START + timedelta(hours=1), visit_kind=VisitKind.home, observations="ok"
            ),
        ),
    ),
    (
        "in_progress",
        case_at(
            _proposed_guardian,
            lambda _: ProposeGuardianChange(new_guardian=NEW_GUARDIAN, reason="again"),
        ),
    ),
    (
        "in_progress",
        case_at(
            _with_check,
            lambda _: RequestEligibilityCheck(check=EligibilityCheckKind.parents_status),
        ),
    ),
    ("in_progress", case_at(_applied, lambda _: ApplyForRecognition())),
    ("already_answered", lambda: _answered_twice()),
    (
        "wrong_facts",
        case_at(
            _with_check,
            lambda c: RecordEligibilityAnswer(
                check_id=c, facts=SchoolEnrolmentFacts(status=SchoolStatus.enrolled)
            ),
            ENGINE,
        ),
    ),
    ("not_eligible", simply(_parents_at_home, ApplyForRecognition())),
    (
        "wrong_stage",
        case_at(
            _applied,
            lambda a: RecordRecognitionDecision(
                application_id=a, decision=RecognitionDecision.confirmed, monthly_allowance_yuan=950
            ),
            ENGINE,
        ),
    ),
    (
        "wrong_stage",
        case_at(
            _with_referral,
            lambda r: RecordReferralAnswer(referral_id=r, answer=ReferralAnswer.completed),
            ENGINE,
        ),
    ),
    (
        "reasons_required",
        case_at(
            _applied,
            lambda a: RecordRecognitionDecision(
                application_id=a, decision=RecognitionDecision.denied
            ),
            ENGINE,
        ),
    ),
    ("allowance_amount_required", lambda: _confirmed_without_amount()),
    (
        "reason_required",
        case_at(
            _with_referral,
            lambda r: RecordReferralAnswer(referral_id=r, answer=ReferralAnswer.declined),
            ENGINE,
        ),
    ),
    (
        "not_approved",
        case_at(
            _proposed_guardian,
            lambda c: RegisterGuardianChange(change_id=c, registered_on=TODAY),
            ENGINE,
        ),
    ),
    (
        "not_a_placement",
        simply(
            _assessed,
            RequestAssistance(
                kind=AssistanceKind.food_pack,
                quantity=1,
                unit="pack",
                value_yuan=80,
                emergency=True,
            ),
        ),
    ),
    ("not_of_age", simply(_assessed, ProposeClosure(closure_reason=ClosureReason.turned_18))),
    ("not_a_child", simply(_adult_closed, ReopenCase(reason="came back"))),
    (
        "not_correctable",
        lambda: (_assessed(), _correct("report.village", "530627101202"), REPORTER),
    ),
    (
        "not_correctable",
        lambda: (_assessed(), _correct("report.child.date_of_birth", "not a date"), REPORTER),
    ),
    (
        "not_correctable",
        lambda: (
            _assessed(),
            CorrectFact(
                event_id=UUID(int=7), field_path="report.child.name", value="x", reason="typo"
            ),
            REPORTER,
        ),
    ),
    ("already_assigned", simply(Driver, AssignCaseworker(caseworker=REPORTER.user_id), SUPERVISOR)),
]


@pytest.mark.parametrize(
    ("code", "setup"), REFUSALS, ids=[f"{code}-{n}" for n, (code, _) in enumerate(REFUSALS)]
)
def test_a_refused_command_leaves_no_trace(code: str, setup: Setup) -> None:
    case, command, actor = setup()
    events_before = list(case.events)
    refusal = case.refusal(command, actor)
    assert refusal.code == code, refusal.reason
    assert case.events == events_before
    assert refusal.reason
    personal = [case.report.child.name, case.report.household.address, NEW_GUARDIAN.name]
    personal += [guardian.name for guardian in case.report.guardians]
    for secret in personal:
        assert secret not in refusal.reason
    with pytest.raises(CommandRefused) as validated:
        check_command(case.state, command, actor=actor, now=case.now)
    assert validated.value.code == code


def test_every_refusal_reason_is_tested() -> None:
    tested = {code for code, _ in REFUSALS}
    assert tested >= {
        "role_not_allowed",
        "outside_area",
        "case_closed",
        "case_open",
        "not_assessed",
        "closure_pending",
        "not_found",
        "not_pending",
        "own_request",
        "comment_required",
        "awaiting_approval",
        "not_deliverable",
        "over_delivery",
        "over_value",
        "in_future",
        "in_progress",
        "already_answered",
        "wrong_facts",
        "not_eligible",
        "wrong_stage",
        "reasons_required",
        "allowance_amount_required",
        "reason_required",
        "not_approved",
        "not_a_placement",
        "not_of_age",
        "not_a_child",
        "not_correctable",
        "already_assigned",
    }
