"""Case plan and assistance: goals and planned help, help requested (with approval above the
threshold, or approval after the fact for an emergency placement), and help delivered.

A delivery never exceeds what was requested, in quantity or in value, so approval of a request
covers everything delivered under it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.actors import Actor
from domain.child import LongText, Text
from domain.commands.access import check_assessed, check_may_act, check_not_future, not_found
from domain.commands.approvals import approval_requested
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import (
    AssistanceDelivered,
    AssistanceRequested,
    CaseEvent,
    CasePlanRecorded,
    PlannedAssistance,
    VisitScheduled,
)
from domain.events.assistance import MAX_QUANTITY, MAX_VALUE_YUAN
from domain.rules import approvals, assistance, monitoring
from domain.rules.approvals import ApprovalKind
from domain.rules.assistance import AssistanceKind, assistance_needs_approval
from domain.state import AssistanceStatus, CaseState

# Help that places the child with someone: the kinds an emergency placement can be.
PLACEMENT_KINDS = frozenset({AssistanceKind.temporary_shelter, AssistanceKind.daily_care})


class RecordCasePlan(Command):
    """Record (or revise) the case plan. The first plan starts the monitoring visits."""

    command: Literal["record_case_plan"] = "record_case_plan"
    goals: tuple[Text, ...] = Field(min_length=1, max_length=20)
    planned_assistance: tuple[PlannedAssistance, ...] = Field(default=(), max_length=50)
    review_by: date | None = None


def decide_record_case_plan(
    state: CaseState, command: RecordCasePlan, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a case plan")
    check_assessed(state, doing="record a case plan")
    planned = CasePlanRecorded(
        **header(actor, now, new_id),
        goals=command.goals,
        planned_assistance=command.planned_assistance,
        review_by=command.review_by,
    )
    if state.next_visit_due is not None:
        return [planned]
    return [
        planned,
        VisitScheduled(
            **header(actor, now, new_id, cause=planned.event_id),
            due_at=monitoring.next_visit_due(now, state.risk_level),
            risk_level=state.risk_level,
            rule=monitoring.RULE,
            rule_version=monitoring.RULE_VERSION,
        ),
    ]


class RequestAssistance(Command):
    """Ask for help for the child. An `emergency` placement (temporary shelter, daily care) can
    be delivered at once; a supervisor approves it afterwards."""

    command: Literal["request_assistance"] = "request_assistance"
    kind: AssistanceKind
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit: Text
    value_yuan: int = Field(ge=0, le=MAX_VALUE_YUAN)
    purpose: LongText = ""
    emergency: bool = False


def decide_request_assistance(
    state: CaseState, command: RequestAssistance, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="request assistance")
    if command.emergency:
        if command.kind not in PLACEMENT_KINDS:
            raise CommandRefused(
                "not_a_placement",
                f"only {' or '.join(sorted(PLACEMENT_KINDS))} can be an emergency placement; "
                "request other help without the emergency flag",
            )
    else:
        check_assessed(state, doing="request assistance other than an emergency placement")
    needs = not command.emergency and assistance_needs_approval(command.kind, command.value_yuan)
    requested = AssistanceRequested(
        **header(actor, now, new_id),
        request_id=new_id(),
        kind=command.kind,
        quantity=command.quantity,
        unit=command.unit,
        value_yuan=command.value_yuan,
        purpose=command.purpose,
        needs_approval=needs,
        emergency=command.emergency,
        rule=approvals.RULE if command.emergency else assistance.RULE,
        rule_version=approvals.RULE_VERSION if command.emergency else assistance.RULE_VERSION,
    )
    if not (needs or command.emergency):
        return [requested]
    return [
        requested,
        approval_requested(
            state,
            kind=ApprovalKind.emergency_placement if command.emergency else ApprovalKind.assistance,
            subject_id=requested.request_id,
            emergency=command.emergency,
            rule=requested.rule,
            rule_version=requested.rule_version,
            actor=actor,
            now=now,
            new_id=new_id,
            cause=requested.event_id,
        ),
    ]


class RecordDelivery(Command):
    """Help reached the child. `value_yuan` defaults to the request's value pro rata (the rest of
    it on the delivery that completes the request)."""

    command: Literal["record_delivery"] = "record_delivery"
    request_id: UUID
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    value_yuan: int | None = Field(default=None, ge=0, le=MAX_VALUE_YUAN)
    delivered_on: date


def decide_record_delivery(
    state: CaseState, command: RecordDelivery, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a delivery")
    request = state.assistance.get(command.request_id)
    if request is None:
        raise not_found("assistance request", command.request_id)
    if request.status is AssistanceStatus.awaiting_approval:
        raise CommandRefused(
            "awaiting_approval",
            f"request {request.request_id} waits for a supervisor's approval; "
            "deliver once it is approved",
        )
    if request.status is not AssistanceStatus.to_deliver:
        raise CommandRefused("not_deliverable", f"request {request.request_id} is {request.status}")
    if command.quantity > request.remaining_quantity:
        raise CommandRefused(
            "over_delivery",
            f"request {request.request_id} has {request.remaining_quantity} {request.unit} "
            "left to deliver; request more assistance for the rest",
        )
    check_not_future(command.delivered_on, now=now, what="delivery date")
    if command.value_yuan is not None:
        value = command.value_yuan
    elif command.quantity == request.remaining_quantity:
        value = request.remaining_value_yuan
    else:
        value = request.value_yuan * command.quantity // request.quantity
    if value > request.remaining_value_yuan:
        raise CommandRefused(
            "over_value",
            f"request {request.request_id} has {request.remaining_value_yuan} yuan left; "
            "request more assistance for the rest",
        )
    return [
        AssistanceDelivered(
            **header(actor, now, new_id),
            delivery_id=new_id(),
            request_id=request.request_id,
            kind=request.kind,
            quantity=command.quantity,
            unit=request.unit,
            value_yuan=value,
            delivered_on=command.delivered_on,
        )
    ]
