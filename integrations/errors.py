"""How a call to an outside system fails, in the caller's terms.

Three kinds, because the caller does something different for each:

- `BusinessRefusal`: the system answered and said no (no place, not eligible, unknown
  household). Asking again gets the same no; the case takes its documented alternative path.
- `TransientFailure`: no usable answer (a 5xx, a timeout, a refused connection, throttling).
  Safe to retry, because every mutating call carries an idempotency key.
- `RequestRejected`: the system rejected the request itself (a 4xx that is not a refusal: a
  malformed request, missing credentials). Repeating it cannot help; the caller must be fixed.

Messages name the system, the operation, the HTTP status and the refusal code, never a child's
name, identity number or address: they end up in Temporal failures and logs, which a codec does not
encrypt.
"""

from __future__ import annotations

from typing import Literal

TransientKind = Literal["timeout", "connection", "server_error", "throttled", "unexpected_answer"]


class OutsideSystemError(Exception):
    def __init__(self, message: str, *, system: str, operation: str) -> None:
        super().__init__(message)
        self.system = system
        self.operation = operation


class BusinessRefusal(OutsideSystemError):
    """The outside system said no; `code` says which no, `reason` says why in words."""

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        system: str = "outside system",
        operation: str = "call",
        status: int | None = None,
    ) -> None:
        super().__init__(
            f"{system} refused {operation} ({code}): {reason}", system=system, operation=operation
        )
        self.code = code
        self.reason = reason
        self.status = status


class TransientFailure(OutsideSystemError):
    """No usable answer this time; the same call (same idempotency key) may be repeated."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str,
        kind: TransientKind,
        status: int | None = None,
    ) -> None:
        super().__init__(message, system=system, operation=operation)
        self.kind = kind
        self.status = status


class RequestRejected(OutsideSystemError):
    """The outside system rejected the request as such; repeating it cannot help."""

    def __init__(self, *, system: str, operation: str, status: int) -> None:
        super().__init__(
            f"{system} rejected the {operation} request with HTTP {status} and no refusal "
            "code: the request or the client's configuration is wrong",
            system=system,
            operation=operation,
        )
        self.status = status
