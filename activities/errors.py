"""How outside systems' failures reach a workflow, and how calls to them are retried.

An activity that calls civil affairs or the school system turns the client's errors into
Temporal failures a workflow can act on:

| client error       | Temporal failure                                                      |
|--------------------|-----------------------------------------------------------------------|
| `BusinessRefusal`  | `ApplicationError(reason, code, type="BusinessRefusal", non_retryable)` |
| `RequestRejected`  | `ApplicationError(..., type="OutsideRequestRejected", non_retryable)`  |
| `TransientFailure` | `ApplicationError(..., type="OutsideSystemUnavailable")`, retried      |

A workflow schedules these activities with `OUTSIDE_CALL_RETRY_POLICY` and reads a refusal with
`refusal_of(error)` to take the documented alternative path (no place: look elsewhere; guardian
not eligible: propose another). Failure messages are not encrypted by the payload codec: they
carry codes and reasons, never a child's name, identity number or address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from integrations.errors import BusinessRefusal, RequestRejected, TransientFailure

BUSINESS_REFUSAL = "BusinessRefusal"
OUTSIDE_REQUEST_REJECTED = "OutsideRequestRejected"
OUTSIDE_SYSTEM_UNAVAILABLE = "OutsideSystemUnavailable"

OUTSIDE_CALL_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[BUSINESS_REFUSAL, OUTSIDE_REQUEST_REJECTED],
)
"""Retry outside calls with backoff up to once a minute, for as long as the activity's
schedule-to-close timeout allows; never retry a refusal or a rejected request."""

OUTSIDE_CALL_START_TO_CLOSE = timedelta(seconds=30)
"""One attempt of an outside call: above the client's connect + read timeouts (3 s + 10 s by
default), so a slow answer fails in the client, as a retryable timeout, before Temporal's timer."""

RECOGNITION_POLL_HEARTBEAT_TIMEOUT = timedelta(seconds=30)
"""`await_recognition_decision` heartbeats before every poll and after every answer; with the
default poll interval (10 s) and read timeout (10 s) it stays well inside this."""


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    reason: str


def refusal_of(error: BaseException) -> Refusal | None:
    """The outside system's refusal behind an activity failure, or None when it was not one.

    Takes what a workflow catches (`ActivityError`) or its cause (`ApplicationError`).
    """
    cause = error.cause if isinstance(error, ActivityError) else error
    if not isinstance(cause, ApplicationError) or cause.type != BUSINESS_REFUSAL:
        return None
    code = str(cause.details[0]) if cause.details else ""
    return Refusal(code=code, reason=cause.message)


@contextmanager
def outside_call() -> Iterator[None]:
    """Turn the client errors raised inside the block into Temporal failures (table above)."""
    try:
        yield
    except BusinessRefusal as refusal:
        raise ApplicationError(
            refusal.reason, refusal.code, type=BUSINESS_REFUSAL, non_retryable=True
        ) from None
    except RequestRejected as rejected:
        raise ApplicationError(
            str(rejected), type=OUTSIDE_REQUEST_REJECTED, non_retryable=True
        ) from None
    except TransientFailure as failure:
        raise ApplicationError(str(failure), type=OUTSIDE_SYSTEM_UNAVAILABLE) from None
