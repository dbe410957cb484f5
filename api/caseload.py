"""The caseload: the cases of the caller's area, most pressing first, and who works on each.

Read from the caseload projection, which the projector keeps current from the event log; a case
just reported appears once the projector has read its events (usually within a second).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.access import READERS, SUPERVISORS, require_role
from api.auth import CurrentActor
from api.commanding import COMMAND_RESPONSES, IdempotencyKey, send_command
from api.context import services
from api.database import database
from api.problems import Problem, problem_responses
from domain.actors import Role
from domain.commands import AssignCaseworker
from domain.rules.priority import Priority
from domain.state import CaseStatus
from store.projections import CaseloadRow, caseload, caseload_count
from store.projections.arguments import MAX_PAGE
from workflows.messages import CaseReply

router = APIRouter(tags=["caseload"])

MAX_OFFSET = 1_000_000


class CaseloadPage(BaseModel):
    items: list[CaseloadRow]
    total: int = Field(description="How many cases match, over all pages.")
    limit: int
    offset: int


@router.get("/cases", response_model=CaseloadPage, responses=problem_responses(403, 422))
async def get_caseload(
    actor: CurrentActor,
    request: Request,
    status: CaseStatus | None = None,
    priority: Priority | None = None,
    overdue: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) a breach.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CaseloadPage:
    """The cases of the caller's area (caseworkers, supervisors and auditors), soonest deadline
    first."""
    require_role(actor, READERS, "list cases")
    pool = database(request)
    items = await caseload(
        pool,
        area=actor.area,
        status=status,
        priority=priority,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    total = await caseload_count(
        pool, area=actor.area, status=status, priority=priority, overdue=overdue
    )
    return CaseloadPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/cases/{case_id}/caseworker", response_model=CaseReply, responses=COMMAND_RESPONSES)
async def assign_caseworker(
    case_id: UUID,
    body: AssignCaseworker,
    actor: CurrentActor,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CaseReply:
    """Make another caseworker of the case's area responsible for it (supervisors)."""
    require_role(actor, SUPERVISORS, "assign a caseworker")
    user = await services(request).directory.user(body.caseworker)
    if user is None or user.role != Role.caseworker or user.revoked_at is not None:
        raise Problem(
            422,
            "Unknown caseworker",
            f"{body.caseworker} is not an active caseworker; give a caseworker's user id",
            code="unknown_caseworker",
        )
    return await send_command(
        request, actor, case_id, body, idempotency_key=idempotency_key, roles=SUPERVISORS
    )
