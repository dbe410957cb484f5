"""Transfer to a child welfare institution or a boarding school: proposed, approved, a place
confirmed (or refused) by the institution or school system, then the child moves."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from domain.child import Text
from domain.events.base import EventBase


class DestinationKind(StrEnum):
    institution = "institution"
    boarding_school = "boarding_school"


class TransferProposed(EventBase):
    type: Literal["TransferProposed"] = "TransferProposed"
    schema_version: Literal[1] = 1
    transfer_id: UUID
    destination_kind: DestinationKind
    destination: Text


class TransferPlaceConfirmed(EventBase):
    type: Literal["TransferPlaceConfirmed"] = "TransferPlaceConfirmed"
    schema_version: Literal[1] = 1
    transfer_id: UUID
    place_reference: Text | None = None


class TransferPlaceRefused(EventBase):
    type: Literal["TransferPlaceRefused"] = "TransferPlaceRefused"
    schema_version: Literal[1] = 1
    transfer_id: UUID
    refused_because: Text


class ChildTransferred(EventBase):
    type: Literal["ChildTransferred"] = "ChildTransferred"
    schema_version: Literal[1] = 1
    transfer_id: UUID
    transferred_on: date
