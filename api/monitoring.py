"""Monitoring (caseworkers and supervisors of the case's area): follow-up visits and the child's
school status each term."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, send_command
from domain.commands import RecordSchoolStatus, RecordVisit
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["monitoring"], responses=COMMAND_RESPONSES)


@router.post("/visits", status_code=201, response_model=CaseReply)
async def record_visit(
    case_id: UUID,
    body: RecordVisit,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record a follow-up visit (or call) and what was seen; the next visit is scheduled by rule."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/school-status", status_code=201, response_model=CaseReply)
async def record_school_status(
    case_id: UUID,
    body: RecordSchoolStatus,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record the child's school status as checked this term."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)
