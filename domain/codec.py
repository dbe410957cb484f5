"""Events to and from their stored form: type, schema version, data and metadata as JSON text.

The header (who, when, why, what caused it) is stored as metadata and the event's own facts as
data, so the store can index who acted without reading what happened. Decoding upcasts events
stored under an older schema version before validating them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic_core import from_json

from domain.events import EVENT_ADAPTER, HEADER_FIELDS, CaseEvent
from domain.events.upcasting import upcast


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    event_id: UUID
    type: str
    schema_version: int
    data: str
    metadata: str


def encode(event: CaseEvent, *, extra_metadata: dict[str, str] | None = None) -> EncodedEvent:
    everything = event.model_dump(mode="json")
    data = {key: value for key, value in everything.items() if key not in HEADER_FIELDS}
    metadata = {
        key: value
        for key, value in everything.items()
        if key in HEADER_FIELDS and key not in {"type", "schema_version", "event_id"}
    }
    metadata.update(extra_metadata or {})
    return EncodedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        data=json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        metadata=json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    )


def decode(
    *, event_id: UUID, type: str, schema_version: int, data: str, metadata: str
) -> CaseEvent:
    # pydantic_core's parser gives the same Python values as json.loads for the JSON the store
    # holds (PostgreSQL's json type refuses anything else), faster.
    facts, version = upcast(type, schema_version, from_json(data))
    header: dict[str, Any] = {
        key: value for key, value in from_json(metadata).items() if key in HEADER_FIELDS
    }
    return EVENT_ADAPTER.validate_python(
        {**facts, **header, "event_id": event_id, "type": type, "schema_version": version}
    )


def case_stream_id(case_id: UUID) -> str:
    """The event store stream of a case (the same text as its workflow id)."""
    return f"case-{case_id}"
