"""Who may do what to a case: roles, areas, and the case being open.

Caseworkers act only on cases in their own villages, supervisors on their whole township or
county. Outside systems' answers (an eligibility check, a referral's answer, a recognition
decision) are entered by staff or arrive through the engine itself. Auditors and admins write
nothing. Refusal reasons name ids and codes, never a child's personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.actors import Actor, Role
from domain.commands.recording import today
from domain.errors import CommandRefused
from domain.state import CaseState, CaseStatus

STAFF = frozenset({Role.caseworker, Role.supervisor})
SUPERVISORS = frozenset({Role.supervisor})
ANSWERING = STAFF | {Role.system}
READ_ONLY = frozenset({Role.auditor, Role.admin})


def check_may_act(
    state: CaseState, actor: Actor, *, doing: str, roles: frozenset[Role] = STAFF
) -> None:
    """Refuse an actor whose role may not do this, or whose area does not reach the case."""
    if actor.role not in roles:
        allowed = " or ".join(sorted(roles - {Role.system})) or "the engine"
        raise CommandRefused(
            "role_not_allowed", f"a {actor.role} cannot {doing}; ask a {allowed} of the case"
        )
    if not actor.reaches(state.village):
        raise CommandRefused(
            "outside_area",
            f"case {state.case_id} is in village {state.village}, outside your area "
            f"{actor.area}; only staff of the case's own area can {doing}",
        )


def check_writes(actor: Actor) -> None:
    if actor.role in READ_ONLY:
        raise CommandRefused(
            "role_not_allowed",
            f"a {actor.role} reads cases and writes nothing; ask a caseworker or supervisor",
        )


def check_open(state: CaseState, *, doing: str) -> None:
    if state.status is CaseStatus.closed:
        raise CommandRefused(
            "case_closed",
            f"case {state.case_id} is closed; reopen it before you {doing}",
        )


def check_assessed(state: CaseState, *, doing: str) -> None:
    if state.need_scores is None:
        raise CommandRefused(
            "not_assessed",
            f"case {state.case_id} has no current assessment; record one before you {doing}",
        )


def check_not_future(day: date | datetime, *, now: datetime, what: str) -> None:
    late = day > now if isinstance(day, datetime) else day > today(now)
    if late:
        raise CommandRefused("in_future", f"the {what} is in the future; record what happened")


def not_found(what: str, some_id: object) -> CommandRefused:
    return CommandRefused("not_found", f"there is no {what} {some_id} in this case")
