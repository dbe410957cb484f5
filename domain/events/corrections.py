"""Corrections: nothing recorded is edited; a wrong fact is corrected by a new event.

The fold applies a correction where the state holds the fact (the child's identity in the report,
a guardian's phone); every correction stays in the history with its reason.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import JsonValue, StringConstraints

from domain.events.base import EventBase

FieldPath = Annotated[
    str, StringConstraints(pattern=r"^[a-z_]+(\.([a-z_]+|\d+))*$", max_length=200)
]


class FactCorrected(EventBase):
    """`field_path` (dotted, from the corrected event's own fields, e.g.
    `report.child.date_of_birth` or `report.guardians.0.phone`) of the event `corrected_event_id`
    should have read `value`."""

    type: Literal["FactCorrected"] = "FactCorrected"
    schema_version: Literal[1] = 1
    corrected_event_id: UUID
    field_path: FieldPath
    value: JsonValue
