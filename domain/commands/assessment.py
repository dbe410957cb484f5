"""Assessment: needs scored and the risk level set; eligibility facts asked of outside systems;
and the assessment deadline escalated when it passes with no assessment."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import model_validator

from domain.actors import Actor, system_actor
from domain.child import Category, LongText
from domain.commands.access import ANSWERING, check_may_act, not_found
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import (
    AssessmentOverdue,
    AssessmentRecorded,
    Breach,
    CaseEvent,
    CheckFailure,
    EligibilityCheckAnswered,
    EligibilityCheckKind,
    EligibilityCheckRequested,
    EligibilityFacts,
    EscalationRaised,
    VisitScheduled,
)
from domain.rules import monitoring, risk
from domain.rules.escalation import EscalationLevel, level_area
from domain.rules.risk import NeedScores
from domain.state import CaseState, CheckStatus


class RecordAssessment(Command):
    """Score the child's needs; the risk level follows by rule. `categories` are the categories
    the assessment found (the current ones when not given)."""

    command: Literal["record_assessment"] = "record_assessment"
    scores: NeedScores
    categories: frozenset[Category] | None = None
    summary: LongText = ""


def decide_record_assessment(
    state: CaseState, command: RecordAssessment, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record an assessment")
    level = risk.risk_level(command.scores)
    assessed = AssessmentRecorded(
        **header(actor, now, new_id),
        scores=command.scores,
        risk_level=level,
        categories=state.categories if command.categories is None else command.categories,
        summary=command.summary,
        rule=risk.RULE,
        rule_version=risk.RULE_VERSION,
    )
    events: list[CaseEvent] = [assessed]
    # A new risk level may call for visits sooner (never later than already scheduled).
    if state.next_visit_due is not None:
        due = min(state.next_visit_due, monitoring.next_visit_due(now, level))
        if due != state.next_visit_due:
            events.append(
                VisitScheduled(
                    **header(actor, now, new_id, cause=assessed.event_id),
                    due_at=due,
                    risk_level=level,
                    rule=monitoring.RULE,
                    rule_version=monitoring.RULE_VERSION,
                )
            )
    return events


class RequestEligibilityCheck(Command):
    """Ask civil affairs (household registration, parents' status) or the school system
    (enrolment) for the facts that decide eligibility."""

    command: Literal["request_eligibility_check"] = "request_eligibility_check"
    check: EligibilityCheckKind


def decide_request_eligibility_check(
    state: CaseState,
    command: RequestEligibilityCheck,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="request an eligibility check")
    for check in state.eligibility_checks.values():
        if check.check is command.check and check.status is CheckStatus.requested:
            raise CommandRefused(
                "in_progress",
                f"a {command.check} check ({check.check_id}) is still waiting for its answer",
            )
    return [
        EligibilityCheckRequested(
            **header(actor, now, new_id), check_id=new_id(), check=command.check
        )
    ]


class RecordEligibilityAnswer(Command):
    """An outside system's answer to a check: its facts, or why it has none."""

    command: Literal["record_eligibility_answer"] = "record_eligibility_answer"
    check_id: UUID
    facts: EligibilityFacts | None = None
    failure: CheckFailure | None = None

    @model_validator(mode="after")
    def _facts_or_failure(self) -> RecordEligibilityAnswer:
        if (self.facts is None) == (self.failure is None):
            raise ValueError("give either the facts or the failure")
        return self


def decide_record_eligibility_answer(
    state: CaseState,
    command: RecordEligibilityAnswer,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record an eligibility answer", roles=ANSWERING)
    check = state.eligibility_checks.get(command.check_id)
    if check is None:
        raise not_found("eligibility check", command.check_id)
    if check.status is not CheckStatus.requested:
        raise CommandRefused("already_answered", f"check {check.check_id} was already answered")
    if command.facts is not None and command.facts.kind != check.check:
        raise CommandRefused(
            "wrong_facts",
            f"check {check.check_id} asked about {check.check}, not {command.facts.kind}",
        )
    return [
        EligibilityCheckAnswered(
            **header(actor, now, new_id),
            check_id=check.check_id,
            check=check.check,
            facts=command.facts,
            failure=command.failure,
        )
    ]


def assessment_overdue(state: CaseState, now: datetime, new_id: NewId) -> list[CaseEvent]:
    """The assessment deadline passed with no assessment: record it and tell the township's
    supervisors. Nothing when the child was assessed meanwhile or it is not due yet."""
    due = state.assessment_due_at
    if (
        not state.is_open
        or state.need_scores is not None
        or state.assessment_overdue
        or due is None
        or now < due
    ):
        return []
    engine = system_actor(state.village)
    overdue = AssessmentOverdue(**header(engine, now, new_id), due_at=due)
    return [
        overdue,
        EscalationRaised(
            **header(engine, now, new_id, cause=overdue.event_id),
            breach=Breach.assessment_overdue,
            deadline=due,
            level=EscalationLevel.township,
            area=level_area(state.village, EscalationLevel.township),
        ),
    ]
