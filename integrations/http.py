"""The HTTP plumbing every outside-system client shares.

One `httpx.AsyncClient` per system, with connect and read timeouts from the settings. A call
either returns the typed answer or raises one of the errors of `integrations.errors`; the
mapping from HTTP to those errors is made here and nowhere else:

| answer                                   | raised                                   |
|------------------------------------------|------------------------------------------|
| 2xx with a body matching the answer type | (the answer)                             |
| 4xx with a problem body (a `code`)       | `BusinessRefusal(code, reason)`          |
| 408, 425, 429, 5xx, timeout, no connect  | `TransientFailure`                       |
| 2xx with a body that does not match      | `TransientFailure` (`unexpected_answer`) |
| any other 4xx                            | `RequestRejected`                        |

Personal data travels in request bodies only, never in paths or query strings (which servers and
proxies log). Nothing from a request body, and nothing a pydantic validation error would quote,
reaches an exception message or a log line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Self, TypeVar

import httpx
from pydantic import ValidationError

from caseflow.logs import get_logger
from caseflow.settings import Settings
from integrations.errors import BusinessRefusal, RequestRejected, TransientFailure
from integrations.wire import IDEMPOTENCY_KEY_HEADER, Answer, Problem, RequestBody

A = TypeVar("A", bound=Answer)

log = get_logger(__name__)

_TRANSIENT_4XX = frozenset({408, 425, 429})
_MAX_REASON_LENGTH = 500
# Resident identity numbers (18 digits, or the old 15) wherever they appear in a reason.
_ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Timeouts:
        return cls(
            connect=settings.outside_connect_timeout_seconds,
            read=settings.outside_call_timeout_seconds,
        )

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)


def redact(text: str, personal: Iterable[str]) -> str:
    """`text` with every personal value, and anything shaped like an identity number, removed."""
    for value in sorted({v for v in personal if len(v) >= 2}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _ID_NUMBER.sub(REDACTED, text)
    if len(text) > _MAX_REASON_LENGTH:
        text = text[: _MAX_REASON_LENGTH - 1] + "…"
    return text


class OutsideSystemClient:
    """Base of the clients: one connection pool to one outside system."""

    system: ClassVar[str]

    def __init__(self, base_url: str, *, timeouts: Timeouts) -> None:
        self._timeouts = timeouts
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeouts.for_httpx(),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        answer: type[A],
        *,
        body: RequestBody | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> A:
        headers = {IDEMPOTENCY_KEY_HEADER: idempotency_key} if idempotency_key else {}
        content = body.model_dump_json().encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = await self._http.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            self._log(operation, "timeout", started)
            raise TransientFailure(
                f"{self.system} did not answer {operation} in time "
                f"(connect {self._timeouts.connect:g} s, read {self._timeouts.read:g} s; "
                f"{type(exc).__name__}); retrying is safe",
                system=self.system,
                operation=operation,
                kind="timeout",
            ) from None
        except httpx.TransportError as exc:
            self._log(operation, "connection", started)
            raise TransientFailure(
                f"could not reach {self.system} for {operation} ({type(exc).__name__}); "
                "check that it is up and its URL is right",
                system=self.system,
                operation=operation,
                kind="connection",
            ) from None
        status = response.status_code
        self._log(operation, str(status), started)
        if 200 <= status < 300:
            return self._parse(operation, answer, response)
        if status >= 500 or status in _TRANSIENT_4XX:
            raise TransientFailure(
                f"{self.system} failed {operation} with HTTP {status}; retrying is safe",
                system=self.system,
                operation=operation,
                kind="throttled" if status == 429 else "server_error",
                status=status,
            )
        problem = _problem(response)
        if problem is None:
            raise RequestRejected(system=self.system, operation=operation, status=status)
        personal = body.personal_values() if body is not None else ()
        raise BusinessRefusal(
            problem.code,
            redact(problem.detail or problem.title, personal),
            system=self.system,
            operation=operation,
            status=status,
        )

    def _parse(self, operation: str, answer: type[A], response: httpx.Response) -> A:
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as invalid:
            # The validation error would quote the values it could not read: name only where.
            where = sorted({".".join(str(part) for part in e["loc"]) for e in invalid.errors()})
            raise TransientFailure(
                f"{self.system} answered {operation} with a body that is not a "
                f"{answer.__name__} (at {', '.join(where[:5]) or 'the top level'})",
                system=self.system,
                operation=operation,
                kind="unexpected_answer",
                status=response.status_code,
            ) from None

    def _log(self, operation: str, outcome: str, started: float) -> None:
        log.debug(
            "outside_call",
            system=self.system,
            operation=operation,
            outcome=outcome,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        )


def _problem(response: httpx.Response) -> Problem | None:
    try:
        return Problem.model_validate_json(response.content)
    except ValidationError:
        return None
