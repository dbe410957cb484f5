"""Corrections: a new event, applied by the fold where the case holds the fact."""

from __future__ import annotations

from datetime import date, timedelta

from domain.child import Guardian
from domain.commands import (
    ApprovalDecision,
    CorrectFact,
    DecideApproval,
    ProposeGuardianChange,
    RegisterGuardianChange,
    age_out,
)
from domain.events import CaseOpened, FactCorrected
from domain.state import CaseStatus
from tests.domain.strategies import ENGINE, SUPERVISOR, Driver, example_report, first


def test_a_corrected_date_of_birth_is_the_one_the_case_uses() -> None:
    case = Driver()
    (corrected,) = case.do(
        CorrectFact(
            event_id=case.state.opened_event_id,
            field_path="report.child.date_of_birth",
            value="2008-03-10",
            reason="the household register says so",
        )
    )
    assert isinstance(corrected, FactCorrected)
    assert corrected.reason == "the household register says so"
    assert case.state.report.child.date_of_birth == date(2008, 3, 10)
    assert case.state.corrections[0].corrected_event_id == case.state.opened_event_id
    # the original event is untouched
    opened = first(CaseOpened, case.events)
    assert opened.report.child.date_of_birth == example_report().child.date_of_birth
    closed = age_out(case.state, case.now + timedelta(days=9), case.new_id)
    assert [e.type for e in closed] == ["CaseClosed"]


def test_a_guardians_phone_is_corrected_where_they_are_recorded() -> None:
    case = Driver()
    case.do(
        CorrectFact(
            event_id=case.state.opened_event_id,
            field_path="report.guardians.0.phone",
            value="13911112222",
            reason="new number",
        )
    )
    assert case.state.report.guardians[0].phone == "13911112222"
    assert case.state.current_guardians[0].phone == "13911112222"


def test_a_new_guardians_phone_is_corrected_on_the_proposal_and_the_guardian() -> None:
    case = Driver().assessed()
    proposed, _ = case.do(
        ProposeGuardianChange(
            new_guardian=Guardian(name="赵淑芬", relation="aunt", phone="13700000000"),
            reason="the aunt can care",
        )
    )
    case.do(
        DecideApproval(approval_id=case.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    (change_id,) = case.state.guardian_changes
    case.do(RegisterGuardianChange(change_id=change_id, registered_on=case.now.date()), ENGINE)
    case.do(
        CorrectFact(
            event_id=proposed.event_id,
            field_path="new_guardian.phone",
            value="13755556666",
            reason="typo",
        )
    )
    assert case.state.guardian_changes[change_id].new_guardian.phone == "13755556666"
    assert [g.phone for g in case.state.current_guardians] == ["13755556666"]
    assert case.state.status is CaseStatus.assessed


def test_a_correction_that_does_not_fit_is_refused() -> None:
    case = Driver()
    opened = case.state.opened_event_id
    for path, value in [
        ("report.village", "530627101202"),
        ("report.child.date_of_birth", "soon"),
        ("report.child.nickname", "x"),
        ("report.guardians.5.phone", "13700000000"),
        ("report.guardians.0", {"name": "x"}),
    ]:
        refusal = case.refusal(
            CorrectFact(event_id=opened, field_path=path, value=value, reason="x")
        )
        assert refusal.code == "not_correctable"
        assert "soon" not in refusal.reason
