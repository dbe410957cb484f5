"""Guardian change (caseworkers and supervisors of the case's area): a new caregiver proposed,
approved by a supervisor (`POST /cases/{case_id}/approvals/{approval_id}/decision`), then its
registration with civil affairs recorded."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, command_from, send_command
from domain.child import Text
from domain.commands import ProposeGuardianChange, RegisterGuardianChange
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["guardianship"], responses=COMMAND_RESPONSES)


class GuardianRegistrationBody(BaseModel):
    """Civil affairs registered the approved guardian change in the path."""

    model_config = ConfigDict(extra="forbid")

    registered_on: date
    registration_reference: Text | None = None


@router.post("/guardian-change", status_code=201, response_model=CaseReply)
async def propose_guardian_change(
    case_id: UUID,
    body: ProposeGuardianChange,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Propose a new caregiver; a supervisor of the case's township approves it."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/guardian-change/{change_id}/registration", response_model=CaseReply)
async def register_guardian_change(
    case_id: UUID,
    change_id: UUID,
    body: GuardianRegistrationBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record that civil affairs registered the approved guardian."""
    command = command_from(RegisterGuardianChange, body, change_id=change_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)
