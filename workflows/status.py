"""What operators may see of a case in Temporal: status, priority, county and two flags.

Only codes and booleans: never a name, an identity number or an address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeUpdate

from domain.commands import deadlines
from domain.state import CaseState
from workflows.search_attributes import (
    CASE_PRIORITY,
    CASE_STATUS,
    COUNTY_CODE,
    OVERDUE,
    PENDING_APPROVAL,
)


def is_overdue(state: CaseState, now: datetime) -> bool:
    """A deadline has passed without being met: an assessment, an approval, a referral answer."""
    if state.assessment_overdue and state.need_scores is None:
        return True
    if any(
        approval.timed_out or approval.level != "township"
        for approval in state.pending_approvals.values()
    ):
        return True
    if any(referral.escalated for referral in state.open_referrals.values()):
        return True
    return any(deadline.at <= now for deadline in deadlines(state))


def search_attributes(state: CaseState, now: datetime) -> list[SearchAttributeUpdate[Any]]:
    updates: list[SearchAttributeUpdate[Any]] = [
        CASE_STATUS.value_set(state.status.value),
        COUNTY_CODE.value_set(state.county),
        PENDING_APPROVAL.value_set(bool(state.pending_approvals)),
        OVERDUE.value_set(is_overdue(state, now)),
    ]
    if state.priority is not None:
        updates.append(CASE_PRIORITY.value_set(state.priority.value))
    return updates
