"""What every event of a case carries besides its own facts: who, when, why and what caused it."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.actors import Actor

# The header fields are stored as the event's metadata; everything else is its data.
HEADER_FIELDS = frozenset(
    {
        "type",
        "schema_version",
        "event_id",
        "occurred_at",
        "actor",
        "reason",
        "causation_id",
        "correlation_id",
    }
)


class EventBase(BaseModel):
    """Base of every case event. Subclasses add `type`, `schema_version` and their facts.

    Events are named in the past tense and never change once recorded; a correction is a new
    event. `schema_version` changes when the stored shape of an event changes, and older shapes
    are upcast on read (`domain.events.upcasting`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    occurred_at: AwareDatetime
    actor: Actor
    reason: str | None = None
    causation_id: UUID | None = None
    correlation_id: UUID | None = None
