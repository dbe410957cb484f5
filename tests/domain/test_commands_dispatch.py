"""One entry point: `decide` takes any command model; commands parse from JSON; a closed case
takes nothing but a reopening; the lifecycle goes where the state module says."""

from __future__ import annotations

import typing
from datetime import timedelta
from uuid import UUID

import pytest

from domain.commands import (
    COMMAND_ADAPTER,
    ApplyForRecognition,
    ApprovalDecision,
    AssignCaseworker,
    CaseCommand,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    RecognitionDecision,
    RecordAssessment,
    RecordRecognitionDecision,
    ReopenCase,
    check_command,
    check_may_report,
    decide,
    open_case,
)
from domain.events import (
    AgencyKind,
    AllowanceStarted,
    ClosureReason,
    PriorityAssigned,
    RecognitionApplied,
    RecognitionConfirmed,
)
from domain.rules.priority import Priority
from domain.state import CaseStatus, RecognitionStatus
from tests.domain.strategies import (
    AUDITOR,
    ENGINE,
    MODERATE_NEEDS,
    REPORTER,
    SUPERVISOR,
    Driver,
)
from tests.domain.test_events_codec import whole_life

COMMAND_TYPES = typing.get_args(typing.get_args(CaseCommand)[0])


def test_the_api_and_workflow_imports_still_work() -> None:
    assert callable(open_case)
    assert callable(check_may_report)


def test_every_command_has_its_own_name() -> None:
    names = [command.model_fields["command"].default for command in COMMAND_TYPES]
    assert len(set(names)) == len(COMMAND_TYPES)
    for command in COMMAND_TYPES:
        assert command.model_config.get("frozen")


def test_commands_parse_from_json_by_name() -> None:
    parsed = COMMAND_ADAPTER.validate_json(
        '{"command": "record_assessment", "scores": {"survival": 1, "education": 0, "health": 0,'
        ' "guardianship": 3, "safety": 0, "psychosocial": 1}}'
    )
    assert isinstance(parsed, RecordAssessment)
    decision = COMMAND_ADAPTER.validate_python(
        {"command": "decide_approval", "approval_id": str(UUID(int=1)), "decision": "reject"}
    )
    assert isinstance(decision, DecideApproval)
    assert COMMAND_ADAPTER.validate_json(COMMAND_ADAPTER.dump_json(decision)) == decision


def test_decide_and_its_validator_agree() -> None:
    case = Driver()
    command = RecordAssessment(scores=MODERATE_NEEDS)
    check_command(case.state, command, actor=REPORTER, now=case.now)
    assert case.state.version == 2
    events = decide(case.state, command, actor=REPORTER, now=case.now, new_id=case.new_id)
    assert [e.type for e in events] == ["AssessmentRecorded"]


def test_a_closed_case_takes_only_a_reopening() -> None:
    case = Driver().assessed()
    case.do(ProposeClosure(closure_reason=ClosureReason.situation_resolved))
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    commands: list[CaseCommand] = [
        RecordAssessment(scores=MODERATE_NEEDS),
        MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="x"),
        ApplyForRecognition(),
        ProposeClosure(closure_reason=ClosureReason.death),
        AssignCaseworker(caseworker="cw-2"),
    ]
    for command in commands:
        for actor in (REPORTER, SUPERVISOR, ENGINE):
            assert case.refusal(command, actor).code == "case_closed"
    assert case.refusal(ReopenCase(reason="x"), AUDITOR).code == "role_not_allowed"
    reopened, screened = case.do(
        ReopenCase(reason="the mother left again", concerns=frozenset({"neglected"}))
    )
    assert isinstance(screened, PriorityAssigned)
    assert screened.priority is Priority.immediate
    assert screened.causation_id == reopened.event_id
    assert case.state.status is CaseStatus.reported
    assert case.state.reopen_count == 1
    assert case.state.plan is None
    assert case.state.need_scores is None


def test_the_lifecycle() -> None:
    case = Driver()
    statuses = [case.state.status]
    case.assessed()
    statuses.append(case.state.status)
    case.planned()
    statuses.append(case.state.status)
    case.assessed()
    statuses.append(case.state.status)
    case.do(ProposeClosure(closure_reason=ClosureReason.moved_out_of_area, handover_to="530628"))
    statuses.append(case.state.status)
    assert case.state.closure is not None
    assert case.state.closure.handover_to == "530628"
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    statuses.append(case.state.status)
    case.later(timedelta(days=3)).do(ReopenCase(reason="came back"))
    statuses.append(case.state.status)
    assert statuses == [
        CaseStatus.reported,
        CaseStatus.assessed,
        CaseStatus.active,
        CaseStatus.active,
        CaseStatus.pending_closure,
        CaseStatus.closed,
        CaseStatus.reported,
    ]


def test_a_handover_is_only_for_a_child_who_moved() -> None:
    with pytest.raises(ValueError, match="handed over"):
        ProposeClosure(closure_reason=ClosureReason.death, handover_to="530628")


def test_recognition_goes_township_then_county_then_allowance() -> None:
    case = Driver().assessed()
    (applied,) = case.do(ApplyForRecognition())
    assert isinstance(applied, RecognitionApplied)
    recognition = case.state.recognition
    assert recognition is not None
    assert recognition.status is RecognitionStatus.applied
    assert applied.rule == "recognition.de_facto_orphan"
    assert recognition.qualifying == ("father:imprisoned", "mother:deceased")
    case.later(timedelta(days=5)).do(
        RecordRecognitionDecision(
            application_id=recognition.application_id, decision=RecognitionDecision.verified
        ),
        ENGINE,
    )
    confirmed, allowance = case.later(timedelta(days=3)).do(
        RecordRecognitionDecision(
            application_id=recognition.application_id,
            decision=RecognitionDecision.confirmed,
            monthly_allowance_yuan=950,
        ),
        ENGINE,
    )
    assert isinstance(allowance, AllowanceStarted)
    assert isinstance(confirmed, RecognitionConfirmed)
    assert allowance.first_month == confirmed.recognised_on.replace(
        day=1, month=confirmed.recognised_on.month + 1
    )
    assert case.state.recognition is not None
    assert case.state.recognition.status == RecognitionStatus.confirmed
    assert "de_facto_orphan" in case.state.categories


def test_the_whole_life_is_accepted_command_by_command() -> None:
    life = whole_life()
    assert life.state.version == len(life.events)
