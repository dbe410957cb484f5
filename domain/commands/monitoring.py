"""Monitoring: follow-up visits on the schedule the risk level sets, a missed visit escalated,
and school status re-checked each term."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime

from domain.actors import Actor, system_actor
from domain.child import LongText, Text
from domain.commands.access import ANSWERING, check_assessed, check_may_act, check_not_future
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.events import (
    Breach,
    CaseEvent,
    EscalationRaised,
    SchoolStatus,
    SchoolStatusChecked,
    VisitKind,
    VisitMissed,
    VisitRecorded,
    VisitScheduled,
)
from domain.rules import monitoring, risk
from domain.rules.escalation import EscalationLevel, level_area
from domain.rules.risk import NeedScores
from domain.state import CaseState


class RecordVisit(Command):
    """A follow-up visit (or call) and what was seen; `updated_scores` rescore the needs."""

    command: Literal["record_visit"] = "record_visit"
    visited_at: AwareDatetime
    visit_kind: VisitKind
    observations: LongText
    updated_scores: NeedScores | None = None


def decide_record_visit(
    state: CaseState, command: RecordVisit, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a visit")
    check_not_future(command.visited_at, now=now, what="visit time")
    scores = command.updated_scores
    if scores is not None:
        check_assessed(state, doing="rescore needs on a visit")
    level = risk.risk_level(scores) if scores is not None else state.risk_level
    visited = VisitRecorded(
        **header(actor, now, new_id),
        visit_id=new_id(),
        visited_at=command.visited_at,
        visit_kind=command.visit_kind,
        observations=command.observations,
        updated_scores=scores,
        risk_level=level if scores is not None else None,
        rule=risk.RULE if scores is not None else None,
        rule_version=risk.RULE_VERSION if scores is not None else None,
    )
    latest = max(command.visited_at, state.last_visit_at or command.visited_at)
    due = monitoring.next_visit_due(latest, level)
    if due == state.next_visit_due:
        return [visited]
    return [
        visited,
        VisitScheduled(
            **header(actor, now, new_id, cause=visited.event_id),
            due_at=due,
            risk_level=level,
            rule=monitoring.RULE,
            rule_version=monitoring.RULE_VERSION,
        ),
    ]


def visit_missed(state: CaseState, now: datetime, new_id: NewId) -> list[CaseEvent]:
    """The scheduled visit was not made by its due time: record it, tell the township's
    supervisors, and schedule the next. Nothing when a visit moved the schedule meanwhile."""
    due = state.next_visit_due
    if not state.is_open or due is None or now < due:
        return []
    engine = system_actor(state.village)
    missed = VisitMissed(**header(engine, now, new_id), due_at=due)
    next_due = monitoring.next_visit_due(due, state.risk_level)
    if next_due <= now:
        next_due = monitoring.next_visit_due(now, state.risk_level)
    return [
        missed,
        EscalationRaised(
            **header(engine, now, new_id, cause=missed.event_id),
            breach=Breach.visit_missed,
            deadline=due,
            level=EscalationLevel.township,
            area=level_area(state.village, EscalationLevel.township),
        ),
        VisitScheduled(
            **header(engine, now, new_id, cause=missed.event_id),
            due_at=next_due,
            risk_level=state.risk_level,
            rule=monitoring.RULE,
            rule_version=monitoring.RULE_VERSION,
        ),
    ]


class RecordSchoolStatus(Command):
    """The child's school status as the school system (or a caseworker) checked it this term."""

    command: Literal["record_school_status"] = "record_school_status"
    status: SchoolStatus
    school: Text | None = None
    checked_on: date


def decide_record_school_status(
    state: CaseState, command: RecordSchoolStatus, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record school status", roles=ANSWERING)
    check_not_future(command.checked_on, now=now, what="check date")
    return [
        SchoolStatusChecked(
            **header(actor, now, new_id),
            status=command.status,
            school=command.school,
            checked_on=command.checked_on,
            next_check_on=monitoring.next_school_recheck(command.checked_on),
            rule=monitoring.RULE,
            rule_version=monitoring.RULE_VERSION,
        )
    ]
