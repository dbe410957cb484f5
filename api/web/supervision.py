"""Supervisors' pages: the approvals inbox (decided from the page in one step) and the area
overview (cases by status and priority in each township, overdue counts).

The inbox is the approvals inbox projection, oldest request first; each approval is checked
against its case's events before it is shown, so one decided a moment ago (which the projector
has not read yet) is not offered again.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response

from api.access import SUPERVISORS, require_role
from api.context import services
from api.database import database
from api.web.casework import CASE_NUMBER_LENGTH, children, scan_caseload
from api.web.i18n import term
from api.web.pages import PageRoute, SignedIn, render
from api.web.present import time_left
from domain.actors import Role
from domain.areas import AreaLevel
from domain.rules.approvals import ApprovalKind
from domain.rules.escalation import EscalationLevel
from domain.rules.priority import Priority
from domain.state import Approval, ApprovalStatus, CaseState, CaseStatus
from store.projections import approvals_inbox

router = APIRouter(route_class=PageRoute, include_in_schema=False)

INBOX_PAGE: Final = 50
OVERVIEW_ROLES: Final = frozenset({Role.supervisor, Role.auditor})


@dataclass(frozen=True, slots=True)
class InboxRow:
    state: CaseState
    approval: Approval
    asked: str  # what is asked, in the reader's language
    time_left: str
    overdue: bool
    escalated: bool
    mine: bool  # the reader's own request: another supervisor decides it


def asked_for(language: str, state: CaseState, approval: Approval) -> str:
    """What the approval would allow, in a few words."""
    subject = approval.subject_id
    if approval.kind in (ApprovalKind.assistance, ApprovalKind.emergency_placement):
        help_asked = state.assistance.get(subject)
        if help_asked is not None:
            kind = term(language, "assistance_kind", help_asked.kind)
            return f"{kind} · {help_asked.quantity} {help_asked.unit} · {help_asked.value_yuan} ¥"
    if approval.kind is ApprovalKind.transfer and subject in state.transfers:
        transfer = state.transfers[subject]
        destination = term(language, "destination_kind", transfer.destination_kind)
        return f"{destination} · {transfer.destination}"
    if approval.kind is ApprovalKind.guardian_change and subject in state.guardian_changes:
        guardian = state.guardian_changes[subject].new_guardian
        return f"{guardian.name} ({guardian.relation})"
    if approval.kind is ApprovalKind.closure and state.closure is not None:
        return term(language, "closure_reason", state.closure.closure_reason)
    return term(language, "approval_kind", approval.kind)


@router.get("/ui/approvals")
async def inbox(
    request: Request,
    viewer: SignedIn,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    actor = viewer.actor
    require_role(actor, SUPERVISORS, "read the approvals inbox")
    items = await approvals_inbox(
        database(request), area=actor.area, limit=INBOX_PAGE, offset=(page - 1) * INBOX_PAGE
    )
    states = await children(request, (item.case_id for item in items))
    language = viewer.visitor.language
    now = datetime.now(UTC)
    rows = []
    for item in items:
        state = states.get(item.case_id)
        approval = state.approvals.get(item.approval_id) if state is not None else None
        if state is None or approval is None or approval.status is not ApprovalStatus.pending:
            continue  # decided since the projector last read the log
        rows.append(
            InboxRow(
                state=state,
                approval=approval,
                asked=asked_for(language, state, approval),
                time_left=time_left(language, approval.due_at, now),
                overdue=approval.due_at <= now,
                escalated=approval.level is not EscalationLevel.township or approval.timed_out,
                mine=approval.requested_by == actor.user_id,
            )
        )
    return render(
        request,
        "approvals.html",
        rows=rows,
        page=page,
        more=len(items) == INBOX_PAGE,
        key=lambda: str(uuid.uuid4()),
        number_length=CASE_NUMBER_LENGTH,
        done=request.query_params.get("done") == "decide",
    )


@dataclass
class TownshipCounts:
    code: str
    name: str
    total: int = 0
    overdue: int = 0
    by_status: Counter[CaseStatus] = field(default_factory=Counter)
    by_priority: Counter[Priority] = field(default_factory=Counter)  # open cases only


@router.get("/ui/area")
async def area_overview(request: Request, viewer: SignedIn) -> Response:
    actor = viewer.actor
    require_role(actor, OVERVIEW_ROLES, "see the area overview")
    areas = await services(request).directory.areas(within=actor.area)
    names = {area.code: area.name for area in areas}
    counts: dict[str, TownshipCounts] = {
        area.code: TownshipCounts(area.code, area.name)
        for area in areas
        if area.level == AreaLevel.township.value
    }
    rows = await scan_caseload(request, actor.area, lambda row: True)
    for row in rows:
        township = counts.setdefault(
            row.township, TownshipCounts(row.township, names.get(row.township, row.township))
        )
        township.total += 1
        township.by_status[row.status] += 1
        if row.status is not CaseStatus.closed and row.priority is not None:
            township.by_priority[row.priority] += 1
        township.overdue += int(row.overdue)
    return render(
        request,
        "area.html",
        townships=sorted(counts.values(), key=lambda counts: counts.code),
        statuses=list(CaseStatus),
        priorities=list(Priority),
        area_name=names.get(actor.area, actor.area),
        total=len(rows),
    )
