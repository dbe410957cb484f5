"""Events to and from their stored form: type, schema version, data and metadata as JSON text.

The header (who, when, why, what caused it) is stored as metadata and the event's own facts as
data, so the store can index who acted without reading what happened. Decoding upcasts events
stored under an older schema version before validating them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from uuid import UUID

from pydantic_core import from_json, to_json

from domain.events import EVENT_ADAPTER, HEADER_FIELDS, CaseEvent
from domain.events.upcasting import UPCASTERS, upcast


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
    """The event stored as `data` and `metadata`, validated from one JSON text: its facts, the
    metadata's header fields and its id, type and schema version.

    One `validate_json` of one text costs less than parsing both texts, merging them and
    validating the Python objects. An event stored under an older schema version has its facts
    upcast first.
    """
    if (type, schema_version) in UPCASTERS:
        facts, schema_version = upcast(type, schema_version, from_json(data))
        data = to_json(facts).decode()
    # Later members of an object win: the metadata's header over any fact of the same name, and
    # the columns over both.
    document = (
        f"{{{_members(data)}{_header_members(metadata)}"
        f'"event_id":"{event_id}","type":{_quoted(type)},"schema_version":{schema_version:d}}}'
    )
    return EVENT_ADAPTER.validate_json(document)


def _members(json_object: str) -> str:
    """The members of a JSON object, as text each followed by a comma ("" if it has none)."""
    inside = json_object.strip()[1:-1]
    return inside + "," if inside and not inside.isspace() else ""


# The header as `encode` writes it: compact, its fields in this (sorted) order, the actor an
# object with no object inside, the other values null or strings without escapes. As no JSON
# string holds an unescaped quote, a match at the start of valid JSON (what the store holds) is
# exactly the header's members, and what follows are the metadata's other members, such as the
# workflow id. Other metadata is parsed.
_ENCODED_HEADER = re.compile(
    r'\{"actor":\{[^{}]*\},"causation_id":(?:null|"[^"\\]*"),"correlation_id":(?:null|"[^"\\]*"),'
    r'"occurred_at":"[^"\\]*","reason":(?:null|"[^"\\]*")(?=[,}])'
)


def _header_members(metadata: str) -> str:
    """The metadata's header fields, as JSON members each followed by a comma."""
    encoded = _ENCODED_HEADER.match(metadata)
    if encoded is not None:
        return metadata[1 : encoded.end()] + ","
    fields = from_json(metadata)
    for key in fields.keys() - HEADER_FIELDS:
        del fields[key]
    return _members(to_json(fields).decode())


def _quoted(type: str) -> str:
    # An event type is a Python name, which needs no escaping in JSON; anything else is escaped
    # (and refused by the validation, as an unknown type).
    return f'"{type}"' if type.isidentifier() else to_json(type).decode()


def case_stream_id(case_id: UUID) -> str:
    """The event store stream of a case (the same text as its workflow id)."""
    return f"case-{case_id}"
