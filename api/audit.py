"""Audit: what changed in a case between two moments, and whether the record is intact.

Moments are the event store's: a case "as of" a moment is the fold of the events recorded by
then (`recorded_at`), which is what anyone could have known at that moment. The integrity checks
recompute every event's hash chain and, for the whole log, the signed checkpoints
(store.integrity); they say where the first difference is, never what the events hold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field, JsonValue

from api.access import AUDITORS, VERIFIERS, case_in_reach, case_not_found, require_role
from api.auth import CurrentActor
from api.cases import TimelineEntry, case_timeline
from api.context import services
from api.database import database
from api.problems import Problem, problem_responses
from domain.codec import case_stream_id, decode
from domain.events import CaseOpened
from domain.state import CaseState
from store.case_history import load_case
from store.events import StoredEvent
from store.integrity import VerifyReport, signing_key_for, verify

router = APIRouter(tags=["audit"])


class FieldChange(BaseModel):
    field: str = Field(description="A top-level field of the case state.")
    before: JsonValue
    after: JsonValue


class CaseDiff(BaseModel):
    case_id: UUID
    from_: datetime = Field(alias="from")
    to: datetime
    existed_before: bool = Field(description="Whether the case had been reported by `from`.")
    events: list[TimelineEntry] = Field(description="The events recorded in between.")
    changes: list[FieldChange] = Field(description="The fields that differ, in state order.")


def changed_fields(before: CaseState | None, after: CaseState) -> list[FieldChange]:
    old: dict[str, Any] = before.model_dump(mode="json") if before is not None else {}
    new: dict[str, Any] = after.model_dump(mode="json")
    return [
        FieldChange(field=name, before=old.get(name), after=value)
        for name, value in new.items()
        if old.get(name) != value
    ]


@router.get(
    "/cases/{case_id}/diff",
    response_model=CaseDiff,
    response_model_by_alias=True,
    responses=problem_responses(403, 404, 422),
)
async def get_diff(
    case_id: UUID,
    actor: CurrentActor,
    request: Request,
    from_: Annotated[AwareDatetime, Query(alias="from", description="The earlier moment.")],
    to: Annotated[
        AwareDatetime | None, Query(description="The later moment (default: now).")
    ] = None,
) -> CaseDiff:
    """What changed in the case between two moments (auditors of its area): the events recorded
    in between and the fields of the state that differ."""
    require_role(actor, AUDITORS, "compare a case between two moments")
    until = to if to is not None else datetime.now(UTC)
    if from_ > until:
        raise Problem(
            422,
            "The request is not valid",
            "`from` is later than `to`; give the earlier moment as `from`",
            code="invalid_request",
        )
    after = await case_in_reach(request, actor, case_id, as_of=until)
    store = services(request).events
    before = await load_case(store, case_id, as_of=from_)
    return CaseDiff.model_validate(
        {
            "case_id": case_id,
            "from": from_,
            "to": until,
            "existed_before": before is not None,
            "events": await case_timeline(store, case_id, after=from_, until=until),
            "changes": changed_fields(before, after),
        }
    )


class IntegrityReport(BaseModel):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    first_problem: str | None = Field(
        description="Where the record first differs from its hashes or checkpoints (None: intact)."
    )
    checked_at: datetime


def integrity_report(report: VerifyReport) -> IntegrityReport:
    return IntegrityReport(
        ok=report.ok,
        events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked,
        first_problem=report.first_problem,
        checked_at=datetime.now(UTC),
    )


@router.get(
    "/cases/{case_id}/integrity",
    response_model=IntegrityReport,
    responses=problem_responses(403, 404),
)
async def get_case_integrity(
    case_id: UUID, actor: CurrentActor, request: Request
) -> IntegrityReport:
    """Check the case's hash chain (auditors and admins of its area)."""
    require_role(actor, VERIFIERS, "verify a case's record")
    # The area is read off the case's first event only: the rest may be what is damaged.
    stream_id = case_stream_id(case_id)
    first = await services(request).events.read_stream(stream_id, to_version=1)
    if not first or not actor.reaches(_village(first[0])):
        raise case_not_found(case_id)
    report = await verify(database(request), stream_id=stream_id, public_key=None)
    return integrity_report(report)


def _village(stored: StoredEvent) -> str:
    """The case's village, from its first event; none when that event cannot be read (the whole
    log's check then tells what is wrong with it)."""
    try:
        opened = decode(
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            data=stored.data,
            metadata=stored.metadata,
        )
    except ValueError:
        return ""
    return opened.report.village if isinstance(opened, CaseOpened) else ""


@router.get("/integrity", response_model=IntegrityReport, responses=problem_responses(403))
async def get_integrity(actor: CurrentActor, request: Request) -> IntegrityReport:
    """Check the whole event log: every hash chain and every signed checkpoint (auditors and
    admins)."""
    require_role(actor, VERIFIERS, "verify the record")
    key = signing_key_for(services(request).settings)
    report = await verify(database(request), public_key=key.public_key())
    return integrity_report(report)
