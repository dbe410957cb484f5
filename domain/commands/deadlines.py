"""The deadlines a case is waiting on, for the workflow's durable timers.

`deadlines` lists what the engine must wake up for, soonest first; `on_deadline` decides what
happens when one passes (the engine-driven functions, which record nothing when the deadline was
met meanwhile). After recording the events, ask `deadlines` again: the list follows the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.commands.approvals import escalate_approval
from domain.commands.assessment import assessment_overdue
from domain.commands.closure import age_out
from domain.commands.monitoring import visit_missed
from domain.commands.recording import PROGRAM_TIMEZONE, NewId
from domain.commands.referrals import referral_unanswered
from domain.events import CaseEvent
from domain.rules import age
from domain.state import ApprovalStatus, CaseState, ReferralStatus


class DeadlineKind(StrEnum):
    assessment = "assessment"
    approval = "approval"
    referral = "referral"
    visit = "visit"
    age_out = "age_out"


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: DeadlineKind
    at: datetime
    subject_id: UUID | None = None


def deadlines(state: CaseState) -> list[Deadline]:
    """Every deadline still ahead of the case (none for a closed case), soonest first."""
    if not state.is_open:
        return []
    ahead = [
        Deadline(
            DeadlineKind.age_out,
            age.age_out_at(state.report.child.date_of_birth, PROGRAM_TIMEZONE),
        )
    ]
    due = state.assessment_due_at
    if due is not None and state.need_scores is None and not state.assessment_overdue:
        ahead.append(Deadline(DeadlineKind.assessment, due))
    for approval in state.approvals.values():
        if approval.status is ApprovalStatus.pending and not approval.timed_out:
            ahead.append(Deadline(DeadlineKind.approval, approval.due_at, approval.approval_id))
    for referral in state.referrals.values():
        if referral.status is not ReferralStatus.requested or referral.escalated:
            continue
        at = referral.answer_due_at if referral.reminded else referral.remind_at
        ahead.append(Deadline(DeadlineKind.referral, at, referral.referral_id))
    if state.next_visit_due is not None:
        ahead.append(Deadline(DeadlineKind.visit, state.next_visit_due))
    return sorted(ahead, key=lambda deadline: deadline.at)


def on_deadline(
    state: CaseState, deadline: Deadline, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    """What passing `deadline` leads to at `now`."""
    match deadline.kind:
        case DeadlineKind.assessment:
            return assessment_overdue(state, now, new_id)
        case DeadlineKind.approval:
            assert deadline.subject_id is not None
            return escalate_approval(state, deadline.subject_id, now, new_id)
        case DeadlineKind.referral:
            assert deadline.subject_id is not None
            return referral_unanswered(state, deadline.subject_id, now, new_id)
        case DeadlineKind.visit:
            return visit_missed(state, now, new_id)
        case DeadlineKind.age_out:
            return age_out(state, now, new_id)
