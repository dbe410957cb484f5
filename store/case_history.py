"""A case's history read back from the event store: its events decoded, and its state folded.

This is the auditor's replay and the API's read of a case; it uses the same fold as the workflow.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.codec import case_stream_id, decode
from domain.events import CaseEvent
from domain.state import CaseState, fold
from store.events import EventStore


async def case_events(
    store: EventStore, case_id: UUID, *, as_of: datetime | None = None
) -> list[CaseEvent]:
    stored = await store.read_stream(case_stream_id(case_id), as_of=as_of)
    return [
        decode(
            event_id=event.event_id,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=event.metadata,
        )
        for event in stored
    ]


async def load_case(
    store: EventStore, case_id: UUID, *, as_of: datetime | None = None
) -> CaseState | None:
    # Each event is folded as soon as it is decoded: no list of every decoded event is built
    # (with thousands of live events Python's cyclic GC kept re-traversing them).
    rows = await store.read_stream_payloads(case_stream_id(case_id), as_of=as_of)
    return fold(
        decode(
            event_id=event_id,
            type=type_,
            schema_version=schema_version,
            data=data,
            metadata=metadata,
        )
        for event_id, type_, schema_version, data, metadata in rows
    )
