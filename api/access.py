"""Who may reach what, checked at the API before anything is read or sent to a workflow.

Two checks, in this order: the caller's role (refused with 403 whatever the case, so a refusal
reveals nothing about which cases exist), then the caller's area. A case outside the caller's
area answers exactly like a case that does not exist: the same 404 problem, word for word.
Workflows check role and area again (domain.commands.access), so these checks are the first
line, never the only one. Commands are the exception for the area: `api.commanding.send_command`
checks the role here and leaves the area to the case's workflow, which checks it against the
case as it holds it before anything else (`case_out_of_reach`, answered with the same 404).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import Request

from api.context import services
from api.problems import Problem
from domain.actors import Actor, Role
from domain.state import CaseState
from store.case_history import load_case

STAFF = frozenset({Role.caseworker, Role.supervisor})
SUPERVISORS = frozenset({Role.supervisor})
READERS = frozenset({Role.caseworker, Role.supervisor, Role.auditor})
AUDITORS = frozenset({Role.auditor})
VERIFIERS = frozenset({Role.auditor, Role.admin})
ADMINS = frozenset({Role.admin})


def require_role(actor: Actor, roles: frozenset[Role], doing: str) -> None:
    """Refuse (403) a caller whose role may not do this."""
    if actor.role not in roles:
        allowed = " and ".join(sorted(f"{role.value}s" for role in roles))
        raise Problem(
            403,
            "Not allowed",
            f"{actor.role.value}s cannot {doing}; that is for {allowed}",
            code="role_not_allowed",
        )


def require_area(actor: Actor, area: str, what: str) -> None:
    """Refuse (403) an area-wide request (a report, an admin change) outside the caller's area.
    Not for cases: a case outside the area is `case_not_found`."""
    if not actor.reaches(area):
        raise Problem(
            403,
            "Outside your area",
            f"{what} {area} is outside your area {actor.area}; ask someone whose area contains it",
            code="outside_area",
        )


def case_not_found(case_id: UUID) -> Problem:
    """The one answer for a case that does not exist and for a case the caller may not see."""
    return Problem(
        404,
        "Case not found",
        f"there is no case {case_id} that you can see; check the case id",
        code="case_not_found",
    )


async def case_in_reach(
    request: Request, actor: Actor, case_id: UUID, *, as_of: datetime | None = None
) -> CaseState:
    """The case (as of `as_of`, when given) if it lies inside the caller's area, else 404."""
    state = await load_case(services(request).events, case_id, as_of=as_of)
    if state is None or not actor.reaches(state.village):
        raise case_not_found(case_id)
    return state
