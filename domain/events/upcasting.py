"""Upcasters: how an event stored under an older schema version reads today.

Stored events are never rewritten. When an event's shape changes, its `schema_version` goes up
and a function here lifts the old shape one version; `upcast` chains them on every read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Facts = dict[str, Any]
Upcaster = Callable[[Facts], Facts]


def visit_recorded_v1_to_v2(facts: Facts) -> Facts:
    """`VisitRecorded` v1 knew only home visits and stored rescored needs as `scores`.

    v2 records how the caseworker saw the child (`visit_kind`: home, school or phone) and names
    the rescored needs `updated_scores`. Every v1 visit was a home visit.
    """
    lifted = {key: value for key, value in facts.items() if key != "scores"}
    lifted["updated_scores"] = facts.get("scores")
    lifted["visit_kind"] = "home"
    return lifted


# (event type, version it reads) -> function producing the next version's facts
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("VisitRecorded", 1): visit_recorded_v1_to_v2,
}


def upcast(event_type: str, schema_version: int, facts: Facts) -> tuple[Facts, int]:
    while (step := UPCASTERS.get((event_type, schema_version))) is not None:
        facts = step(facts)
        schema_version += 1
    return facts, schema_version
