"""The approvals inbox: every approval as the case's state has it, the pending ones first of all.

A row follows its approval through requests, escalations, the timeout and the decision; it is
kept, marked with its status, once decided or withdrawn. The inbox of an area is what its
supervisors may decide: the pending approvals whose current level's area lies inside it (a
county officer sees the township's, and those escalated to the county).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeAlias
from uuid import UUID

import asyncpg

from domain.events import (
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalTimedOut,
    ApprovalWithdrawn,
)
from domain.rules.approvals import ApprovalKind
from domain.rules.escalation import EscalationLevel
from domain.state import ApprovalStatus
from store.projections.arguments import check_area, check_page
from store.projections.base import Changes, Connection, ProjectedEvent, Projection, columns

APPROVAL_EVENTS: Final = (
    ApprovalRequested,
    ApprovalEscalated,
    ApprovalTimedOut,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalWithdrawn,
)

# Each approval the batch changes, once, every row in one statement. The columns an update
# leaves alone come from the batch's first event of the approval (what the insert would have
# written), the others from its last: as if every event had been upserted in turn.
UPSERT_APPROVALS: Final = """
INSERT INTO approvals_inbox (
    approval_id, case_id, kind, subject_id, level, area, village, requested_by, requested_at,
    due_at, emergency, escalated, timed_out, status, decided_by, decided_at, updated_at, position
)
SELECT * FROM unnest(
    $1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::timestamptz[], $10::timestamptz[], $11::boolean[], $12::boolean[],
    $13::boolean[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[],
    $18::bigint[]
)
ON CONFLICT (approval_id) DO UPDATE SET
    level = excluded.level,
    area = excluded.area,
    due_at = excluded.due_at,
    escalated = excluded.escalated,
    timed_out = excluded.timed_out,
    status = excluded.status,
    decided_by = excluded.decided_by,
    decided_at = excluded.decided_at,
    updated_at = excluded.updated_at,
    position = excluded.position
"""
# A row's columns in UPSERT_APPROVALS' order, and those its update sets (the others keep what
# the insert wrote).
COLUMNS: Final = (
    "approval_id", "case_id", "kind", "subject_id", "level", "area", "village", "requested_by",
    "requested_at", "due_at", "emergency", "escalated", "timed_out", "status", "decided_by",
    "decided_at", "updated_at", "position",
)  # fmt: skip
UPDATED_COLUMNS: Final = (
    "level", "area", "due_at", "escalated", "timed_out", "status", "decided_by", "decided_at",
    "updated_at", "position",
)  # fmt: skip
_UPDATED: Final = tuple(COLUMNS.index(column) for column in UPDATED_COLUMNS)
SELECT_INBOX: Final = """
SELECT approval_id, case_id, kind, subject_id, level, area, village, requested_by, requested_at,
       due_at, emergency, escalated, timed_out, status, decided_by, decided_at, updated_at,
       position
FROM approvals_inbox
WHERE area LIKE $1 || '%'
  AND ($2::text IS NULL OR status = $2)
  AND ($3::text IS NULL OR kind = $3)
  AND ($4::boolean IS NULL OR emergency = $4)
ORDER BY requested_at, approval_id
LIMIT $5 OFFSET $6
"""


@dataclass(frozen=True, slots=True)
class InboxItem:
    approval_id: UUID
    case_id: UUID
    kind: ApprovalKind
    subject_id: UUID  # the assistance request, guardian change, transfer or closure
    level: EscalationLevel
    area: str  # whose supervisors decide it at `level`
    village: str  # the case's
    requested_by: str
    requested_at: datetime
    due_at: datetime
    emergency: bool
    escalated: bool  # moved up from the township for want of a decision
    timed_out: bool  # the prefecture's time ran out too; it still waits for a decision
    status: ApprovalStatus
    decided_by: str | None
    decided_at: datetime | None
    updated_at: datetime
    position: int  # the last event that changed it


class ApprovalsInboxProjection(Projection):
    name = "approvals_inbox"
    tables = ("approvals_inbox",)

    def changes(self) -> ApprovalsInboxChanges:
        return ApprovalsInboxChanges()


_Row: TypeAlias = tuple[Any, ...]


class ApprovalsInboxChanges(Changes):
    """Each approval's row as the batch leaves it, written once at the end."""

    def __init__(self) -> None:
        self._rows: dict[UUID, _Row] = {}

    def add(self, event: ProjectedEvent) -> None:
        if not isinstance(event.event, APPROVAL_EVENTS):
            return
        state = event.after
        approval = state.approvals[event.event.approval_id]
        row = (
            approval.approval_id,
            state.case_id,
            approval.kind.value,
            approval.subject_id,
            approval.level.value,
            approval.area,
            state.village,
            approval.requested_by,
            approval.requested_at,
            approval.due_at,
            approval.emergency,
            approval.level is not EscalationLevel.township,
            approval.timed_out,
            approval.status.value,
            approval.decided_by,
            approval.decided_at,
            event.event.occurred_at,
            event.position,
        )
        first = self._rows.get(approval.approval_id)
        if first is not None:  # the insert's columns stay as the first event gave them
            merged = list(first)
            for column in _UPDATED:
                merged[column] = row[column]
            row = tuple(merged)
        self._rows[approval.approval_id] = row

    async def write(self, connection: Connection) -> None:
        if not self._rows:
            return
        rows = list(self._rows.values())
        await connection.execute(UPSERT_APPROVALS, *columns(rows))


async def approvals_inbox(
    pool: asyncpg.Pool,
    *,
    area: str,
    status: ApprovalStatus | None = ApprovalStatus.pending,
    kind: ApprovalKind | None = None,
    emergency: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[InboxItem]:
    """Approvals resting with `area` or an area inside it, oldest request first; by default
    only those still waiting for a decision (`status=None`: all of them)."""
    check_area(area)
    check_page(limit, offset)
    rows = await pool.fetch(
        SELECT_INBOX,
        area,
        status.value if status is not None else None,
        kind.value if kind is not None else None,
        emergency,
        limit,
        offset,
    )
    return [
        InboxItem(
            approval_id=row["approval_id"],
            case_id=row["case_id"],
            kind=ApprovalKind(row["kind"]),
            subject_id=row["subject_id"],
            level=EscalationLevel(row["level"]),
            area=row["area"],
            village=row["village"],
            requested_by=row["requested_by"],
            requested_at=row["requested_at"],
            due_at=row["due_at"],
            emergency=row["emergency"],
            escalated=row["escalated"],
            timed_out=row["timed_out"],
            status=ApprovalStatus(row["status"]),
            decided_by=row["decided_by"],
            decided_at=row["decided_at"],
            updated_at=row["updated_at"],
            position=row["position"],
        )
        for row in rows
    ]
