"""One entry point for every command on an open case: `decide` maps a command to its decision.

The workflow has one generic update that takes any `CaseCommand`; its validator calls
`check_command` (the same decision, with throw-away ids) so a refused command writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, assert_never
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.actors import Actor
from domain.commands.access import check_open, check_writes
from domain.commands.approvals import DecideApproval, decide_approval
from domain.commands.assessment import (
    RecordAssessment,
    RecordEligibilityAnswer,
    RequestEligibilityCheck,
    decide_record_assessment,
    decide_record_eligibility_answer,
    decide_request_eligibility_check,
)
from domain.commands.assistance import (
    RecordCasePlan,
    RecordDelivery,
    RequestAssistance,
    decide_record_case_plan,
    decide_record_delivery,
    decide_request_assistance,
)
from domain.commands.closure import (
    ProposeClosure,
    ReopenCase,
    decide_propose_closure,
    decide_reopen_case,
)
from domain.commands.corrections import CorrectFact, decide_correct_fact
from domain.commands.guardianship import (
    ProposeGuardianChange,
    RegisterGuardianChange,
    decide_propose_guardian_change,
    decide_register_guardian_change,
)
from domain.commands.intake import AssignCaseworker, decide_assign_caseworker
from domain.commands.monitoring import (
    RecordSchoolStatus,
    RecordVisit,
    decide_record_school_status,
    decide_record_visit,
)
from domain.commands.recognition import (
    ApplyForRecognition,
    RecordRecognitionDecision,
    decide_apply_for_recognition,
    decide_record_recognition_decision,
)
from domain.commands.recording import NewId
from domain.commands.referrals import (
    MakeReferral,
    RecordReferralAnswer,
    WithdrawReferral,
    decide_make_referral,
    decide_record_referral_answer,
    decide_withdraw_referral,
)
from domain.commands.transfer import (
    ConfirmTransferPlace,
    ProposeTransfer,
    RecordTransfer,
    RefuseTransferPlace,
    decide_confirm_transfer_place,
    decide_propose_transfer,
    decide_record_transfer,
    decide_refuse_transfer_place,
)
from domain.events import CaseEvent
from domain.state import CaseState

CaseCommand = Annotated[
    AssignCaseworker
    | RecordAssessment
    | RequestEligibilityCheck
    | RecordEligibilityAnswer
    | ApplyForRecognition
    | RecordRecognitionDecision
    | RecordCasePlan
    | RequestAssistance
    | RecordDelivery
    | MakeReferral
    | RecordReferralAnswer
    | WithdrawReferral
    | DecideApproval
    | ProposeGuardianChange
    | RegisterGuardianChange
    | ProposeTransfer
    | ConfirmTransferPlace
    | RefuseTransferPlace
    | RecordTransfer
    | RecordVisit
    | RecordSchoolStatus
    | ProposeClosure
    | ReopenCase
    | CorrectFact,
    Field(discriminator="command"),
]

COMMAND_ADAPTER: TypeAdapter[CaseCommand] = TypeAdapter(CaseCommand)


def decide(
    state: CaseState, command: CaseCommand, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    """The events `command` leads to, or `CommandRefused` (and no events).

    Auditors and admins write nothing; a closed case takes no command but `ReopenCase`.
    """
    check_writes(actor)
    if not isinstance(command, ReopenCase):
        check_open(state, doing=command.command.replace("_", " "))
    match command:
        case AssignCaseworker():
            return decide_assign_caseworker(state, command, actor=actor, now=now, new_id=new_id)
        case RecordAssessment():
            return decide_record_assessment(state, command, actor=actor, now=now, new_id=new_id)
        case RequestEligibilityCheck():
            return decide_request_eligibility_check(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case RecordEligibilityAnswer():
            return decide_record_eligibility_answer(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case ApplyForRecognition():
            return decide_apply_for_recognition(state, command, actor=actor, now=now, new_id=new_id)
        case RecordRecognitionDecision():
            return decide_record_recognition_decision(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case RecordCasePlan():
            return decide_record_case_plan(state, command, actor=actor, now=now, new_id=new_id)
        case RequestAssistance():
            return decide_request_assistance(state, command, actor=actor, now=now, new_id=new_id)
        case RecordDelivery():
            return decide_record_delivery(state, command, actor=actor, now=now, new_id=new_id)
        case MakeReferral():
            return decide_make_referral(state, command, actor=actor, now=now, new_id=new_id)
        case RecordReferralAnswer():
            return decide_record_referral_answer(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case WithdrawReferral():
            return decide_withdraw_referral(state, command, actor=actor, now=now, new_id=new_id)
        case DecideApproval():
            return decide_approval(state, command, actor=actor, now=now, new_id=new_id)
        case ProposeGuardianChange():
            return decide_propose_guardian_change(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case RegisterGuardianChange():
            return decide_register_guardian_change(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case ProposeTransfer():
            return decide_propose_transfer(state, command, actor=actor, now=now, new_id=new_id)
        case ConfirmTransferPlace():
            return decide_confirm_transfer_place(
                state, command, actor=actor, now=now, new_id=new_id
            )
        case RefuseTransferPlace():
            return decide_refuse_transfer_place(state, command, actor=actor, now=now, new_id=new_id)
        case RecordTransfer():
            return decide_record_transfer(state, command, actor=actor, now=now, new_id=new_id)
        case RecordVisit():
            return decide_record_visit(state, command, actor=actor, now=now, new_id=new_id)
        case RecordSchoolStatus():
            return decide_record_school_status(state, command, actor=actor, now=now, new_id=new_id)
        case ProposeClosure():
            return decide_propose_closure(state, command, actor=actor, now=now, new_id=new_id)
        case ReopenCase():
            return decide_reopen_case(state, command, actor=actor, now=now, new_id=new_id)
        case CorrectFact():
            return decide_correct_fact(state, command, actor=actor, now=now, new_id=new_id)
        case _:
            assert_never(command)


_THROWAWAY_ID = UUID(int=0)


def check_command(state: CaseState, command: CaseCommand, *, actor: Actor, now: datetime) -> None:
    """Raise `CommandRefused` when `command` would be refused; for update validators."""
    decide(state, command, actor=actor, now=now, new_id=lambda: _THROWAWAY_ID)
