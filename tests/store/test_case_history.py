"""A case read back from the event store: every kind of event, as the workflow stores them (with
the workflow id in their metadata), and a visit stored under its first schema."""

from __future__ import annotations

import asyncio
import json
import uuid

from domain.codec import case_stream_id, encode
from domain.events import VisitKind, VisitRecorded
from domain.state import apply, fold
from store.case_history import case_events, load_case
from store.events import NewEvent
from tests.domain.test_events_codec import whole_life
from tests.domain.test_upcasting import V1_METADATA, V1_PLAIN
from tests.store.support import Db


async def test_a_case_loads_as_the_fold_of_its_events(db: Db) -> None:
    life = whole_life()
    case_id = life.state.case_id
    stream = case_stream_id(case_id)
    stored = [
        NewEvent(e.event_id, e.type, e.schema_version, e.data, e.metadata)
        for e in (encode(event, extra_metadata={"workflow_id": stream}) for event in life.events)
    ]
    half = len(stored) // 2
    await db.store.append(stream, stored[:half], expected_version=0)
    (halfway,) = await db.store.read_stream(stream, from_version=half, to_version=half)
    await asyncio.sleep(0.01)  # the second half recorded later
    await db.store.append(stream, stored[half:], expected_version=half)
    # A visit as recorded before visits had kinds: upcast on reading.
    old_visit = NewEvent(uuid.uuid4(), "VisitRecorded", 1, json.dumps(V1_PLAIN), V1_METADATA)
    await db.store.append(stream, [old_visit], expected_version=len(stored))

    events = await case_events(db.store, case_id)
    assert events[:-1] == life.events
    visit = events[-1]
    assert isinstance(visit, VisitRecorded)
    assert visit.event_id == old_visit.event_id
    assert (visit.schema_version, visit.visit_kind) == (2, VisitKind.home)
    assert await load_case(db.store, case_id) == apply(life.state, visit)
    assert await load_case(db.store, case_id, as_of=halfway.recorded_at) == fold(life.events[:half])
    assert await load_case(db.store, uuid.uuid4()) is None
