"""Closure, reopening and corrections (caseworkers and supervisors of the case's area).

A closure for any reason but turning 18 waits for a supervisor's approval; a closed case is
reopened by a new intake referral. A wrong fact is corrected by a new event, never edited.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, send_command
from domain.commands import CorrectFact, ProposeClosure, ReopenCase
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["closure"], responses=COMMAND_RESPONSES)


@router.post("/closure", response_model=CaseReply)
async def propose_closure(
    case_id: UUID,
    body: ProposeClosure,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Propose closing the case (a child who moved out of area is handed over)."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/reopening", response_model=CaseReply)
async def reopen_case(
    case_id: UUID,
    body: ReopenCase,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Reopen a closed case on a new intake referral; it is screened again."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/corrections", status_code=201, response_model=CaseReply)
async def correct_fact(
    case_id: UUID,
    body: CorrectFact,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Correct a recorded fact (`field_path` of event `event_id`), saying why."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)
