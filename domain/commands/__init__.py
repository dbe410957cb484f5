"""Commands and the decisions they lead to: pure functions from state and command to events.

Each command is one frozen pydantic model named in the imperative; `decide_<command>` checks it
against the case, the actor's role and area, and the rules, and either returns the new events or
raises `CommandRefused` (no events). `decide` dispatches any `CaseCommand`. The engine-driven
functions (`assessment_overdue`, `escalate_approval`, `visit_missed`, `referral_unanswered`,
`age_out`) are what the workflow calls when a timer fires; they return no events when there is
nothing (any more) to do. `deadlines(state)` lists the timers a case needs and `on_deadline`
calls the right one. Event ids and the current time come from the caller (in a workflow:
`workflow.uuid4()` and `workflow.now()`), so decisions stay deterministic.

One module per life stage: intake, assessment (with eligibility checks), recognition, assistance
(with the case plan), referrals, approvals, guardianship, transfer, monitoring, closure (with
reopening), corrections.
"""

from __future__ import annotations

from domain.commands.approvals import ApprovalDecision, DecideApproval, escalate_approval
from domain.commands.assessment import (
    RecordAssessment,
    RecordEligibilityAnswer,
    RequestEligibilityCheck,
    assessment_overdue,
)
from domain.commands.assistance import RecordCasePlan, RecordDelivery, RequestAssistance
from domain.commands.base import Command
from domain.commands.closure import ProposeClosure, ReopenCase, age_out
from domain.commands.corrections import CorrectFact
from domain.commands.deadlines import Deadline, DeadlineKind, deadlines, on_deadline
from domain.commands.dispatch import COMMAND_ADAPTER, CaseCommand, check_command, decide
from domain.commands.guardianship import ProposeGuardianChange, RegisterGuardianChange
from domain.commands.intake import AssignCaseworker, check_may_report, open_case
from domain.commands.monitoring import RecordSchoolStatus, RecordVisit, visit_missed
from domain.commands.recognition import (
    ApplyForRecognition,
    RecognitionDecision,
    RecordRecognitionDecision,
)
from domain.commands.recording import PROGRAM_TIMEZONE, NewId
from domain.commands.referrals import (
    MakeReferral,
    RecordReferralAnswer,
    ReferralAnswer,
    WithdrawReferral,
    referral_unanswered,
)
from domain.commands.transfer import (
    ConfirmTransferPlace,
    ProposeTransfer,
    RecordTransfer,
    RefuseTransferPlace,
)

__all__ = [
    "COMMAND_ADAPTER",
    "PROGRAM_TIMEZONE",
    "ApplyForRecognition",
    "ApprovalDecision",
    "AssignCaseworker",
    "CaseCommand",
    "Command",
    "ConfirmTransferPlace",
    "CorrectFact",
    "Deadline",
    "DeadlineKind",
    "DecideApproval",
    "MakeReferral",
    "NewId",
    "ProposeClosure",
    "ProposeGuardianChange",
    "ProposeTransfer",
    "RecognitionDecision",
    "RecordAssessment",
    "RecordCasePlan",
    "RecordDelivery",
    "RecordEligibilityAnswer",
    "RecordRecognitionDecision",
    "RecordReferralAnswer",
    "RecordSchoolStatus",
    "RecordTransfer",
    "RecordVisit",
    "ReferralAnswer",
    "RefuseTransferPlace",
    "RegisterGuardianChange",
    "ReopenCase",
    "RequestAssistance",
    "RequestEligibilityCheck",
    "WithdrawReferral",
    "age_out",
    "assessment_overdue",
    "check_command",
    "check_may_report",
    "deadlines",
    "decide",
    "escalate_approval",
    "on_deadline",
    "open_case",
    "referral_unanswered",
    "visit_missed",
]
