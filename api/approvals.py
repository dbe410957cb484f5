"""Approvals (supervisors): the inbox of their area and their decisions.

The inbox holds the approvals waiting at a level whose area lies inside the supervisor's area (a
county officer also sees those still at a township), oldest request first, with the time left
before each escalates. It is read from the approvals inbox projection. A decision is a command
on the approval's case; the requester never decides their own request (`own_request`, 403).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.access import SUPERVISORS, require_role
from api.auth import CurrentActor
from api.commanding import (
    COMMAND_RESPONSES,
    IdempotencyKey,
    command_from,
    send_command,
)
from api.database import database
from api.problems import problem_responses
from domain.child import LongText
from domain.commands import ApprovalDecision, DecideApproval
from domain.rules.approvals import ApprovalKind
from store.projections import InboxItem, approvals_inbox
from store.projections.arguments import MAX_PAGE
from workflows.messages import CaseReply

router = APIRouter(tags=["approvals"])


class InboxEntry(BaseModel):
    approval: InboxItem
    time_left_seconds: int = Field(
        description="Seconds until the approval escalates (negative: its time has passed)."
    )
    overdue: bool
    requested_by_you: bool = Field(description="Your own request: another supervisor decides it.")
    case_url: str


class Inbox(BaseModel):
    items: list[InboxEntry]
    limit: int
    offset: int


class ApprovalDecisionBody(BaseModel):
    """Approve or reject the approval in the path; a rejection says why."""

    model_config = ConfigDict(extra="forbid")

    decision: ApprovalDecision
    comment: LongText = ""


@router.get("/approvals", response_model=Inbox, responses=problem_responses(403, 422))
async def get_approvals(
    actor: CurrentActor,
    request: Request,
    kind: ApprovalKind | None = None,
    emergency: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Inbox:
    """Approvals waiting for a decision in the caller's area, oldest request first."""
    require_role(actor, SUPERVISORS, "read the approvals inbox")
    items = await approvals_inbox(
        database(request),
        area=actor.area,
        kind=kind,
        emergency=emergency,
        limit=limit,
        offset=offset,
    )
    now = datetime.now(UTC)
    return Inbox(
        items=[
            InboxEntry(
                approval=item,
                time_left_seconds=int((item.due_at - now).total_seconds()),
                overdue=item.due_at <= now,
                requested_by_you=item.requested_by == actor.user_id,
                case_url=f"/cases/{item.case_id}",
            )
            for item in items
        ],
        limit=limit,
        offset=offset,
    )


@router.post(
    "/cases/{case_id}/approvals/{approval_id}/decision",
    response_model=CaseReply,
    responses=COMMAND_RESPONSES,
)
async def decide_approval(
    case_id: UUID,
    approval_id: UUID,
    body: ApprovalDecisionBody,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Approve or reject a request of the case (supervisors of the approval's current level, never
    the requester). Granting it carries out what was approved."""
    command = command_from(DecideApproval, body, approval_id=approval_id)
    return await send_command(
        request, actor, case_id, command, idempotency_key=idempotency_key, roles=SUPERVISORS
    )
