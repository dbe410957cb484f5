"""Guardian change: a new caregiver proposed, approved by a supervisor, registered with civil
affairs."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from domain.child import Guardian, Text
from domain.events.base import EventBase


class GuardianChangeProposed(EventBase):
    type: Literal["GuardianChangeProposed"] = "GuardianChangeProposed"
    schema_version: Literal[1] = 1
    change_id: UUID
    new_guardian: Guardian


class GuardianChangeRegistered(EventBase):
    """Civil affairs registered the approved guardian: they are now the child's guardian."""

    type: Literal["GuardianChangeRegistered"] = "GuardianChangeRegistered"
    schema_version: Literal[1] = 1
    change_id: UUID
    registered_on: date
    registration_reference: Text | None = None
