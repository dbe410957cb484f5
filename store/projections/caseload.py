"""The caseload: one row per case, what a caseworker's or supervisor's case list shows.

Every column is derived from the case's folded state, so it says what the workflow's state says.
"Overdue" is what the engine has recorded as breached and not yet cured (an assessment overdue,
an approval or a referral escalated, a missed visit not made up): it changes with events only,
never with the clock, so the rows are the same whenever the log is replayed. `next_deadline` is
the earliest deadline still outstanding, which may already be past.

No child's name is stored: a list shows case ids, areas and deadlines, and the caseworker UI
reads a case (which the API checks access to) to show who it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg

from domain.events import Breach
from domain.rules.escalation import EscalationLevel
from domain.rules.priority import Priority
from domain.rules.risk import RiskLevel
from domain.state import CaseState, CaseStatus, ReferralStatus
from store.projections.arguments import check_area, check_page
from store.projections.base import Changes, Connection, ProjectedEvent, Projection

# Each changed case's row once a batch, every row in one statement: the batch's last state of
# the case is the row, as if every event had been upserted in turn.
UPSERT_CASES: Final = """
INSERT INTO caseload (
    case_id, status, priority, risk_level, assessment_due_at, assessment_overdue,
    approvals_overdue, referrals_overdue, visit_missed, overdue, next_visit_due, next_deadline,
    village, township, county, assigned_to, opened_at, updated_at, version, position
)
SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::boolean[],
    $7::integer[], $8::integer[], $9::boolean[], $10::boolean[], $11::timestamptz[],
    $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[],
    $18::timestamptz[], $19::bigint[], $20::bigint[]
)
ON CONFLICT (case_id) DO UPDATE SET
    status = excluded.status,
    priority = excluded.priority,
    risk_level = excluded.risk_level,
    assessment_due_at = excluded.assessment_due_at,
    assessment_overdue = excluded.assessment_overdue,
    approvals_overdue = excluded.approvals_overdue,
    referrals_overdue = excluded.referrals_overdue,
    visit_missed = excluded.visit_missed,
    overdue = excluded.overdue,
    next_visit_due = excluded.next_visit_due,
    next_deadline = excluded.next_deadline,
    village = excluded.village,
    township = excluded.township,
    county = excluded.county,
    assigned_to = excluded.assigned_to,
    opened_at = excluded.opened_at,
    updated_at = excluded.updated_at,
    version = excluded.version,
    position = excluded.position
"""
_COLUMNS: Final = """
case_id, status, priority, risk_level, assessment_due_at, assessment_overdue, approvals_overdue,
referrals_overdue, visit_missed, overdue, next_visit_due, next_deadline, village, township,
county, assigned_to, opened_at, updated_at, version, position
"""
_FILTER: Final = """
village LIKE $1 || '%'
AND ($2::text IS NULL OR status = $2)
AND ($3::text IS NULL OR priority = $3)
AND ($4::boolean IS NULL OR overdue = $4)
"""
SELECT_CASELOAD: Final = f"""
SELECT {_COLUMNS} FROM caseload
WHERE {_FILTER}
ORDER BY next_deadline NULLS LAST, opened_at, case_id
LIMIT $5 OFFSET $6
"""  # noqa: S608 (the columns and condition are ours; every value is a parameter)
COUNT_CASELOAD: Final = f"SELECT count(*) FROM caseload WHERE {_FILTER}"  # noqa: S608


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    case_id: UUID
    status: CaseStatus
    priority: Priority | None
    risk_level: RiskLevel | None
    assessment_due_at: datetime | None
    assessment_overdue: bool
    approvals_overdue: int  # pending approvals escalated past their first level or timed out
    referrals_overdue: int  # open referrals escalated for want of an answer
    visit_missed: bool  # a scheduled visit was missed and none made since
    overdue: bool  # any of the four above
    next_visit_due: datetime | None
    next_deadline: datetime | None
    village: str
    township: str
    county: str
    assigned_to: str  # the caseworker's user id
    opened_at: datetime
    updated_at: datetime
    version: int
    position: int  # the last event of the case this row reflects


def caseload_row(state: CaseState, *, position: int) -> CaseloadRow:
    """The case's caseload row, read off its state."""
    approvals_overdue = sum(
        1
        for approval in state.pending_approvals.values()
        if approval.level is not EscalationLevel.township or approval.timed_out
    )
    referrals_overdue = sum(1 for referral in state.open_referrals.values() if referral.escalated)
    missed = _visit_missed(state)
    return CaseloadRow(
        case_id=state.case_id,
        status=state.status,
        priority=state.priority,
        risk_level=state.risk_level,
        assessment_due_at=state.assessment_due_at,
        assessment_overdue=state.assessment_overdue,
        approvals_overdue=approvals_overdue,
        referrals_overdue=referrals_overdue,
        visit_missed=missed,
        overdue=state.is_open
        and (state.assessment_overdue or approvals_overdue > 0 or referrals_overdue > 0 or missed),
        next_visit_due=state.next_visit_due,
        next_deadline=_next_deadline(state),
        village=state.village,
        township=state.township,
        county=state.county,
        assigned_to=state.assigned_to,
        opened_at=state.opened_at,
        updated_at=state.updated_at,
        version=state.version,
        position=position,
    )


def _visit_missed(state: CaseState) -> bool:
    """The last visit missed under the current plan's schedule, with no visit made since."""
    if not state.is_open or state.plan is None or state.next_visit_due is None:
        return False
    planned_at = state.plan.recorded_at
    missed = [
        escalation.deadline
        for escalation in state.escalations
        if escalation.breach is Breach.visit_missed and escalation.deadline >= planned_at
    ]
    if not missed:
        return False
    return state.last_visit_at is None or state.last_visit_at < max(missed)


def _next_deadline(state: CaseState) -> datetime | None:
    if not state.is_open:
        return None
    deadlines = [approval.due_at for approval in state.pending_approvals.values()]
    deadlines += [
        referral.answer_due_at
        for referral in state.open_referrals.values()
        if referral.status is ReferralStatus.requested
    ]
    if state.need_scores is None and state.assessment_due_at is not None:
        deadlines.append(state.assessment_due_at)
    if state.next_visit_due is not None:
        deadlines.append(state.next_visit_due)
    return min(deadlines, default=None)


class CaseloadProjection(Projection):
    name = "caseload"
    tables = ("caseload",)

    def changes(self) -> CaseloadChanges:
        return CaseloadChanges()


class CaseloadChanges(Changes):
    """The last state of each case the batch touches: its row is written once, at the end."""

    def __init__(self) -> None:
        self._last: dict[UUID, tuple[CaseState, int]] = {}

    def add(self, event: ProjectedEvent) -> None:
        self._last[event.after.case_id] = (event.after, event.position)

    async def write(self, connection: Connection) -> None:
        if not self._last:
            return
        rows = [caseload_row(state, position=position) for state, position in self._last.values()]
        await connection.execute(
            UPSERT_CASES,
            [row.case_id for row in rows],
            [row.status.value for row in rows],
            [row.priority.value if row.priority is not None else None for row in rows],
            [row.risk_level.value if row.risk_level is not None else None for row in rows],
            [row.assessment_due_at for row in rows],
            [row.assessment_overdue for row in rows],
            [row.approvals_overdue for row in rows],
            [row.referrals_overdue for row in rows],
            [row.visit_missed for row in rows],
            [row.overdue for row in rows],
            [row.next_visit_due for row in rows],
            [row.next_deadline for row in rows],
            [row.village for row in rows],
            [row.township for row in rows],
            [row.county for row in rows],
            [row.assigned_to for row in rows],
            [row.opened_at for row in rows],
            [row.updated_at for row in rows],
            [row.version for row in rows],
            [row.position for row in rows],
        )


async def caseload(
    pool: asyncpg.Pool,
    *,
    area: str,
    status: CaseStatus | None = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CaseloadRow]:
    """The cases of villages inside `area`, most pressing first: by next deadline (cases with
    none last), then oldest first."""
    check_area(area)
    check_page(limit, offset)
    rows = await pool.fetch(
        SELECT_CASELOAD,
        area,
        status.value if status is not None else None,
        priority.value if priority is not None else None,
        overdue,
        limit,
        offset,
    )
    return [_caseload_row(row) for row in rows]


async def caseload_count(
    pool: asyncpg.Pool,
    *,
    area: str,
    status: CaseStatus | None = None,
    priority: Priority | None = None,
    overdue: bool | None = None,
) -> int:
    """How many cases `caseload` lists with the same filters, over all pages."""
    check_area(area)
    count = await pool.fetchval(
        COUNT_CASELOAD,
        area,
        status.value if status is not None else None,
        priority.value if priority is not None else None,
        overdue,
    )
    return int(count)


def _caseload_row(row: asyncpg.Record) -> CaseloadRow:
    return CaseloadRow(
        case_id=row["case_id"],
        status=CaseStatus(row["status"]),
        priority=Priority(row["priority"]) if row["priority"] is not None else None,
        risk_level=RiskLevel(row["risk_level"]) if row["risk_level"] is not None else None,
        assessment_due_at=row["assessment_due_at"],
        assessment_overdue=row["assessment_overdue"],
        approvals_overdue=row["approvals_overdue"],
        referrals_overdue=row["referrals_overdue"],
        visit_missed=row["visit_missed"],
        overdue=row["overdue"],
        next_visit_due=row["next_visit_due"],
        next_deadline=row["next_deadline"],
        village=row["village"],
        township=row["township"],
        county=row["county"],
        assigned_to=row["assigned_to"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        position=row["position"],
    )
