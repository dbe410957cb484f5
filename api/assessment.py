"""Assessment (caseworkers and supervisors of the case's area): needs scored, eligibility facts
asked of civil affairs and the school system (and their answers entered), and the de facto orphan
recognition applied for and decided."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, command_from, send_command
from domain.child import Text
from domain.commands import (
    ApplyForRecognition,
    RecognitionDecision,
    RecordAssessment,
    RecordEligibilityAnswer,
    RecordRecognitionDecision,
    RequestEligibilityCheck,
)
from domain.events import CheckFailure, EligibilityFacts
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["assessment"], responses=COMMAND_RESPONSES)


class EligibilityAnswerBody(BaseModel):
    """An outside system's answer to the check in the path: its facts, or why it has none."""

    model_config = ConfigDict(extra="forbid")

    facts: EligibilityFacts | None = None
    failure: CheckFailure | None = None


class RecognitionDecisionBody(BaseModel):
    """Civil affairs' decision on the application in the path."""

    model_config = ConfigDict(extra="forbid")

    decision: RecognitionDecision
    reasons: tuple[Text, ...] = Field(default=(), max_length=20)
    monthly_allowance_yuan: int | None = Field(default=None, gt=0, le=100_000)


@router.post("/assessment", status_code=201, response_model=CaseReply)
async def record_assessment(
    case_id: UUID,
    body: RecordAssessment,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Score the child's needs; the risk level follows by rule."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/eligibility-checks", status_code=201, response_model=CaseReply)
async def request_eligibility_check(
    case_id: UUID,
    body: RequestEligibilityCheck,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Ask civil affairs or the school system for the facts that decide eligibility."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/eligibility-checks/{check_id}/answer", response_model=CaseReply)
async def record_eligibility_answer(
    case_id: UUID,
    check_id: UUID,
    body: EligibilityAnswerBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Enter an outside system's answer to a check (when it came by another way than the API)."""
    command = command_from(RecordEligibilityAnswer, body, check_id=check_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)


@router.post("/recognition", status_code=201, response_model=CaseReply)
async def apply_for_recognition(
    case_id: UUID,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Apply to civil affairs for de facto orphan recognition (when the rule finds the child
    qualifies)."""
    command = ApplyForRecognition()
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)


@router.post("/recognition/{application_id}/decision", response_model=CaseReply)
async def record_recognition_decision(
    case_id: UUID,
    application_id: UUID,
    body: RecognitionDecisionBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Enter civil affairs' decision: township verification, county confirmation (with the monthly
    allowance), or a denial with written reasons."""
    command = command_from(RecordRecognitionDecision, body, application_id=application_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)
