"""Guardian change: a caseworker proposes a new caregiver, a supervisor approves, and civil
affairs registers the guardianship."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from domain.actors import Actor
from domain.child import Guardian, Text
from domain.commands.access import ANSWERING, check_may_act, check_not_future, not_found
from domain.commands.approvals import approval_requested
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import CaseEvent, GuardianChangeProposed, GuardianChangeRegistered
from domain.rules import approvals
from domain.rules.approvals import ApprovalKind
from domain.state import CaseState, ProposalStatus

IN_PROGRESS = frozenset({ProposalStatus.proposed, ProposalStatus.approved})


class ProposeGuardianChange(Command):
    command: Literal["propose_guardian_change"] = "propose_guardian_change"
    new_guardian: Guardian
    reason: Text


def decide_propose_guardian_change(
    state: CaseState,
    command: ProposeGuardianChange,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="propose a guardian change")
    for change in state.guardian_changes.values():
        if change.status in IN_PROGRESS:
            raise CommandRefused(
                "in_progress",
                f"guardian change {change.change_id} is already {change.status}; "
                "finish it before proposing another",
            )
    proposed = GuardianChangeProposed(
        **header(actor, now, new_id, reason=command.reason),
        change_id=new_id(),
        new_guardian=command.new_guardian,
    )
    return [
        proposed,
        approval_requested(
            state,
            kind=ApprovalKind.guardian_change,
            subject_id=proposed.change_id,
            emergency=False,
            rule=approvals.RULE,
            rule_version=approvals.RULE_VERSION,
            actor=actor,
            now=now,
            new_id=new_id,
            cause=proposed.event_id,
        ),
    ]


class RegisterGuardianChange(Command):
    """Civil affairs registered the approved guardian."""

    command: Literal["register_guardian_change"] = "register_guardian_change"
    change_id: UUID
    registered_on: date
    registration_reference: Text | None = None


def decide_register_guardian_change(
    state: CaseState,
    command: RegisterGuardianChange,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="register a guardian change", roles=ANSWERING)
    change = state.guardian_changes.get(command.change_id)
    if change is None:
        raise not_found("guardian change", command.change_id)
    if change.status is not ProposalStatus.approved:
        raise CommandRefused(
            "not_approved",
            f"guardian change {change.change_id} is {change.status}; "
            "only an approved change is registered",
        )
    check_not_future(command.registered_on, now=now, what="registration date")
    return [
        GuardianChangeRegistered(
            **header(actor, now, new_id),
            change_id=change.change_id,
            registered_on=command.registered_on,
            registration_reference=command.registration_reference,
        )
    ]
