from __future__ import annotations

import asyncio
import itertools
import json
import traceback
import uuid
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.errors import DuplicateEventId, InvalidEvent, StoreError, WrongExpectedVersion
from store.events import AppendResult, NewEvent
from store.integrity import verify
from tests.store.support import Db, new_events, new_stream

# Text a JSON parser would normalise away: whitespace, key order, duplicate keys, escapes,
# number spellings, non-ASCII.
ODD_JSON = '{ "b" :1,\n\t"a":[1.50, 2e3, -0.0],"a":"dup", "name": "Zoë \\u00e9\\n", "z": "\\u0000"}'


async def test_round_trip_keeps_every_byte(db: Db) -> None:
    stream = new_stream()
    events = [
        NewEvent(uuid.uuid4(), "ChildDiscovered", 3, ODD_JSON, '{"actor": "u-1",  "role":"x"}'),
        NewEvent(uuid.uuid4(), "NoteAdded", 1, "[]", "{}"),
        NewEvent(uuid.uuid4(), "NoteAdded", 2, '"just a string"', '{"reason": "\\ud83d\\ude00"}'),
    ]
    result = await db.store.append(stream, events, expected_version=0)

    assert result.stream_id == stream
    assert result.version == 3
    assert len(result.positions) == 3
    assert list(result.positions) == list(range(result.positions[0], result.positions[0] + 3))
    stored = await db.store.read_stream(stream)
    assert [(e.event_id, e.type, e.schema_version, e.data, e.metadata) for e in stored] == [
        (e.event_id, e.type, e.schema_version, e.data, e.metadata) for e in events
    ]
    assert [e.version for e in stored] == [1, 2, 3]
    assert [e.position for e in stored] == list(result.positions)
    assert all(e.stream_id == stream for e in stored)
    assert len({e.recorded_at for e in stored}) == 1  # one append, one moment
    assert await db.store.stream_version(stream) == 3
    from_log = await db.store.read_all(after=result.positions[0] - 1, limit=3)
    assert from_log == stored


async def test_read_stream_between_versions(db: Db) -> None:
    stream = new_stream()
    await db.store.append(stream, new_events(5), expected_version=0)
    middle = await db.store.read_stream(stream, from_version=2, to_version=4)
    assert [e.version for e in middle] == [2, 3, 4]
    assert await db.store.read_stream(new_stream()) == []
    assert await db.store.stream_version(new_stream()) == 0


async def test_read_stream_as_of_a_moment(db: Db) -> None:
    stream = new_stream()
    await db.store.append(stream, new_events(2), expected_version=0)
    await asyncio.sleep(0.01)
    await db.store.append(stream, new_events(1), expected_version=2)
    first, _, third = await db.store.read_stream(stream)
    assert third.recorded_at > first.recorded_at

    as_of_first = await db.store.read_stream(stream, as_of=first.recorded_at)
    assert [e.version for e in as_of_first] == [1, 2]
    between = first.recorded_at + (third.recorded_at - first.recorded_at) / 2
    assert [e.version for e in await db.store.read_stream(stream, as_of=between)] == [1, 2]
    assert len(await db.store.read_stream(stream, as_of=third.recorded_at)) == 3
    assert await db.store.read_stream(stream, as_of=first.recorded_at - timedelta(seconds=1)) == []


async def test_recorded_at_never_decreases_in_position_order(db: Db) -> None:
    for _ in range(20):
        await db.store.append(new_stream(), new_events(1), expected_version=0)
    log = await db.store.read_all(limit=100_000)
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    assert all(a.recorded_at <= b.recorded_at for a, b in itertools.pairwise(log))


async def test_wrong_expected_version_names_stream_and_versions(db: Db) -> None:
    stream = new_stream()
    with pytest.raises(WrongExpectedVersion) as new_stream_error:
        await db.store.append(stream, new_events(1), expected_version=1)
    assert (new_stream_error.value.expected, new_stream_error.value.actual) == (1, 0)

    await db.store.append(stream, new_events(2), expected_version=0)
    for expected in (0, 1, 3):
        with pytest.raises(WrongExpectedVersion) as error:
            await db.store.append(stream, new_events(1), expected_version=expected)
        assert error.value.stream_id == stream
        assert (error.value.expected, error.value.actual) == (expected, 2)
        assert str(error.value) == (
            f"stream {stream} is at version 2, not the expected version {expected}: "
            f"read the stream again and decide anew"
        )
    assert await db.store.stream_version(stream) == 2


async def test_re_appending_the_same_batch_returns_the_first_result(db: Db) -> None:
    stream = new_stream()
    await db.store.append(stream, new_events(1), expected_version=0)
    batch = new_events(3)
    first = await db.store.append(stream, batch, expected_version=1)
    await db.store.append(stream, new_events(1), expected_version=4)
    log_before = await db.store.read_all(after=first.positions[-1], limit=100_000)

    # A retry, with the version the caller decided on then, or even with today's version.
    assert await db.store.append(stream, batch, expected_version=1) == first
    assert await db.store.append(stream, batch, expected_version=5) == first
    assert first == AppendResult(stream, 4, first.positions)
    assert await db.store.stream_version(stream) == 5
    assert await db.store.read_all(after=first.positions[-1], limit=100_000) == log_before


async def test_concurrent_retries_of_one_batch_store_it_once(db: Db) -> None:
    stream = new_stream()
    batch = new_events(2)
    results = await asyncio.gather(
        *(db.store.append(stream, batch, expected_version=0) for _ in range(12))
    )
    assert len(set(results)) == 1
    assert [e.event_id for e in await db.store.read_stream(stream)] == [e.event_id for e in batch]


async def test_event_ids_stored_otherwise_are_refused(db: Db) -> None:
    stream = new_stream()
    batch = new_events(3)
    await db.store.append(stream, batch, expected_version=0)
    other_stream = new_stream()
    refused = [
        (stream, [*batch[:2], *new_events(1)], 3),  # only some already stored
        (stream, [batch[1], batch[0], batch[2]], 0),  # same ids, another order
        (stream, [batch[0], batch[2]], 0),  # not a contiguous batch
        (other_stream, batch, 0),  # stored in another stream
    ]
    for target, events, expected in refused:
        with pytest.raises(DuplicateEventId) as error:
            await db.store.append(target, events, expected_version=expected)
        assert error.value.stream_id == target
        assert error.value.event_id in {e.event_id for e in batch}
    assert await db.store.stream_version(stream) == 3
    assert await db.store.stream_version(other_stream) == 0


async def test_a_batch_must_be_well_formed(db: Db) -> None:
    stream = new_stream()
    with pytest.raises(ValueError, match="at least one event"):
        await db.store.append(stream, [], expected_version=0)
    with pytest.raises(ValueError, match="expected_version"):
        await db.store.append(stream, new_events(1), expected_version=-1)
    twice = new_events(1)
    with pytest.raises(InvalidEvent, match="twice"):
        await db.store.append(stream, twice * 2, expected_version=0)
    assert await db.store.stream_version(stream) == 0


SECRET = "Xiaoming-Wang-born-2015-03-14"


@pytest.mark.parametrize(
    ("data", "metadata"),
    [
        (f'{{"name": "{SECRET}"', "{}"),  # data is not JSON
        (f'{{"name": "{SECRET}"}}', f"{{actor: {SECRET}}}"),  # metadata is not JSON
        (f'{{"name": "{SECRET}\u0000"}}', "{}"),  # a NUL character PostgreSQL cannot store
    ],
)
async def test_errors_never_carry_event_data(db: Db, data: str, metadata: str) -> None:
    stream = new_stream()
    good = NewEvent(uuid.uuid4(), "ChildDiscovered", 1, f'{{"name": "{SECRET}"}}', "{}")
    await db.store.append(stream, [good], expected_version=0)
    bad = NewEvent(uuid.uuid4(), "ChildDiscovered", 1, data, metadata)

    errors: list[StoreError] = []
    for events, expected in (
        ([bad], 1),  # refused data
        ([NewEvent(uuid.uuid4(), "X", 1, f'"{SECRET}"', "{}")], 0),  # wrong version
        ([good, *new_events(1)], 1),  # duplicate id
    ):
        with pytest.raises(StoreError) as caught:
            await db.store.append(stream, events, expected_version=expected)
        errors.append(caught.value)

    assert [type(e) for e in errors] == [InvalidEvent, WrongExpectedVersion, DuplicateEventId]
    for error in errors:
        assert stream in str(error)
        assert error.__cause__ is None
        assert error.__context__ is None
        assert SECRET not in "".join(traceback.format_exception(error))
        assert SECRET not in repr(error)
    assert str(bad.event_id) in str(errors[0])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
json_texts = st.builds(
    lambda value, indent, ascii_only: json.dumps(value, indent=indent, ensure_ascii=ascii_only),
    json_values,
    st.sampled_from([None, 0, 2, "\t"]),
    st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.lists(st.tuples(json_texts, json_texts), min_size=1, max_size=6)))
async def test_random_batches_round_trip_and_verify(
    db: Db, batches: list[list[tuple[str, str]]]
) -> None:
    stream = new_stream()
    written: list[NewEvent] = []
    for batch in batches:
        events = [NewEvent(uuid.uuid4(), "Random", 1, d, m) for d, m in batch]
        result = await db.store.append(stream, events, expected_version=len(written))
        written += events
        assert result.version == len(written)
    stored = await db.store.read_stream(stream)
    assert [(e.event_id, e.data, e.metadata) for e in stored] == [
        (e.event_id, e.data, e.metadata) for e in written
    ]
    report = await verify(db.app, stream_id=stream, public_key=None)
    assert report.ok, report.first_problem
    assert report.events_checked == len(written)
