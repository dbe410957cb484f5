"""How a decision stamps the events it makes, and reads the time it is given.

Event ids and the current time come from the caller (in a workflow: `workflow.uuid4()` and
`workflow.now()`), so decisions stay deterministic. Days and working-day deadlines are counted on
the program's clock: China Standard Time, UTC+8 all year.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import TypedDict
from uuid import UUID

from domain.actors import Actor

NewId = Callable[[], UUID]

PROGRAM_TIMEZONE = timezone(timedelta(hours=8), "China Standard Time")


class Header(TypedDict):
    event_id: UUID
    occurred_at: datetime
    actor: Actor
    causation_id: UUID | None
    reason: str | None


def header(
    actor: Actor,
    now: datetime,
    new_id: NewId,
    *,
    cause: UUID | None = None,
    reason: str | None = None,
) -> Header:
    """Who, when and why of a new event, and the event that caused it (if not the command)."""
    return Header(
        event_id=new_id(),
        occurred_at=now,
        actor=actor,
        causation_id=cause,
        reason=reason,
    )


def local(now: datetime) -> datetime:
    """`now` on the program's clock, so deadlines end at the end of a local working day."""
    return now.astimezone(PROGRAM_TIMEZONE)


def today(now: datetime) -> date:
    return local(now).date()
