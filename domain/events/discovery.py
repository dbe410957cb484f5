"""Discovery: a child is reported, a case opens, and a caseworker is responsible for it."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from domain.child import ChildReport
from domain.events.base import EventBase


class CaseOpened(EventBase):
    """A child was reported and the program opened a case for them."""

    type: Literal["CaseOpened"] = "CaseOpened"
    schema_version: Literal[1] = 1
    case_id: UUID
    report: ChildReport


class CaseworkerAssigned(EventBase):
    """A supervisor made another caseworker responsible for the case (the reporter by default)."""

    type: Literal["CaseworkerAssigned"] = "CaseworkerAssigned"
    schema_version: Literal[1] = 1
    caseworker: str
