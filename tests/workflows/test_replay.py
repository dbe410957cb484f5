"""Recorded histories of representative cases, replayed against today's workflow code.

A change to `workflows/` that would break cases already running (a command added, removed or
reordered in their past) makes `Replayer` fail here on every run.

The histories in `histories/` were recorded by this module's engine, whose Temporal payloads are
encrypted with the TEST-ONLY key of `driver.py` (`TEST_PAYLOAD_KEYS`, committed with the tests);
they are replayed through the same encrypting converter, so the codec is part of what is
replayed. The key protects nothing: the children in these files are made up.

Re-record (after a deliberate, versioned change to the workflows, never to make a failing replay
pass):

    CASEFLOW_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows/test_replay.py -p no:cacheprovider

Each file is named `<scenario>[-recognition][-run<n>]--<workflow id>.json` and holds
`history.to_json()` of one run (a case that continued as new has one file per run; a Recognition
child workflow has its own). Re-recording replaces a scenario's files; the `KEPT` ones are never
re-recorded: they hold runs recorded before a patch, to replay its old path.

A change proven to fail here: awaiting a timer before a command's append (a new command in the
past of every case) fails with "Nondeterminism error"; so does dropping the `settle-before-ending`
patch, on the histories recorded with it; so do dropping the `upsert-search-attributes-changes-only`
patch (on the histories recorded with it: "patch marker encountered ... but there is no
corresponding change command") and upserting only changed attributes without it (on the
`pre_changed_attributes_` histories: "Update machine does not handle this event: ...
UpsertWorkflowSearchAttributes").
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from caseflow.codec import encrypted_data_converter
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
    ReferralAnswer,
    ReopenCase,
    RequestAssistance,
    RequestEligibilityCheck,
)
from domain.events import AgencyKind, ClosureReason, DestinationKind, EligibilityCheckKind
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from domain.state import CaseState, CaseStatus, CheckStatus, RecognitionStatus, TransferStatus
from tests.workflows.driver import (
    SUPERVISOR,
    TEST_PAYLOAD_KEYS,
    CaseDriver,
    a_report,
    today,
)
from workflows.recognition import recognition_workflow_id
from workflows.registry import WORKFLOWS

HISTORIES = Path(__file__).with_name("histories")
RECORD = os.environ.get("CASEFLOW_RECORD_HISTORIES") == "1"
SCORES = NeedScores(survival=2, education=2, health=1, guardianship=2, safety=1, psychosocial=1)


# -- the recorded scenarios ----------------------------------------------------------------------


async def assistance_and_referral(driver: CaseDriver) -> list[str]:
    """Checks answered by both systems, an approved assistance delivered, a referral completed."""
    opened = await driver.open_case(a_report(name="Replay Child One"))
    case_id = opened.case_id
    for kind in EligibilityCheckKind:
        await driver.send(case_id, RequestEligibilityCheck(check=kind))
    await driver.wait_for(
        case_id,
        lambda s: all(c.status is not CheckStatus.requested for c in s.eligibility_checks.values()),
        what="checks answered",
    )
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await driver.send(case_id, RecordCasePlan(goals=("School and food",)))
    requested = await driver.send(
        case_id,
        RequestAssistance(
            kind=AssistanceKind.tuition_and_fees, quantity=1, unit="year", value_yuan=2400
        ),
    )
    (approval_id,) = requested.state.pending_approvals
    (request_id,) = requested.state.assistance
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    await driver.send(
        case_id, RecordDelivery(request_id=request_id, quantity=1, delivered_on=today())
    )
    made = await driver.send(
        case_id, MakeReferral(agency_kind=AgencyKind.school, agency="School", service="Tutoring")
    )
    (referral_id,) = made.state.referrals
    for answer in (ReferralAnswer.accepted, ReferralAnswer.completed):
        await driver.send(case_id, RecordReferralAnswer(referral_id=referral_id, answer=answer))
    await driver.assert_replay_matches(case_id)
    return [opened.workflow_id]


async def recognition(driver: CaseDriver) -> list[str]:
    """A recognition denied, applied for again and confirmed: the case and both children."""
    opened = await driver.open_case(a_report(name="Replay Child Two"))
    case_id = opened.case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    children = []
    outcomes = {"deny": RecognitionStatus.denied, "approve": RecognitionStatus.confirmed}
    for mode, outcome in outcomes.items():
        await driver.configure_simulators(decision_mode=mode)
        applied = (await driver.send(case_id, ApplyForRecognition())).state.recognition
        assert applied is not None

        def decided(state: CaseState, outcome: RecognitionStatus = outcome) -> bool:
            return state.recognition is not None and state.recognition.status is outcome

        await driver.wait_for(case_id, decided, what=f"recognition {outcome}")
        children.append(recognition_workflow_id(case_id, applied.application_id))
    await driver.configure_simulators()
    await driver.assert_replay_matches(case_id)
    return [opened.workflow_id, *children]


async def guardian_transfer_closure(driver: CaseDriver) -> list[str]:
    """Guardian registered, a transfer placed and made, closure and reopening, over three runs
    (continue-as-new every 4 commands)."""
    opened = await driver.open_case(a_report(name="Replay Child Three"), commands_per_run=4)
    case_id = opened.case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await driver.send(case_id, RecordCasePlan(goals=("A safe home",)))
    proposed = await driver.send(
        case_id,
        ProposeGuardianChange(
            new_guardian=Guardian(name="Replay Aunt", relation="aunt"), reason="Frail grandmother"
        ),
    )
    (approval_id,) = proposed.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    transfer = await driver.send(
        case_id,
        ProposeTransfer(
            destination_kind=DestinationKind.institution, destination="Institution", reason="Care"
        ),
    )
    (approval_id,) = transfer.state.pending_approvals
    (transfer_id,) = transfer.state.transfers
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    await driver.wait_for(
        case_id,
        lambda s: s.transfers[transfer_id].status is TransferStatus.place_confirmed,
        what="place confirmed",
    )
    await driver.send(case_id, RecordTransfer(transfer_id=transfer_id, transferred_on=today()))
    closing = await driver.send(
        case_id, ProposeClosure(closure_reason=ClosureReason.situation_resolved)
    )
    (approval_id,) = closing.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    reopened = await driver.send(case_id, ReopenCase(reason="The aunt moved away"))
    assert reopened.state.status is CaseStatus.reported
    await driver.assert_replay_matches(case_id)
    return [opened.workflow_id]


SCENARIOS: dict[str, Callable[[CaseDriver], Awaitable[list[str]]]] = {
    "assistance_and_referral": assistance_and_referral,
    "recognition": recognition,
    "guardian_transfer_closure": guardian_transfer_closure,
}
# Recorded once and kept: `guardian_transfer_closure` as its runs ended before the patch
# `settle-before-ending` (workflows/case.py), replayed through the unpatched path; and every
# scenario as recorded before the patch `upsert-search-attributes-changes-only` (an upsert of all
# search attributes after every change), replayed through its unpatched path.
KEPT = (
    "pre_settle_guardian_transfer_closure",
    "pre_changed_attributes_assistance_and_referral",
    "pre_changed_attributes_guardian_transfer_closure",
    "pre_changed_attributes_recognition",
)


# -- recording -----------------------------------------------------------------------------------


async def record(driver: CaseDriver, scenario: str) -> None:
    for old in HISTORIES.glob(f"{scenario}*--*.json"):
        old.unlink()
    for workflow_id in await SCENARIOS[scenario](driver):
        runs = [
            execution.run_id
            async for execution in driver.temporal.list_workflows(f"WorkflowId = '{workflow_id}'")
        ][::-1]
        for number, run_id in enumerate(runs, start=1):
            history = await driver.temporal.get_workflow_handle(
                workflow_id, run_id=run_id
            ).fetch_history()
            suffix = f"-run{number}" if len(runs) > 1 else ""
            kind = "" if workflow_id.startswith("case-") else "-recognition"
            path = HISTORIES / f"{scenario}{kind}{suffix}--{workflow_id}.json"
            path.write_text(history.to_json() + "\n", encoding="utf-8")


@pytest.mark.skipif(not RECORD, reason="set CASEFLOW_RECORD_HISTORIES=1 to re-record")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_record_history(driver: CaseDriver, scenario: str) -> None:
    HISTORIES.mkdir(exist_ok=True)
    await record(driver, scenario)


# -- replaying -----------------------------------------------------------------------------------


def recorded(scenario: str) -> list[Path]:
    return sorted(HISTORIES.glob(f"{scenario}*--*.json"))


def test_every_recorded_history_belongs_to_a_scenario() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no recorded histories: record them (see the module's docstring)"
    assert sorted(f for scenario in [*SCENARIOS, *KEPT] for f in recorded(scenario)) == files


@pytest.mark.parametrize("scenario", sorted([*SCENARIOS, *KEPT]))
async def test_recorded_histories_replay_with_todays_workflows(scenario: str) -> None:
    files = recorded(scenario)
    assert files, f"no recorded history of {scenario}"
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=encrypted_data_converter(TEST_PAYLOAD_KEYS)
    )
    for path in files:
        workflow_id = path.stem.partition("--")[2]
        history = WorkflowHistory.from_json(workflow_id, path.read_text(encoding="utf-8"))
        result = await replayer.replay_workflow(history)
        assert result.replay_failure is None, path.name
