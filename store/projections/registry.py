"""Every projection the projector keeps current, by name."""

from __future__ import annotations

from typing import Final

from store.projections.approvals_inbox import ApprovalsInboxProjection
from store.projections.assistance_ledger import AssistanceLedgerProjection
from store.projections.base import Projection
from store.projections.caseload import CaseloadProjection
from store.projections.program_report import ProgramReportProjection

PROJECTIONS: Final[tuple[Projection, ...]] = (
    CaseloadProjection(),
    ApprovalsInboxProjection(),
    AssistanceLedgerProjection(),
    ProgramReportProjection(),
)


def projection_named(name: str) -> Projection:
    for projection in PROJECTIONS:
        if projection.name == name:
            return projection
    names = ", ".join(projection.name for projection in PROJECTIONS)
    raise ValueError(f"there is no projection {name!r}; the projections are: {names}")
