"""Read models built from the event log: the caseload, the approvals inbox, the assistance
ledger and the program report, kept current by the projector (exactly once, woken by
LISTEN/NOTIFY, polling as fallback) and rebuilt from the log on demand.

One module per projection, each with its tables' SQL, what a batch of events changes in them
(`Changes`, written set-based) and its queries; the projector in `projector.py`; tables in
store/migrations/0003_projections.sql.
"""

from __future__ import annotations

from store.projections.approvals_inbox import InboxItem, approvals_inbox
from store.projections.assistance_ledger import Delivery, assistance_ledger
from store.projections.base import Changes, ProjectedEvent, Projection, ProjectionError
from store.projections.caseload import CaseloadRow, caseload, caseload_count
from store.projections.program_report import (
    FIGURES,
    ProgramReport,
    ReportFact,
    program_report,
    report_facts,
)
from store.projections.projector import (
    Progress,
    Projector,
    log_head,
    positions,
    rebuild,
    rebuild_together,
    reset,
)
from store.projections.registry import PROJECTIONS, projection_named

__all__ = [
    "FIGURES",
    "PROJECTIONS",
    "CaseloadRow",
    "Changes",
    "Delivery",
    "InboxItem",
    "ProgramReport",
    "Progress",
    "ProjectedEvent",
    "Projection",
    "ProjectionError",
    "Projector",
    "ReportFact",
    "approvals_inbox",
    "assistance_ledger",
    "caseload",
    "caseload_count",
    "log_head",
    "positions",
    "program_report",
    "projection_named",
    "rebuild",
    "rebuild_together",
    "report_facts",
    "reset",
]
