"""The inputs and answers of the case workflow's run, updates and queries.

One model per message, so a field can be added later without breaking running cases.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from domain.actors import Actor
from domain.child import ChildReport
from domain.commands import CaseCommand
from domain.state import CaseState

# A run accepts at most 2,000 updates and slows as they accumulate: hand over to a new run well
# before (DESIGN.md, "Facts measured").
COMMANDS_PER_RUN = 500
# How many of its latest commands a case remembers across continue-as-new, to answer a retried
# update id with its first answer (Temporal does so only within one run). Retries come within
# minutes; this is far more commands than a case receives meanwhile, and keeps `CaseStart` small.
REMEMBERED_COMMANDS = 500


class CaseStart(BaseModel):
    """How a case workflow run begins: empty for a new case, or carried over by continue-as-new."""

    case_id: UUID
    state: CaseState | None = None
    opening_fingerprint: str | None = None
    commands_per_run: int = Field(default=COMMANDS_PER_RUN, ge=1, le=1500)
    answered: dict[str, list[UUID]] = Field(
        default_factory=dict,
        description=(
            "The latest commands of the runs before (at most REMEMBERED_COMMANDS, oldest first): "
            "update id -> the events each recorded. Temporal answers a repeated update id only "
            "within one run, so a command retried across continue-as-new is answered from here "
            "instead of being decided again."
        ),
    )


class OpenCase(BaseModel):
    """A caseworker reports a child. `request_fingerprint` identifies the request's content, so a
    retried request is answered and a different request under the same idempotency key refused."""

    report: ChildReport
    actor: Actor
    request_fingerprint: str


class CommandRequest(BaseModel):
    """Any command on an open case, sent by `actor`."""

    command: CaseCommand
    actor: Actor


class CaseReply(BaseModel):
    state: CaseState
    event_ids: list[UUID] = Field(
        default_factory=list, description="The events this command recorded, in order."
    )


class CaseOpenedReply(CaseReply):
    """The opened case, with the fingerprint of the report that opened it: Temporal answers a
    repeated update id with the first outcome, so the caller compares fingerprints."""

    request_fingerprint: str
