"""The Temporal server holds no clear personal data of a case that lived: commands, eligibility
look-ups, a recognition child workflow, a guardianship registration and a place reservation.

Opening alone is covered by tests/integration/test_payload_encryption.py; here the child's name,
identity number and address, and the guardians' names, must appear nowhere in the raw histories
(read by a client without the key) of the case and of its Recognition child workflow, and every
payload in them must be sealed.
"""

from __future__ import annotations

import uuid

from google.protobuf import json_format
from temporalio.api.history.v1 import History

from caseflow.codec import ENCODING, KEY_ID_METADATA
from domain.child import ChildReport, Guardian
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    DecideApproval,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordAssessment,
    RecordCasePlan,
    RequestEligibilityCheck,
)
from domain.events import DestinationKind, EligibilityCheckKind
from domain.rules.risk import NeedScores
from domain.state import CaseState, CheckStatus, ProposalStatus, RecognitionStatus, TransferStatus
from tests.integration.test_payload_encryption import is_core_metadata, payloads_in
from tests.workflows.driver import SUPERVISOR, TEST_PAYLOAD_KEYS, CaseDriver, a_report, raw_history
from workflows.recognition import recognition_workflow_id

ID_NUMBER = "530627201405171244"  # generated: county, birth date, sequence, check digit
SCORES = NeedScores(survival=2, education=1, health=1, guardianship=3, safety=1, psychosocial=1)


def assert_sealed(history: History, secrets: list[str]) -> None:
    everything = history.SerializeToString()
    readable = json_format.MessageToJson(history)
    for secret in secrets:
        assert secret.encode() not in everything, secret
        assert secret not in readable, secret
    payloads = list(payloads_in(history))
    assert payloads
    for path, payload in payloads:
        if is_core_metadata(path, payload):
            continue
        assert payload.metadata["encoding"] == ENCODING.encode(), path
        assert payload.metadata[KEY_ID_METADATA] == TEST_PAYLOAD_KEYS.current_id.encode(), path


def everything_done(state: CaseState) -> bool:
    return (
        all(c.status is not CheckStatus.requested for c in state.eligibility_checks.values())
        and state.recognition is not None
        and state.recognition.status is RecognitionStatus.confirmed
        and all(g.status is ProposalStatus.registered for g in state.guardian_changes.values())
        and all(t.status is TransferStatus.place_confirmed for t in state.transfers.values())
    )


async def test_a_case_with_commands_and_outside_work_leaves_only_ciphertext_in_temporal(
    driver: CaseDriver,
) -> None:
    marker = uuid.uuid4().hex[:12]
    child, grandmother, aunt, address = (
        f"Child{marker}",
        f"Grandmother{marker}",
        f"Aunt{marker}",
        f"Group{marker}",
    )
    report = a_report()
    report = ChildReport.model_validate(
        report.model_dump()
        | {
            "child": {
                **report.child.model_dump(),
                "name": child,
                "id_number": ID_NUMBER,
            },
            "household": {"address": address, "members": 2},
            "guardians": [{"name": grandmother, "relation": "grandmother"}],
        }
    )
    case_id = (await driver.open_case(report)).case_id
    # Not the parents' status: civil affairs' answer would replace the reported parents, and
    # with them (maybe) the child's eligibility for recognition.
    for kind in (
        EligibilityCheckKind.household_registration,
        EligibilityCheckKind.school_enrolment,
    ):
        await driver.send(case_id, RequestEligibilityCheck(check=kind))
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await driver.send(case_id, RecordCasePlan(goals=("Care",)))
    proposed = await driver.send(
        case_id,
        ProposeGuardianChange(new_guardian=Guardian(name=aunt, relation="aunt"), reason="Frail"),
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
            destination_kind=DestinationKind.boarding_school, destination="School", reason="Care"
        ),
    )
    (approval_id,) = transfer.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    applied = (await driver.send(case_id, ApplyForRecognition())).state.recognition
    assert applied is not None
    await driver.wait_for(case_id, everything_done, what="the outside work done")

    secrets = [child, ID_NUMBER, address, grandmother, aunt]
    assert_sealed(await raw_history(driver.temporal, f"case-{case_id}"), secrets)
    recognition = recognition_workflow_id(case_id, applied.application_id)
    assert_sealed(await raw_history(driver.temporal, recognition), secrets)
