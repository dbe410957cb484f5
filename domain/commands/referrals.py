"""Service referrals: ask an outside agency (civil affairs, a school, a hospital, a partner NGO)
to do something for the child, record its answers, and chase it when none comes.

`requested → accepted | declined`, `accepted → completed`, `withdrawn` while not completed. The
agency is reminded at the end of the 3rd working day and the township's supervisors told at the
end of the 5th, when the referral is still unanswered.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from domain.actors import Actor, system_actor
from domain.child import LongText, Text
from domain.commands.access import ANSWERING, check_may_act, not_found
from domain.commands.base import Command
from domain.commands.recording import NewId, header, local
from domain.errors import CommandRefused
from domain.events import (
    AgencyKind,
    Breach,
    CaseEvent,
    EscalationRaised,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralReminded,
    ReferralRequested,
    ReferralWithdrawn,
)
from domain.rules import referrals
from domain.rules.calendar import DEFAULT_CALENDAR
from domain.rules.escalation import EscalationLevel, level_area
from domain.state import OPEN_REFERRAL_STATUSES, CaseState, Referral, ReferralStatus


class MakeReferral(Command):
    """Ask `agency` (of `agency_kind`) for `service` for the child."""

    command: Literal["make_referral"] = "make_referral"
    agency_kind: AgencyKind
    agency: Text
    service: Text


def decide_make_referral(
    state: CaseState, command: MakeReferral, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="make a referral")
    return [
        ReferralRequested(
            **header(actor, now, new_id),
            referral_id=new_id(),
            agency_kind=command.agency_kind,
            agency=command.agency,
            service=command.service,
            remind_at=referrals.referral_reminder_due(local(now), DEFAULT_CALENDAR),
            answer_due_at=referrals.referral_answer_due(local(now), DEFAULT_CALENDAR),
            rule=referrals.RULE,
            rule_version=referrals.RULE_VERSION,
        )
    ]


class ReferralAnswer(StrEnum):
    accepted = "accepted"
    declined = "declined"
    completed = "completed"


class RecordReferralAnswer(Command):
    """The agency accepted or declined the referral (a decline says why), or completed it."""

    command: Literal["record_referral_answer"] = "record_referral_answer"
    referral_id: UUID
    answer: ReferralAnswer
    note: LongText = ""


def decide_record_referral_answer(
    state: CaseState,
    command: RecordReferralAnswer,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a referral's answer", roles=ANSWERING)
    referral = _referral(state, command.referral_id)
    stamp = header(actor, now, new_id)
    if command.answer is ReferralAnswer.completed:
        _check_status(referral, {ReferralStatus.accepted}, "completed")
        return [ReferralCompleted(**stamp, referral_id=referral.referral_id, outcome=command.note)]
    _check_status(referral, {ReferralStatus.requested}, command.answer)
    if command.answer is ReferralAnswer.accepted:
        return [ReferralAccepted(**stamp, referral_id=referral.referral_id, note=command.note)]
    if not command.note:
        raise CommandRefused("reason_required", "a declined referral is recorded with why")
    return [
        ReferralDeclined(**stamp, referral_id=referral.referral_id, declined_because=command.note)
    ]


class WithdrawReferral(Command):
    command: Literal["withdraw_referral"] = "withdraw_referral"
    referral_id: UUID
    reason: Text


def decide_withdraw_referral(
    state: CaseState, command: WithdrawReferral, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="withdraw a referral")
    referral = _referral(state, command.referral_id)
    _check_status(referral, OPEN_REFERRAL_STATUSES, "withdrawn")
    return [
        ReferralWithdrawn(
            **header(actor, now, new_id, reason=command.reason), referral_id=referral.referral_id
        )
    ]


def referral_unanswered(
    state: CaseState, referral_id: UUID, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    """The agency has not answered: remind it once the reminder is due, then escalate to the
    township's supervisors once the answer is due. Nothing when it answered meanwhile."""
    referral = state.referrals.get(referral_id)
    if not state.is_open or referral is None or referral.status is not ReferralStatus.requested:
        return []
    engine = system_actor(state.village)
    events: list[CaseEvent] = []
    if not referral.reminded and now >= referral.remind_at:
        events.append(
            ReferralReminded(
                **header(engine, now, new_id),
                referral_id=referral_id,
                answer_due_at=referral.answer_due_at,
            )
        )
    if not referral.escalated and now >= referral.answer_due_at:
        events.append(
            EscalationRaised(
                **header(engine, now, new_id),
                breach=Breach.referral_unanswered,
                subject_id=referral_id,
                deadline=referral.answer_due_at,
                level=EscalationLevel.township,
                area=level_area(state.village, EscalationLevel.township),
            )
        )
    return events


def _referral(state: CaseState, referral_id: UUID) -> Referral:
    referral = state.referrals.get(referral_id)
    if referral is None:
        raise not_found("referral", referral_id)
    return referral


def _check_status(
    referral: Referral, allowed: frozenset[ReferralStatus] | set[ReferralStatus], becoming: str
) -> None:
    if referral.status not in allowed:
        raise CommandRefused(
            "wrong_stage",
            f"referral {referral.referral_id} is {referral.status} and cannot be {becoming} now",
        )
