"""Intake: a child is reported and the case opens; a supervisor may assign another caseworker."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.actors import Actor, Role, system_actor
from domain.child import ChildReport, age_on
from domain.commands.access import SUPERVISORS, check_may_act
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import CaseEvent, CaseOpened, CaseworkerAssigned, PriorityAssigned
from domain.rules.priority import screen
from domain.state import CaseState

REPORTING_ROLES = frozenset({Role.caseworker, Role.supervisor})


def check_may_report(actor: Actor, report: ChildReport, *, today: datetime) -> None:
    """Refuse a report the actor may not make, or that the program cannot take."""
    if actor.role not in REPORTING_ROLES:
        raise CommandRefused(
            "role_not_allowed", f"a {actor.role} cannot report a child; ask a caseworker"
        )
    if not actor.reaches(report.village):
        raise CommandRefused(
            "outside_area",
            f"village {report.village} is outside your area {actor.area}; "
            "report children only in your own villages",
        )
    day = today.date()
    if report.child.date_of_birth > day:
        raise CommandRefused("birth_in_future", "the date of birth is in the future")
    if age_on(report.child.date_of_birth, day) >= 18:
        raise CommandRefused(
            "not_a_child",
            "the child is 18 or older on the date of the report; "
            "the program serves children under 18",
        )


def open_case(
    case_id: UUID, report: ChildReport, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    """A reported child: the case opens and screening sets its priority."""
    check_may_report(actor, report, today=now)
    opened = CaseOpened(**header(actor, now, new_id), case_id=case_id, report=report)
    return [opened, screened(report, cause=opened.event_id, now=now, new_id=new_id)]


def screened(report: ChildReport, *, cause: UUID, now: datetime, new_id: NewId) -> PriorityAssigned:
    """Screening of a (re)reported child: the response priority and the assessment deadline."""
    screening = screen(report, reported_at=now)
    return PriorityAssigned(
        **header(
            system_actor(report.village),
            now,
            new_id,
            cause=cause,
            reason=f"rule {screening.rule} {screening.rule_version}",
        ),
        priority=screening.priority,
        assessment_due_at=screening.assessment_due_at,
        rule=screening.rule,
        rule_version=screening.rule_version,
    )


class AssignCaseworker(Command):
    """A supervisor makes another caseworker (by user id) responsible for the case."""

    command: Literal["assign_caseworker"] = "assign_caseworker"
    caseworker: str = Field(min_length=1, max_length=200)


def decide_assign_caseworker(
    state: CaseState, command: AssignCaseworker, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="assign a caseworker", roles=SUPERVISORS)
    if command.caseworker == state.assigned_to:
        raise CommandRefused(
            "already_assigned", f"{command.caseworker} is already the case's caseworker"
        )
    return [CaseworkerAssigned(**header(actor, now, new_id), caseworker=command.caseworker)]
