"""Approvals: which decisions need a supervisor, and which supervisor may give them.

Needs approval: a guardian change, a transfer, one-off assistance above the threshold, a closure
for any reason but turning 18 (that one is automatic on the birthday), and, after the fact, any
emergency placement.

Who may decide (separation of duties):
- only a supervisor;
- never the person who made the request;
- only a supervisor whose area contains the approval's current level: the case's township while
  the approval rests with the township, its county once escalated to the county, its prefecture
  after that. A supervisor higher up may step in early: a county officer may decide an approval
  still waiting at the township.
"""

from __future__ import annotations

from enum import StrEnum

from domain.actors import Actor, Role
from domain.areas import contains
from domain.errors import CommandRefused
from domain.rules.assistance import APPROVAL_THRESHOLD_YUAN
from domain.rules.escalation import EscalationLevel, level_area

RULE = "approval.required"
RULE_VERSION = "2019.1"

# The closure reason of an age-out, the one closure that needs no approval.
AGE_OUT_CLOSURE_REASON = "turned_18"


class ApprovalKind(StrEnum):
    guardian_change = "guardian_change"
    transfer = "transfer"
    assistance = "assistance"
    closure = "closure"
    emergency_placement = "emergency_placement"


def needs_approval(
    kind: ApprovalKind,
    *,
    value_yuan: int | None = None,
    closure_reason: str | None = None,
    threshold_yuan: int = APPROVAL_THRESHOLD_YUAN,
) -> bool:
    """Whether a decision of this kind must wait for a supervisor's approval.

    Assistance needs its value: only a value strictly above the threshold needs approval. A
    closure without a reason is treated as needing approval, as only an age-out is exempt.
    """
    if kind is ApprovalKind.assistance:
        if value_yuan is None:
            raise ValueError("whether assistance needs approval depends on its value; give it")
        return value_yuan > threshold_yuan
    if kind is ApprovalKind.closure:
        return closure_reason != AGE_OUT_CLOSURE_REASON
    return True


def check_may_decide(
    approver: Actor, *, requested_by: str, case_village: str, level: EscalationLevel
) -> None:
    """Refuse an approver who may not approve or reject this request at its current level."""
    if approver.role is not Role.supervisor:
        raise CommandRefused(
            "role_not_allowed",
            f"a {approver.role} cannot decide an approval; "
            f"it is for a supervisor of the case's {level}",
        )
    if approver.user_id == requested_by:
        raise CommandRefused(
            "own_request",
            "you made this request, so you cannot decide it; "
            f"another supervisor of the case's {level} must",
        )
    area = level_area(case_village, level)
    if not contains(approver.area, area):
        raise CommandRefused(
            "outside_area",
            f"this approval rests with {level} {area}, which is outside your area "
            f"{approver.area}; a supervisor whose area contains {area} must decide it",
        )
