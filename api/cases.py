"""Cases: a caseworker reports a child; anyone with reach over the case reads it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from api.auth import CurrentActor
from api.context import services
from api.problems import Problem
from domain.actors import Actor, Role
from domain.child import ChildReport
from domain.codec import case_stream_id
from domain.commands import check_may_report
from domain.errors import CommandRefused
from domain.state import CaseState
from store.case_history import load_case
from workflows.case import KEY_REUSED, CaseWorkflow
from workflows.messages import CaseOpenedReply, CaseStart, OpenCase

router = APIRouter(prefix="/cases", tags=["cases"])

# Idempotency keys are scoped to the user who sent them: the case id is derived from both, so
# a retried report finds the same workflow and the same update.
IDEMPOTENCY_NAMESPACE = UUID("8f0a7c1e-3b7d-4d6e-9a51-3c1f2b6d9e40")
READING_ROLES = frozenset({Role.caseworker, Role.supervisor, Role.auditor})

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Send the same key to retry a request safely: it is answered, not repeated.",
    ),
]

REFUSAL_STATUS = {
    "role_not_allowed": 403,
    "outside_area": 403,
    "idempotency_key_reused": 422,
}


def refusal_problem(refusal: CommandRefused) -> Problem:
    status = REFUSAL_STATUS.get(refusal.code, 422)
    return Problem(status, "The command was refused", refusal.reason, code=refusal.code)


def new_case_id(actor: Actor, idempotency_key: str | None) -> UUID:
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{actor.user_id}\n{idempotency_key}")


@router.post("", status_code=201, response_model=CaseState)
async def report_child(
    report: ChildReport,
    actor: CurrentActor,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaseState:
    """Report a child: opens the case and screens it. Answers once the events are stored."""
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
        cause = failure.cause
        if isinstance(cause, ApplicationError) and cause.type == "CommandRefused":
            code = str(cause.details[0]) if cause.details else "refused"
            raise refusal_problem(CommandRefused(code, cause.message)) from None
        raise
    if reply.request_fingerprint != command.request_fingerprint:
        raise refusal_problem(KEY_REUSED)
    response.headers["Location"] = f"/cases/{case_id}"
    return reply.state


@router.get("/{case_id}", response_model=CaseState)
async def get_case(case_id: UUID, actor: CurrentActor, request: Request) -> CaseState:
    """The case as its events tell it."""
    state = await load_case(services(request).events, case_id)
    # A case outside the caller's reach answers exactly like a case that does not exist.
    if state is None or actor.role not in READING_ROLES or not actor.reaches(state.village):
        raise Problem(404, "Case not found", f"there is no case {case_id} that you can see")
    return state
