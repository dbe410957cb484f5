"""Cases: a caseworker reports a child; anyone with reach over the case reads it, its timeline,
and (auditors) the case as it stood at any moment."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, JsonValue
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.access import AUDITORS, READERS, case_in_reach, require_role
from api.auth import CurrentActor
from api.commanding import (
    IDEMPOTENCY_NAMESPACE,
    IdempotencyKey,
    refusal_of,
    refusal_problem,
)
from api.context import services
from api.problems import Problem, problem_responses
from domain.actors import Actor
from domain.child import ChildReport
from domain.codec import case_stream_id, decode
from domain.commands import check_may_report
from domain.errors import CommandRefused
from domain.events import HEADER_FIELDS, CaseEvent
from domain.state import CaseState
from store.events import EventStore, StoredEvent
from workflows.case import KEY_REUSED, CaseWorkflow
from workflows.messages import CaseOpenedReply, CaseStart, OpenCase

router = APIRouter(prefix="/cases", tags=["cases"])


def new_case_id(actor: Actor, idempotency_key: str | None) -> UUID:
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{actor.user_id}\n{idempotency_key}")


@router.post(
    "", status_code=201, response_model=CaseState, responses=problem_responses(403, 422, 503)
)
async def report_child(
    report: ChildReport,
    actor: CurrentActor,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaseState:
    """Report a child (caseworkers and supervisors, in their own area): opens the case and
    screens it. Answers once the events are stored."""
    state = await open_reported_case(request, actor, report, idempotency_key=idempotency_key)
    response.headers["Location"] = f"/cases/{state.case_id}"
    return state


async def open_reported_case(
    request: Request, actor: Actor, report: ChildReport, *, idempotency_key: str | None
) -> CaseState:
    """Open and screen the case of a reported child; its state once the events are stored, or
    the refusal as a problem (the API's `POST /cases` and the web UI's report form)."""
    context = services(request)
    if not await context.directory.area_exists(report.village):
        raise Problem(
            422,
            "Unknown village",
            f"village {report.village} is not in the area tree; check the village code",
            code="unknown_village",
        )
    try:
        check_may_report(actor, report, today=datetime.now(UTC))
    except CommandRefused as refusal:
        raise refusal_problem(refusal) from None

    case_id = new_case_id(actor, idempotency_key)
    start = WithStartWorkflowOperation(
        CaseWorkflow.run,
        CaseStart(case_id=case_id),
        id=case_stream_id(case_id),
        task_queue=context.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    command = OpenCase(
        report=report,
        actor=actor,
        request_fingerprint=hashlib.sha256(report.model_dump_json().encode()).hexdigest(),
    )
    try:
        # The update id is the idempotency key: a retried report is answered, not repeated.
        reply: CaseOpenedReply = await context.temporal.execute_update_with_start_workflow(
            "open_case",
            command,
            start_workflow_operation=start,
            id=f"open-{idempotency_key or case_id}",
            result_type=CaseOpenedReply,
        )
    except WorkflowUpdateFailedError as failure:
        refused = refusal_of(failure)
        if refused is None:
            raise
        raise refusal_problem(refused) from None
    if reply.request_fingerprint != command.request_fingerprint:
        raise refusal_problem(KEY_REUSED)
    return reply.state


@router.get("/{case_id}", response_model=CaseState, responses=problem_responses(403, 404))
async def get_case(
    case_id: UUID,
    actor: CurrentActor,
    request: Request,
    as_of: Annotated[
        AwareDatetime | None,
        Query(description="Auditors: the case as it stood at this moment (with its time zone)."),
    ] = None,
) -> CaseState:
    """The case as its events tell it (caseworkers, supervisors and auditors of its area); with
    `as_of`, as the events recorded by then tell it (auditors)."""
    require_role(actor, READERS, "read a case")
    if as_of is not None:
        require_role(actor, AUDITORS, "replay a case as of a moment")
    return await case_in_reach(request, actor, case_id, as_of=as_of)


class TimelineEntry(BaseModel):
    """One event of a case's history: what happened, when, who did it, why, and what caused it."""

    position: int = Field(description="The event's place in the whole log.")
    version: int = Field(description="The event's place in the case's history, from 1.")
    event_id: UUID
    type: str = Field(description="What happened, e.g. `AssessmentRecorded`.")
    occurred_at: datetime = Field(description="When it was decided.")
    recorded_at: datetime = Field(description="When the event store recorded it.")
    actor: Actor = Field(description="Who: user, role and area (`system`: the engine itself).")
    reason: str | None = Field(description="Why, in the actor's words, when given.")
    rule: str | None = Field(description="The rule that decided, where one did.")
    rule_version: str | None
    causation_id: UUID | None = Field(description="The event that caused this one, if not a user.")
    correlation_id: UUID | None
    facts: dict[str, JsonValue] = Field(description="What the event records besides the above.")


def timeline_entry(stored: StoredEvent, event: CaseEvent) -> TimelineEntry:
    facts: dict[str, Any] = event.model_dump(mode="json", exclude=set(HEADER_FIELDS))
    return TimelineEntry(
        position=stored.position,
        version=stored.version,
        event_id=event.event_id,
        type=event.type,
        occurred_at=event.occurred_at,
        recorded_at=stored.recorded_at,
        actor=event.actor,
        reason=event.reason,
        rule=getattr(event, "rule", None),
        rule_version=getattr(event, "rule_version", None),
        causation_id=event.causation_id,
        correlation_id=event.correlation_id,
        facts=facts,
    )


async def case_timeline(
    store: EventStore,
    case_id: UUID,
    *,
    after: datetime | None = None,
    until: datetime | None = None,
) -> list[TimelineEntry]:
    """The case's events recorded after `after` (exclusive) up to `until` (inclusive)."""
    entries = []
    for stored in await store.read_stream(case_stream_id(case_id), as_of=until):
        if after is not None and stored.recorded_at <= after:
            continue
        event = decode(
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            data=stored.data,
            metadata=stored.metadata,
        )
        entries.append(timeline_entry(stored, event))
    return entries


@router.get(
    "/{case_id}/timeline",
    response_model=list[TimelineEntry],
    responses=problem_responses(403, 404),
)
async def get_timeline(case_id: UUID, actor: CurrentActor, request: Request) -> list[TimelineEntry]:
    """Everything that happened to the case, oldest first (caseworkers, supervisors and auditors
    of its area)."""
    require_role(actor, READERS, "read a case's timeline")
    await case_in_reach(request, actor, case_id)
    return await case_timeline(services(request).events, case_id)
