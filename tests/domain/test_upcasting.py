"""A `VisitRecorded` stored under schema 1 still reads, as the current model, through the codec."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict

from domain import codec
from domain.events import VisitKind, VisitRecorded
from domain.events.upcasting import upcast
from domain.rules.risk import NeedScores, RiskLevel
from domain.state import apply
from tests.domain.strategies import REPORTER, START, Driver
from tests.domain.test_events_codec import merged_decode

V1_METADATA = json.dumps(
    {
        "actor": REPORTER.model_dump(mode="json"),
        "occurred_at": "2025-06-01T10:00:00+08:00",
        "reason": None,
        "causation_id": None,
        "correlation_id": None,
    }
)
V1_RESCORED = {
    "visit_id": "0b0c6a52-5c9b-4f3d-8f0e-7a3c1b8f9d11",
    "visited_at": "2025-06-01T09:30:00+08:00",
    "observations": "the roof leaks; food for two days",
    "scores": {
        "survival": 3,
        "education": 1,
        "health": 0,
        "guardianship": 1,
        "safety": 1,
        "psychosocial": 1,
    },
    "risk_level": "high",
    "rule": "assessment.risk_level",
    "rule_version": "2019.1",
}
V1_PLAIN = {
    "visit_id": "5f1e8f4a-22b7-4d2c-9d43-6d0f8c1a2b33",
    "visited_at": "2025-06-01T09:30:00+08:00",
    "observations": "all well",
    "scores": None,
    "risk_level": None,
    "rule": None,
    "rule_version": None,
}


def decode_v1(data: Mapping[str, object]) -> object:
    return codec.decode(
        event_id=uuid.uuid4(),
        type="VisitRecorded",
        schema_version=1,
        data=json.dumps(data),
        metadata=V1_METADATA,
    )


def test_a_v1_visit_decodes_into_the_current_model() -> None:
    visit = decode_v1(V1_RESCORED)
    assert isinstance(visit, VisitRecorded)
    assert visit.schema_version == 2
    assert visit.visit_kind is VisitKind.home
    assert visit.updated_scores == NeedScores(
        survival=3, education=1, health=0, guardianship=1, safety=1, psychosocial=1
    )
    assert visit.risk_level is RiskLevel.high
    assert visit.observations == "the roof leaks; food for two days"


def test_a_v1_visit_without_scores_decodes_too() -> None:
    visit = decode_v1(V1_PLAIN)
    assert isinstance(visit, VisitRecorded)
    assert visit.updated_scores is None
    assert visit.visit_kind is VisitKind.home


def test_the_upcaster_lifts_one_version_and_leaves_the_stored_facts_alone() -> None:
    stored = dict(V1_RESCORED)
    facts, version = upcast("VisitRecorded", 1, stored)
    assert version == 2
    assert "scores" not in facts
    assert facts["updated_scores"] == V1_RESCORED["scores"]
    assert stored == V1_RESCORED, "stored events are never rewritten"


def test_current_events_are_written_and_read_as_v2() -> None:
    case = Driver().assessed()
    visit = VisitRecorded(
        event_id=uuid.uuid4(),
        occurred_at=START,
        actor=REPORTER,
        visit_id=uuid.uuid4(),
        visited_at=START,
        visit_kind=VisitKind.phone,
        observations="called the grandmother",
    )
    stored = codec.encode(visit)
    assert stored.schema_version == 2
    assert "visit_kind" in json.loads(stored.data)
    assert upcast("VisitRecorded", 2, json.loads(stored.data))[1] == 2
    assert apply(case.state, visit).visits == 1


def test_an_upcast_visit_folds_like_a_current_one() -> None:
    case = Driver().assessed()
    visit = decode_v1(V1_RESCORED)
    assert isinstance(visit, VisitRecorded)
    state = apply(case.state, visit)
    assert state.risk_level is RiskLevel.high
    assert state.need_scores == visit.updated_scores


def test_a_v1_visit_decodes_exactly_as_before_with_or_without_other_metadata() -> None:
    header = json.loads(V1_METADATA)
    as_encoded = json.dumps(
        {**header, "workflow_id": "case-x"}, separators=(",", ":"), sort_keys=True
    )
    for data in (V1_RESCORED, V1_PLAIN):
        for metadata in (V1_METADATA, as_encoded):
            stored = codec.EncodedEvent(
                uuid.uuid4(), "VisitRecorded", 1, json.dumps(data), metadata
            )
            visit = codec.decode(**asdict(stored))
            assert visit == merged_decode(**asdict(stored))
            assert isinstance(visit, VisitRecorded)
            assert visit.schema_version == 2


def test_other_events_are_not_upcast() -> None:
    facts = {"caseworker": "cw-2"}
    assert upcast("CaseworkerAssigned", 1, facts) == (facts, 1)
