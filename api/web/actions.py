"""Which actions a case page offers: only those that fit the case as it stands and the user.

The same rules as the domain's decisions (domain.commands), read the other way round: what would
be accepted, rather than why something is refused. A page never offers what the case engine
would refuse on sight (an auditor writes nothing; a caseworker decides no approval; nobody
decides their own request; a case not yet assessed gets no assistance request); the engine still
checks everything that is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from domain.actors import Actor, Role
from domain.areas import contains
from domain.commands.guardianship import IN_PROGRESS as GUARDIAN_CHANGE_IN_PROGRESS
from domain.events import EligibilityCheckKind
from domain.rules.escalation import level_area
from domain.state import (
    IN_PROGRESS_TRANSFER,
    OPEN_REFERRAL_STATUSES,
    AssistanceStatus,
    CaseState,
    CaseStatus,
    CheckStatus,
    RecognitionStatus,
    TransferStatus,
)

STAFF = frozenset({Role.caseworker, Role.supervisor})


class Action(StrEnum):
    assess = "assess"
    reassess = "reassess"
    eligibility_check = "eligibility_check"
    plan = "plan"
    assistance = "assistance"
    deliver = "deliver"
    refer = "refer"
    visit = "visit"
    close = "close"
    reopen = "reopen"
    decide = "decide"
    guardian_change = "guardian_change"
    transfer = "transfer"
    transfer_place = "transfer_place"
    arrival = "arrival"
    recognition = "recognition"
    recognition_decision = "recognition_decision"
    referral_answer = "referral_answer"
    withdraw_referral = "withdraw_referral"
    school_status = "school_status"
    eligibility_answer = "eligibility_answer"
    correct = "correct"


@dataclass(frozen=True, slots=True)
class Offered:
    actions: frozenset[Action] = frozenset()
    deliverable: tuple[UUID, ...] = ()  # assistance requests a delivery can be recorded for
    decidable: tuple[UUID, ...] = ()  # approvals this user may approve or reject
    checks: tuple[EligibilityCheckKind, ...] = field(default=())  # checks that can be asked
    answerable_checks: tuple[UUID, ...] = ()  # checks waiting for the outside system's answer
    referrals: tuple[UUID, ...] = ()  # open referrals: answered or withdrawn
    placeable: tuple[UUID, ...] = ()  # approved transfers waiting for a place
    arriving: tuple[UUID, ...] = ()  # transfers with a place, waiting for the child to move


def offered(state: CaseState, actor: Actor) -> Offered:
    if actor.role not in STAFF or not actor.reaches(state.village):
        return Offered()
    if state.status is CaseStatus.closed:
        return Offered(frozenset({Action.reopen}))
    actions = {Action.eligibility_check, Action.refer}
    if state.plan is not None:
        actions.add(Action.visit)  # monitoring visits follow the case plan
    assessed = state.need_scores is not None
    actions.add(Action.reassess if assessed else Action.assess)
    if assessed:
        actions |= {Action.plan, Action.assistance}
    if state.status is not CaseStatus.pending_closure:
        actions.add(Action.close)
    deliverable = tuple(
        request.request_id
        for request in state.assistance.values()
        if request.status is AssistanceStatus.to_deliver and request.remaining_quantity > 0
    )
    if deliverable:
        actions.add(Action.deliver)
    decidable = tuple(
        approval.approval_id
        for approval in state.pending_approvals.values()
        if actor.role is Role.supervisor
        and approval.requested_by != actor.user_id
        and contains(actor.area, level_area(state.village, approval.level))
    )
    if decidable:
        actions.add(Action.decide)
    waiting = {
        check.check
        for check in state.eligibility_checks.values()
        if check.status is CheckStatus.requested
    }
    checks = tuple(kind for kind in EligibilityCheckKind if kind not in waiting)
    if not checks:
        actions.discard(Action.eligibility_check)
    answerable_checks = tuple(
        check.check_id
        for check in state.eligibility_checks.values()
        if check.status is CheckStatus.requested
    )
    referrals = tuple(
        referral.referral_id
        for referral in state.referrals.values()
        if referral.status in OPEN_REFERRAL_STATUSES
    )
    placeable = _transfers(state, TransferStatus.approved)
    arriving = _transfers(state, TransferStatus.place_confirmed)
    actions |= {Action.school_status, Action.correct}
    if not any(c.status in GUARDIAN_CHANGE_IN_PROGRESS for c in state.guardian_changes.values()):
        actions.add(Action.guardian_change)
    if not any(t.status in IN_PROGRESS_TRANSFER for t in state.transfers.values()):
        actions.add(Action.transfer)
    recognition = state.recognition
    if recognition is None or recognition.status is RecognitionStatus.denied:
        actions.add(Action.recognition)
    elif recognition.status in (RecognitionStatus.applied, RecognitionStatus.verified):
        actions.add(Action.recognition_decision)
    for wanted, action in (
        (answerable_checks, Action.eligibility_answer),
        (referrals, Action.referral_answer),
        (referrals, Action.withdraw_referral),
        (placeable, Action.transfer_place),
        (arriving, Action.arrival),
    ):
        if wanted:
            actions.add(action)
    return Offered(
        frozenset(actions),
        deliverable,
        decidable,
        checks,
        answerable_checks,
        referrals,
        placeable,
        arriving,
    )


def _transfers(state: CaseState, status: TransferStatus) -> tuple[UUID, ...]:
    return tuple(t.transfer_id for t in state.transfers.values() if t.status is status)
