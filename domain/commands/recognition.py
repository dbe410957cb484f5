"""Recognition: apply to civil affairs for de facto orphan recognition, and record its decisions.

The application is made only when the eligibility rule finds the child qualifies on today's facts
(the parents' situations as reported, or as civil affairs last answered). Township verification
is due in 10 working days, county confirmation 5 working days after that; a denial carries
written reasons. Confirmation starts the monthly allowance the following month.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.actors import Actor
from domain.child import Text
from domain.commands.access import ANSWERING, check_may_act, not_found
from domain.commands.base import Command
from domain.commands.recording import NewId, header, local, today
from domain.errors import CommandRefused
from domain.events import (
    AllowanceStarted,
    CaseEvent,
    RecognitionApplied,
    RecognitionConfirmed,
    RecognitionDenied,
    RecognitionVerified,
)
from domain.rules import referrals
from domain.rules.calendar import DEFAULT_CALENDAR, deadline_at
from domain.rules.eligibility import de_facto_orphan_eligibility
from domain.rules.escalation import EscalationLevel
from domain.state import CaseState, RecognitionStatus


class ApplyForRecognition(Command):
    command: Literal["apply_for_recognition"] = "apply_for_recognition"


def decide_apply_for_recognition(
    state: CaseState, command: ApplyForRecognition, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="apply for recognition")
    recognition = state.recognition
    if recognition is not None and recognition.status is not RecognitionStatus.denied:
        raise CommandRefused(
            "in_progress",
            f"recognition application {recognition.application_id} is already {recognition.status}",
        )
    eligibility = de_facto_orphan_eligibility(
        state.parents, child_date_of_birth=state.report.child.date_of_birth, on=today(now)
    )
    if not eligibility.eligible:
        raise CommandRefused(
            "not_eligible",
            f"under rule {eligibility.rule} {eligibility.rule_version} the child does not "
            f"qualify as a de facto orphan: {'; '.join(eligibility.reasons)}",
        )
    return [
        RecognitionApplied(
            **header(actor, now, new_id, reason="; ".join(eligibility.reasons)),
            application_id=new_id(),
            qualifying=eligibility.qualifying,
            verification_due_at=deadline_at(
                local(now), referrals.TOWNSHIP_VERIFICATION_WORKING_DAYS, DEFAULT_CALENDAR
            ),
            rule=eligibility.rule,
            rule_version=eligibility.rule_version,
            deadline_rule=referrals.RULE,
            deadline_rule_version=referrals.RULE_VERSION,
        )
    ]


class RecognitionDecision(StrEnum):
    verified = "verified"
    confirmed = "confirmed"
    denied = "denied"


class RecordRecognitionDecision(Command):
    """Civil affairs' decision on the application: township verification, county confirmation
    (with the county's monthly allowance amount), or a denial with written reasons."""

    command: Literal["record_recognition_decision"] = "record_recognition_decision"
    application_id: UUID
    decision: RecognitionDecision
    reasons: tuple[Text, ...] = Field(default=(), max_length=20)
    monthly_allowance_yuan: int | None = Field(default=None, gt=0, le=100_000)


def decide_record_recognition_decision(
    state: CaseState,
    command: RecordRecognitionDecision,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a recognition decision", roles=ANSWERING)
    recognition = state.recognition
    if recognition is None or recognition.application_id != command.application_id:
        raise not_found("recognition application", command.application_id)
    stage = recognition.status
    application_id = recognition.application_id
    if command.decision is RecognitionDecision.verified:
        _check_stage(stage, {RecognitionStatus.applied}, "verified")
        return [
            RecognitionVerified(
                **header(actor, now, new_id),
                application_id=application_id,
                confirmation_due_at=deadline_at(
                    local(now), referrals.COUNTY_CONFIRMATION_WORKING_DAYS, DEFAULT_CALENDAR
                ),
                deadline_rule=referrals.RULE,
                deadline_rule_version=referrals.RULE_VERSION,
            )
        ]
    if command.decision is RecognitionDecision.denied:
        _check_stage(stage, {RecognitionStatus.applied, RecognitionStatus.verified}, "denied")
        if not command.reasons:
            raise CommandRefused(
                "reasons_required", "a denial is recorded with civil affairs' written reasons"
            )
        return [
            RecognitionDenied(
                **header(actor, now, new_id),
                application_id=application_id,
                stage=(
                    EscalationLevel.township
                    if stage is RecognitionStatus.applied
                    else EscalationLevel.county
                ),
                reasons=command.reasons,
            )
        ]
    _check_stage(stage, {RecognitionStatus.verified}, "confirmed")
    if command.monthly_allowance_yuan is None:
        raise CommandRefused(
            "allowance_amount_required",
            "a confirmation is recorded with the monthly allowance amount the county set",
        )
    recognised_on = today(now)
    confirmed = RecognitionConfirmed(
        **header(actor, now, new_id), application_id=application_id, recognised_on=recognised_on
    )
    return [
        confirmed,
        AllowanceStarted(
            **header(actor, now, new_id, cause=confirmed.event_id),
            application_id=application_id,
            monthly_amount_yuan=command.monthly_allowance_yuan,
            first_month=referrals.allowance_start(recognised_on),
            rule=referrals.RULE,
            rule_version=referrals.RULE_VERSION,
        ),
    ]


def _check_stage(stage: RecognitionStatus, allowed: set[RecognitionStatus], decision: str) -> None:
    if stage not in allowed:
        raise CommandRefused(
            "wrong_stage", f"an application that is {stage} cannot be {decision} now"
        )
