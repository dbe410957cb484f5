"""Approvals: a decision that waits for a supervisor, how it moves up, and how it ends.

A request rests with the supervisors of the case's township; with no decision in time it
escalates to the county, then to the prefecture. When the prefecture's time also passes, the
timeout is recorded and the approval stays with the prefecture until someone decides it.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime

from domain.areas import AreaCode
from domain.child import LongText
from domain.events.base import EventBase
from domain.rules.approvals import ApprovalKind
from domain.rules.escalation import EscalationLevel


class ApprovalRequested(EventBase):
    """A proposal (`subject_id`: the assistance request, guardian change, transfer or closure)
    now waits for a supervisor of `area`, who has until `due_at`."""

    type: Literal["ApprovalRequested"] = "ApprovalRequested"
    schema_version: Literal[1] = 1
    approval_id: UUID
    kind: ApprovalKind
    subject_id: UUID
    requested_by: str
    level: EscalationLevel
    area: AreaCode
    due_at: AwareDatetime
    emergency: bool = False
    rule: str
    rule_version: str


class ApprovalEscalated(EventBase):
    """Nobody decided in time: the approval moved up to the next level, with a new deadline."""

    type: Literal["ApprovalEscalated"] = "ApprovalEscalated"
    schema_version: Literal[1] = 1
    approval_id: UUID
    from_level: EscalationLevel
    to_level: EscalationLevel
    area: AreaCode
    due_at: AwareDatetime
    rule: str
    rule_version: str


class ApprovalTimedOut(EventBase):
    """The last level's deadline passed too; the approval stays with it, still undecided."""

    type: Literal["ApprovalTimedOut"] = "ApprovalTimedOut"
    schema_version: Literal[1] = 1
    approval_id: UUID
    level: EscalationLevel
    due_at: AwareDatetime


class ApprovalGranted(EventBase):
    type: Literal["ApprovalGranted"] = "ApprovalGranted"
    schema_version: Literal[1] = 1
    approval_id: UUID
    level: EscalationLevel
    comment: LongText = ""


class ApprovalRejected(EventBase):
    type: Literal["ApprovalRejected"] = "ApprovalRejected"
    schema_version: Literal[1] = 1
    approval_id: UUID
    level: EscalationLevel
    comment: LongText


class ApprovalWithdrawn(EventBase):
    """The approval is no longer needed (the case closed before anyone decided it)."""

    type: Literal["ApprovalWithdrawn"] = "ApprovalWithdrawn"
    schema_version: Literal[1] = 1
    approval_id: UUID
