"""Service referrals (caseworkers and supervisors of the case's area): ask an outside agency to
do something for the child, record its answers, or withdraw the referral."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, command_from, send_command
from domain.child import LongText, Text
from domain.commands import MakeReferral, RecordReferralAnswer, ReferralAnswer, WithdrawReferral
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["referrals"], responses=COMMAND_RESPONSES)


class ReferralAnswerBody(BaseModel):
    """The agency accepted or declined the referral in the path (a decline says why), or
    completed it."""

    model_config = ConfigDict(extra="forbid")

    answer: ReferralAnswer
    note: LongText = ""


class ReferralWithdrawalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


@router.post("/referrals", status_code=201, response_model=CaseReply)
async def make_referral(
    case_id: UUID,
    body: MakeReferral,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Ask an agency for a service for the child; it is reminded, then the township's supervisors
    told, when no answer comes."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/referrals/{referral_id}/answer", response_model=CaseReply)
async def record_referral_answer(
    case_id: UUID,
    referral_id: UUID,
    body: ReferralAnswerBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record the agency's answer."""
    command = command_from(RecordReferralAnswer, body, referral_id=referral_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)


@router.post("/referrals/{referral_id}/withdrawal", response_model=CaseReply)
async def withdraw_referral(
    case_id: UUID,
    referral_id: UUID,
    body: ReferralWithdrawalBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Withdraw a referral that is not completed, saying why."""
    command = command_from(WithdrawReferral, body, referral_id=referral_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)
