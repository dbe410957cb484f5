"""The case plan and assistance (caseworkers and supervisors of the case's area): goals and
planned help, help requested (a supervisor approves it above the threshold), and help delivered."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, command_from, send_command
from domain.commands import RecordCasePlan, RecordDelivery, RequestAssistance
from domain.events.assistance import MAX_QUANTITY, MAX_VALUE_YUAN
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["assistance"], responses=COMMAND_RESPONSES)


class DeliveryBody(BaseModel):
    """Help of the request in the path reached the child. `value_yuan` defaults to the request's
    value pro rata (the rest of it on the delivery that completes the request)."""

    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    value_yuan: int | None = Field(default=None, ge=0, le=MAX_VALUE_YUAN)
    delivered_on: date


@router.post("/plan", status_code=201, response_model=CaseReply)
async def record_case_plan(
    case_id: UUID,
    body: RecordCasePlan,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record (or revise) the case plan; the first plan starts the monitoring visits."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/assistance", status_code=201, response_model=CaseReply)
async def request_assistance(
    case_id: UUID,
    body: RequestAssistance,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Ask for help for the child; above the threshold it waits for a supervisor's approval, and
    an emergency placement is approved after the fact."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/assistance/{request_id}/deliveries", status_code=201, response_model=CaseReply)
async def record_delivery(
    case_id: UUID,
    request_id: UUID,
    body: DeliveryBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record help delivered under a request (never more than was requested)."""
    command = command_from(RecordDelivery, body, request_id=request_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)
