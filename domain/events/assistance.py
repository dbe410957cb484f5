"""Assistance: help requested, approved or rejected when it needs approval, and delivered."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.child import LongText, Text
from domain.events.base import EventBase
from domain.rules.assistance import AssistanceKind

MAX_QUANTITY = 10_000
MAX_VALUE_YUAN = 10_000_000


class AssistanceRequested(EventBase):
    """A caseworker asked for help for the child.

    `needs_approval` is what the rule decided: when true, nothing is delivered before
    `AssistanceApproved`. An emergency placement is delivered at once and approved afterwards.
    """

    type: Literal["AssistanceRequested"] = "AssistanceRequested"
    schema_version: Literal[1] = 1
    request_id: UUID
    kind: AssistanceKind
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit: Text
    value_yuan: int = Field(ge=0, le=MAX_VALUE_YUAN)
    purpose: LongText = ""
    needs_approval: bool
    emergency: bool = False
    rule: str
    rule_version: str


class AssistanceApproved(EventBase):
    """A supervisor's approval made the requested help deliverable."""

    type: Literal["AssistanceApproved"] = "AssistanceApproved"
    schema_version: Literal[1] = 1
    request_id: UUID
    approval_id: UUID


class AssistanceRejected(EventBase):
    """A supervisor rejected the requested help: it will not be delivered."""

    type: Literal["AssistanceRejected"] = "AssistanceRejected"
    schema_version: Literal[1] = 1
    request_id: UUID
    approval_id: UUID


class AssistanceDelivered(EventBase):
    """Help reached the child: what, how much, and what it was worth."""

    type: Literal["AssistanceDelivered"] = "AssistanceDelivered"
    schema_version: Literal[1] = 1
    delivery_id: UUID
    request_id: UUID
    kind: AssistanceKind
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit: Text
    value_yuan: int = Field(ge=0, le=MAX_VALUE_YUAN)
    delivered_on: date
