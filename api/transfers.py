"""Transfer to a child welfare institution or a boarding school (caseworkers and supervisors of
the case's area): proposed, approved by a supervisor, a place confirmed or refused by the
institution or school system, then the child's arrival recorded."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, command_from, send_command
from domain.child import LongText, Text
from domain.commands import (
    ConfirmTransferPlace,
    ProposeTransfer,
    RecordTransfer,
    RefuseTransferPlace,
)
from workflows.messages import CaseReply

router = APIRouter(prefix="/cases/{case_id}", tags=["transfers"], responses=COMMAND_RESPONSES)


class TransferPlaceBody(BaseModel):
    """The institution or school system confirmed a place for the transfer in the path."""

    model_config = ConfigDict(extra="forbid")

    place_reference: Text | None = None


class TransferPlaceRefusalBody(BaseModel):
    """The institution or school system has no place for the transfer in the path."""

    model_config = ConfigDict(extra="forbid")

    refused_because: Text


class TransferArrivalBody(BaseModel):
    """The child moved to the confirmed place."""

    model_config = ConfigDict(extra="forbid")

    transferred_on: date
    note: LongText = ""


@router.post("/transfers", status_code=201, response_model=CaseReply)
async def propose_transfer(
    case_id: UUID,
    body: ProposeTransfer,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Propose a transfer; a supervisor of the case's township approves it."""
    return await send_command(request, actor, case_id, body, idempotency_key=idempotency_key)


@router.post("/transfers/{transfer_id}/place", response_model=CaseReply)
async def confirm_transfer_place(
    case_id: UUID,
    transfer_id: UUID,
    body: TransferPlaceBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record the place the institution or school system confirmed for an approved transfer."""
    command = command_from(ConfirmTransferPlace, body, transfer_id=transfer_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)


@router.post("/transfers/{transfer_id}/place-refusal", response_model=CaseReply)
async def refuse_transfer_place(
    case_id: UUID,
    transfer_id: UUID,
    body: TransferPlaceRefusalBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record that the institution or school system has no place for an approved transfer."""
    command = command_from(RefuseTransferPlace, body, transfer_id=transfer_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)


@router.post("/transfers/{transfer_id}/arrival", response_model=CaseReply)
async def record_transfer(
    case_id: UUID,
    transfer_id: UUID,
    body: TransferArrivalBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Record that the child moved to the confirmed place."""
    command = command_from(RecordTransfer, body, transfer_id=transfer_id)
    return await send_command(request, actor, case_id, command, idempotency_key=idempotency_key)
