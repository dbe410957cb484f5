"""Sending a command to a case's workflow, and turning its refusals into problems.

Every command endpoint ends in `send_command`: the API checks the caller's role, then sends the
command as the workflow's `command` update, whose validator checks that the case lies in the
caller's area, then role and area again with the case's state (a refused command writes nothing);
a case out of reach answers exactly like one that does not exist. The area is checked against the
case as its workflow holds it, not read back from the event store first: that read cost a query
and a fold of the case's whole history on every command. The update id is
made from the caller, their `Idempotency-Key` and the command itself: the same request sent again
with the same key is answered with the first outcome, not carried out twice; a different command
under a key already used is a request of its own (never answered with another command's outcome);
without a key every request is a new command.

Refusals and their HTTP status, one mapping for the whole API (`code` names the refusal):

- 403 Not allowed: the caller's role may not do this (`role_not_allowed`), or it is their own
  request (`own_request`), or what is acted on rests beyond their area although the case does
  not (`outside_area`: an approval escalated above a township supervisor; a child reported in a
  village outside the caller's area).
- 404 Not found: the case does not exist **or lies outside the caller's area** -- the same
  `case_not_found` problem, word for word, so nobody learns which cases exist elsewhere; or
  something named inside a case the caller sees does not exist (`not_found`).
- 409 The command does not fit the case as it stands: every other refusal (`case_closed`,
  `case_open`, `in_progress`, `wrong_stage`, `not_assessed`, `not_pending`,
  `awaiting_approval`, `over_delivery`, `closure_pending`, `case_inactive`, ...).
- 422 The request is not valid, whatever the case: `invalid_request` (its shape), `in_future`,
  `birth_in_future`, `not_a_child`, `reason_required`, `reasons_required`, `comment_required`,
  `allowance_amount_required`, `not_a_placement`, `wrong_facts`, `not_correctable`,
  `idempotency_key_reused`.
- 503 The case engine is unavailable (`engine_unavailable`): Temporal did not answer in time, or
  the command could not be recorded; retry with the same Idempotency-Key.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Final, TypeVar
from uuid import UUID

from fastapi import Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.access import STAFF, case_in_reach, case_not_found, require_role
from api.context import services
from api.problems import Problem, problem_responses
from domain.actors import Actor, Role
from domain.codec import case_stream_id
from domain.commands import CaseCommand, Command
from domain.errors import CommandRefused
from workflows.case import OUT_OF_REACH
from workflows.messages import CaseReply, CommandRequest

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

# Idempotency keys are the caller's own: ids made from them include the user id, so two users'
# keys never meet.
IDEMPOTENCY_NAMESPACE: Final = UUID("8f0a7c1e-3b7d-4d6e-9a51-3c1f2b6d9e40")

FORBIDDEN: Final = frozenset({"role_not_allowed", "own_request", "outside_area"})
INVALID: Final = frozenset(
    {
        "idempotency_key_reused",
        "birth_in_future",
        "not_a_child",
        "in_future",
        "reason_required",
        "reasons_required",
        "comment_required",
        "allowance_amount_required",
        "not_a_placement",
        "wrong_facts",
        "not_correctable",
    }
)
TITLES: Final = {
    403: "Not allowed",
    404: "Not found",
    409: "The command does not fit the case as it stands",
    422: "The request is not valid",
}

COMMAND_RESPONSES: Final = problem_responses(403, 404, 409, 422, 503)
# The workflow's refusals that answer 404 `case_not_found`: no case yet, or one out of reach.
HIDDEN: Final = frozenset({"no_case", OUT_OF_REACH})

_Command = TypeVar("_Command", bound=Command)


def refusal_status(code: str) -> int:
    if code in FORBIDDEN:
        return 403
    if code == "not_found":
        return 404
    if code in INVALID:
        return 422
    return 409


def refusal_problem(refusal: CommandRefused) -> Problem:
    status = refusal_status(refusal.code)
    return Problem(status, TITLES[status], refusal.reason, code=refusal.code)


def refusal_of(failure: WorkflowUpdateFailedError) -> CommandRefused | None:
    """The domain's refusal a failed update carries, if that is why it failed."""
    cause = failure.cause
    if isinstance(cause, ApplicationError) and cause.type == "CommandRefused":
        code = str(cause.details[0]) if cause.details else "refused"
        return CommandRefused(code, cause.message)
    return None


def engine_unavailable(what: str) -> Problem:
    return Problem(
        503,
        "The case engine is unavailable",
        f"{what}; retry shortly with the same Idempotency-Key",
        code="engine_unavailable",
    )


def update_id(actor: Actor, idempotency_key: str | None, command: CaseCommand) -> str:
    if idempotency_key is None:
        return f"command-{uuid.uuid4()}"
    # Temporal answers a known update id with its first outcome, whatever the new argument: the
    # command is part of the id, so a key reused for another command cannot get that answer.
    fingerprint = hashlib.sha256(command.model_dump_json().encode()).hexdigest()
    name = f"command\n{actor.user_id}\n{idempotency_key}\n{fingerprint}"
    return f"command-{uuid.uuid5(IDEMPOTENCY_NAMESPACE, name)}"


def command_from(model: type[_Command], body: BaseModel, **path_ids: UUID) -> _Command:
    """The domain command made of a request body and the ids in the path."""
    try:
        return model.model_validate({**body.model_dump(), **path_ids})
    except ValidationError as error:
        # The same problem as any invalid body: fields and messages, never the values sent.
        raise RequestValidationError(
            [{**detail, "loc": ("body", *detail["loc"])} for detail in error.errors()]
        ) from None


async def send_command(
    request: Request,
    actor: Actor,
    case_id: UUID,
    command: CaseCommand,
    *,
    idempotency_key: str | None,
    roles: frozenset[Role] = STAFF,
) -> CaseReply:
    """Have the case's workflow decide `command`; its answer, or the refusal as a problem."""
    require_role(actor, roles, f"send the command {command.command}")
    handle = services(request).temporal.get_workflow_handle(case_stream_id(case_id))
    try:
        reply: CaseReply = await handle.execute_update(
            "command",
            CommandRequest(command=command, actor=actor),
            id=update_id(actor, idempotency_key, command),
            result_type=CaseReply,
        )
    except WorkflowUpdateFailedError as failure:
        refusal = refusal_of(failure)
        if refusal is None:
            raise engine_unavailable("the command could not be recorded") from None
        if refusal.code in HIDDEN:
            raise case_not_found(case_id) from None
        raise refusal_problem(refusal) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise engine_unavailable("the case engine did not answer in time") from None
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        # No workflow: the case never existed, or it was closed for good (the child came of
        # age) and its workflow ended. The event store tells which, and whether the caller may
        # know (404 `case_not_found` if not).
        await case_in_reach(request, actor, case_id)
        raise Problem(
            409,
            TITLES[409],
            f"case {case_id} is closed for good and takes no more commands",
            code="case_inactive",
        ) from None
    return reply
