"""What closing a case does: whatever still waits ends first, then the case closes.

Approvals still pending are withdrawn and open service referrals withdrawn (the agencies are
told the case closed), so a closed case leaves nothing waiting on anyone.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.actors import Actor
from domain.commands.recording import NewId, header
from domain.events import (
    ApprovalWithdrawn,
    CaseClosed,
    CaseEvent,
    ClosureReason,
    ReferralWithdrawn,
)
from domain.state import CaseState

WITHDRAWN_ON_CLOSURE = "the case closed"


def closing_events(
    state: CaseState,
    *,
    closure_reason: ClosureReason,
    closure_id: UUID | None,
    actor: Actor,
    now: datetime,
    new_id: NewId,
    cause: UUID | None,
    rule: str | None = None,
    rule_version: str | None = None,
) -> list[CaseEvent]:
    events: list[CaseEvent] = []
    for approval_id in state.pending_approvals:
        events.append(
            ApprovalWithdrawn(
                **header(actor, now, new_id, cause=cause, reason=WITHDRAWN_ON_CLOSURE),
                approval_id=approval_id,
            )
        )
    for referral_id in state.open_referrals:
        events.append(
            ReferralWithdrawn(
                **header(actor, now, new_id, cause=cause, reason=WITHDRAWN_ON_CLOSURE),
                referral_id=referral_id,
            )
        )
    events.append(
        CaseClosed(
            **header(actor, now, new_id, cause=cause),
            closure_reason=closure_reason,
            closure_id=closure_id,
            rule=rule,
            rule_version=rule_version,
        )
    )
    return events
