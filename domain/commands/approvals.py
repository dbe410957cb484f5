"""Approvals: a proposal asks for one, a supervisor decides it, and an undecided one moves up.

A request goes to the supervisors of the case's township with the time the SLA gives them
(48 hours, 4 for an emergency); the requester never decides their own request. A granted
approval is followed by its consequence in the same decision: the assistance becomes deliverable,
or the case closes. An emergency placement is approved after the fact: a rejection is recorded,
and what was already delivered stays delivered. With no decision in time the approval escalates
to the county, then the prefecture; past the prefecture's time the timeout is recorded and it
stays there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from domain.actors import Actor, system_actor
from domain.child import LongText
from domain.commands.access import SUPERVISORS, check_may_act, not_found
from domain.commands.base import Command
from domain.commands.closing import closing_events
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import (
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalTimedOut,
    AssistanceApproved,
    AssistanceRejected,
    Breach,
    CaseEvent,
    EscalationRaised,
)
from domain.rules import escalation
from domain.rules.approvals import ApprovalKind, check_may_decide
from domain.rules.escalation import EscalationLevel, approval_sla, level_area, next_level
from domain.state import ApprovalStatus, CaseState, apply


def approval_requested(
    state: CaseState,
    *,
    kind: ApprovalKind,
    subject_id: UUID,
    emergency: bool,
    rule: str,
    rule_version: str,
    actor: Actor,
    now: datetime,
    new_id: NewId,
    cause: UUID,
) -> ApprovalRequested:
    """The proposal `subject_id` goes to the supervisors of the case's township."""
    return ApprovalRequested(
        **header(actor, now, new_id, cause=cause),
        approval_id=new_id(),
        kind=kind,
        subject_id=subject_id,
        requested_by=actor.user_id,
        level=EscalationLevel.township,
        area=level_area(state.village, EscalationLevel.township),
        due_at=now + approval_sla(emergency=emergency),
        emergency=emergency,
        rule=rule,
        rule_version=rule_version,
    )


class ApprovalDecision(StrEnum):
    approve = "approve"
    reject = "reject"


class DecideApproval(Command):
    """A supervisor approves or rejects a pending approval (a rejection says why)."""

    command: Literal["decide_approval"] = "decide_approval"
    approval_id: UUID
    decision: ApprovalDecision
    comment: LongText = ""


def decide_approval(
    state: CaseState, command: DecideApproval, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="decide an approval", roles=SUPERVISORS)
    approval = state.approvals.get(command.approval_id)
    if approval is None:
        raise not_found("approval", command.approval_id)
    if approval.status is not ApprovalStatus.pending:
        raise CommandRefused(
            "not_pending", f"approval {approval.approval_id} was already {approval.status}"
        )
    check_may_decide(
        actor, requested_by=approval.requested_by, case_village=state.village, level=approval.level
    )
    if command.decision is ApprovalDecision.reject:
        if not command.comment:
            raise CommandRefused(
                "comment_required", "a rejection needs a comment saying why and what to do instead"
            )
        rejected = ApprovalRejected(
            **header(actor, now, new_id),
            approval_id=approval.approval_id,
            level=approval.level,
            comment=command.comment,
        )
        if approval.kind is ApprovalKind.assistance:
            return [
                rejected,
                AssistanceRejected(
                    **header(actor, now, new_id, cause=rejected.event_id),
                    request_id=approval.subject_id,
                    approval_id=approval.approval_id,
                ),
            ]
        return [rejected]
    granted = ApprovalGranted(
        **header(actor, now, new_id),
        approval_id=approval.approval_id,
        level=approval.level,
        comment=command.comment,
    )
    if approval.kind is ApprovalKind.assistance:
        return [
            granted,
            AssistanceApproved(
                **header(actor, now, new_id, cause=granted.event_id),
                request_id=approval.subject_id,
                approval_id=approval.approval_id,
            ),
        ]
    if approval.kind is ApprovalKind.closure:
        closure = state.closure
        assert closure is not None  # the fold ties a closure approval to the pending closure
        return [
            granted,
            *closing_events(
                apply(state, granted),
                closure_reason=closure.closure_reason,
                closure_id=closure.closure_id,
                actor=actor,
                now=now,
                new_id=new_id,
                cause=granted.event_id,
            ),
        ]
    return [granted]


def escalate_approval(
    state: CaseState, approval_id: UUID, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    """The approval's deadline passed undecided: escalate it to the next level, or record that the
    last level's time ran out. Nothing when it was decided meanwhile or is not due yet."""
    approval = state.approvals.get(approval_id)
    if (
        not state.is_open
        or approval is None
        or approval.status is not ApprovalStatus.pending
        or approval.timed_out
        or now < approval.due_at
    ):
        return []
    engine = system_actor(state.village)
    up = next_level(approval.level)
    told = up or approval.level
    raised = EscalationRaised(
        **header(engine, now, new_id),
        breach=Breach.approval_undecided,
        subject_id=approval_id,
        deadline=approval.due_at,
        level=told,
        area=level_area(state.village, told),
    )
    if up is None:
        return [
            raised,
            ApprovalTimedOut(
                **header(engine, now, new_id, cause=raised.event_id),
                approval_id=approval_id,
                level=approval.level,
                due_at=approval.due_at,
            ),
        ]
    return [
        raised,
        ApprovalEscalated(
            **header(engine, now, new_id, cause=raised.event_id),
            approval_id=approval_id,
            from_level=approval.level,
            to_level=up,
            area=level_area(state.village, up),
            due_at=now + approval_sla(emergency=approval.emergency),
            rule=escalation.RULE,
            rule_version=escalation.RULE_VERSION,
        ),
    ]
