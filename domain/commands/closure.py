"""Closure and reopening.

A closure for any reason but turning 18 is proposed and waits for a supervisor; a case closes on
its own at the start of the child's 18th birthday (program time). A closed case is reopened by a
new intake referral, and screened again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from domain.actors import Actor, system_actor
from domain.areas import AreaCode
from domain.child import Concern, IntakeSource, LongText, Text, age_on
from domain.commands.access import check_may_act
from domain.commands.approvals import approval_requested
from domain.commands.base import Command
from domain.commands.closing import closing_events
from domain.commands.intake import screened
from domain.commands.recording import PROGRAM_TIMEZONE, NewId, header, today
from domain.errors import CommandRefused
from domain.events import CaseEvent, CaseReopened, ClosureProposed, ClosureReason
from domain.rules import age, approvals
from domain.rules.approvals import ApprovalKind, needs_approval
from domain.state import CaseState, CaseStatus, apply


class ProposeClosure(Command):
    """Propose closing the case. A child who moved out of area is handed over to `handover_to`."""

    command: Literal["propose_closure"] = "propose_closure"
    closure_reason: ClosureReason
    note: LongText = ""
    handover_to: AreaCode | None = None

    @model_validator(mode="after")
    def _handover_only_on_moving(self) -> ProposeClosure:
        if self.handover_to is not None and self.closure_reason is not (
            ClosureReason.moved_out_of_area
        ):
            raise ValueError("a case is handed over only when the child moved out of area")
        return self


def decide_propose_closure(
    state: CaseState, command: ProposeClosure, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="propose closing the case")
    if state.status is CaseStatus.pending_closure:
        raise CommandRefused(
            "closure_pending",
            f"a closure of case {state.case_id} already waits for a supervisor's decision",
        )
    reason = command.closure_reason
    adult = age_on(state.report.child.date_of_birth, today(now)) >= age.ADULT_AGE
    if reason is ClosureReason.turned_18 and not adult:
        raise CommandRefused(
            "not_of_age",
            f"the child has not turned {age.ADULT_AGE}; the case closes on its own on the "
            "birthday, or propose another reason",
        )
    proposed = ClosureProposed(
        **header(actor, now, new_id),
        closure_id=new_id(),
        closure_reason=reason,
        handover_to=command.handover_to,
        note=command.note,
    )
    if not needs_approval(ApprovalKind.closure, closure_reason=reason):
        return [
            proposed,
            *closing_events(
                apply(state, proposed),
                closure_reason=reason,
                closure_id=proposed.closure_id,
                actor=actor,
                now=now,
                new_id=new_id,
                cause=proposed.event_id,
                rule=approvals.RULE,
                rule_version=approvals.RULE_VERSION,
            ),
        ]
    return [
        proposed,
        approval_requested(
            state,
            kind=ApprovalKind.closure,
            subject_id=proposed.closure_id,
            emergency=False,
            rule=approvals.RULE,
            rule_version=approvals.RULE_VERSION,
            actor=actor,
            now=now,
            new_id=new_id,
            cause=proposed.event_id,
        ),
    ]


def age_out(state: CaseState, now: datetime, new_id: NewId) -> list[CaseEvent]:
    """The child turned 18: the case closes, no approval needed. Nothing before the birthday."""
    if not state.is_open:
        return []
    if now < age.age_out_at(state.report.child.date_of_birth, PROGRAM_TIMEZONE):
        return []
    return closing_events(
        state,
        closure_reason=ClosureReason.turned_18,
        closure_id=None,
        actor=system_actor(state.village),
        now=now,
        new_id=new_id,
        cause=None,
        rule=age.RULE,
        rule_version=age.RULE_VERSION,
    )


class ReopenCase(Command):
    """A new intake referral for the child of a closed case."""

    command: Literal["reopen_case"] = "reopen_case"
    source: IntakeSource = IntakeSource.caseworker
    concerns: frozenset[Concern] = Field(default_factory=frozenset)
    observations: LongText = ""
    reason: Text


def decide_reopen_case(
    state: CaseState, command: ReopenCase, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="reopen the case")
    if state.status is not CaseStatus.closed:
        raise CommandRefused("case_open", f"case {state.case_id} is open; work on it as it is")
    if age_on(state.report.child.date_of_birth, today(now)) >= age.ADULT_AGE:
        raise CommandRefused(
            "not_a_child",
            f"the child has turned {age.ADULT_AGE}; the program serves children under "
            f"{age.ADULT_AGE}",
        )
    reopened = CaseReopened(
        **header(actor, now, new_id, reason=command.reason),
        source=command.source,
        concerns=command.concerns,
        observations=command.observations,
    )
    report = state.report.model_copy(
        update={"concerns": command.concerns, "source": command.source}
    )
    return [reopened, screened(report, cause=reopened.event_id, now=now, new_id=new_id)]
