"""The inputs and answers of the case workflow's run, updates and queries.

One model per message, so a field can be added later without breaking running cases.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from domain.actors import Actor
from domain.child import ChildReport
from domain.state import CaseState


class CaseStart(BaseModel):
    """How a case workflow run begins: empty for a new case, or carried over by continue-as-new."""

    case_id: UUID
    state: CaseState | None = None
    opening_fingerprint: str | None = None


class OpenCase(BaseModel):
    """A caseworker reports a child. `request_fingerprint` identifies the request's content, so a
    retried request is answered and a different request under the same idempotency key refused."""

    report: ChildReport
    actor: Actor
    request_fingerprint: str


class CaseReply(BaseModel):
    state: CaseState


class CaseOpenedReply(CaseReply):
    """The opened case, with the fingerprint of the report that opened it: Temporal answers a
    repeated update id with the first outcome, so the caller compares fingerprints."""

    request_fingerprint: str
