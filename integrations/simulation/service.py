"""The behaviour every simulated system shares: latency, injected failures, idempotency, refusals
as problem details, and the `/_simulator` admin endpoints.

A route states what it does as a plain function (its *effect*) and hands it to `answer` (a
look-up) or `answer_once` (a call that changes something, under an idempotency key). Those two
decide, before anything else, whether this call will fail and how, so that a failure "after"
happens to a call whose effect is already recorded: exactly what a caller of a real system cannot
tell apart from a failure before.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from integrations.simulation.config import (
    DecisionMode,
    FailureKind,
    FailureTiming,
    Outcome,
    SimulatorConfig,
)
from integrations.wire import (
    IDEMPOTENCY_KEY_HEADER,
    PROBLEM_MEDIA_TYPE,
    REPLAYED_HEADER,
    IdempotencyKey,
    Problem,
)

M = TypeVar("M", bound=BaseModel)

IdempotencyKeyHeader = Annotated[str | None, Header(alias=IDEMPOTENCY_KEY_HEADER)]


class Refused(Exception):
    """Raised by an effect: the simulated system says no. Answered as a problem body."""

    def __init__(self, status: int, code: str, title: str, detail: str = "") -> None:
        super().__init__(code)
        self.problem = Problem(status=status, code=code, title=title, detail=detail)


class _InjectedFailure(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Failure:
    hang: bool
    after: bool


@dataclass(frozen=True, slots=True)
class _Recorded:
    fingerprint: str
    status: int
    body: dict[str, Any]


class Effect(BaseModel):
    """One change a simulated system made, in the order made."""

    model_config = ConfigDict(frozen=True)

    operation: str
    idempotency_key: str
    resource: str
    at: datetime


class Journal(BaseModel):
    model_config = ConfigDict(frozen=True)

    calls: int
    failures_injected: int
    replays: int
    effects: list[Effect]


class Health(BaseModel):
    system: str
    status: str = "ok"


class _KeyCheck(BaseModel):
    key: IdempotencyKey


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json"), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE
    )


class SimulatedSystem:
    """A FastAPI app with the behaviour of a real outside system; subclasses add the routes."""

    def __init__(self, system: str, title: str, config: SimulatorConfig) -> None:
        self.system = system
        self.configure(config)
        self._records: dict[tuple[str, str], _Recorded] = {}
        self._effects: list[Effect] = []
        self._calls = 0
        self._failures = 0
        self._replays = 0
        self.app = FastAPI(title=title, docs_url=None, redoc_url=None)
        self.app.exception_handler(Refused)(self._refused)
        self.app.exception_handler(_InjectedFailure)(self._failed)
        self._admin_routes()

    def configure(self, config: SimulatorConfig) -> None:
        self.config = config
        self._random = random.Random(f"{config.seed}:{self.system}:behaviour")

    # --- what routes call ------------------------------------------------------------------

    async def answer(self, effect: Callable[[], M]) -> M:
        """A call that changes nothing: it may be slow or fail, then it answers."""
        failure = self._begin()
        await self._delay()
        if failure is not None:
            await self._fail(failure)
        return effect()

    async def answer_once(
        self,
        operation: str,
        idempotency_key: str | None,
        request: BaseModel,
        effect: Callable[[str], tuple[str, BaseModel]],
    ) -> JSONResponse:
        """A call that changes something, done at most once per idempotency key; 201 when done.

        `effect(key)` does the change and returns (the reference of what it made, the answer), or
        raises `Refused`. Its answer, refusal included, is recorded under the key: the same key
        with the same request gets the same answer and no second effect; the same key with a
        different request is refused.
        """
        key = _checked_key(idempotency_key)
        failure = self._begin()
        await self._delay()
        if failure is not None and not failure.after:
            await self._fail(failure)
        fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        recorded = self._records.get((operation, key))
        replayed = recorded is not None
        if recorded is None:
            recorded = self._do(operation, key, fingerprint, effect)
        elif recorded.fingerprint != fingerprint:
            raise Refused(
                422,
                "idempotency_key_reused",
                "Idempotency key reused for a different request",
                f"The key was first used for another {operation} request; a new request needs "
                "a new key.",
            )
        else:
            self._replays += 1
        if failure is not None and failure.after:
            await self._fail(failure)
        headers = {REPLAYED_HEADER: "true"} if replayed else None
        media_type = PROBLEM_MEDIA_TYPE if recorded.status >= 400 else "application/json"
        return JSONResponse(
            recorded.body, status_code=recorded.status, media_type=media_type, headers=headers
        )

    def made_id(self, operation: str, idempotency_key: str) -> uuid.UUID:
        """The id of what a call makes: the same for the same key, different for another."""
        name = f"{self.config.seed}:{self.system}:{operation}:{idempotency_key}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name)

    def reference(self, prefix: str, operation: str, idempotency_key: str) -> str:
        """`made_id` written as a short reference, e.g. `PR-1F3A...`."""
        return f"{prefix}-{self.made_id(operation, idempotency_key).hex[:16].upper()}"

    def decides_approve(self) -> bool:
        """How an immediate decision (registration, place, waiver) goes under the current mode."""
        if self.config.decision_mode is DecisionMode.late:
            return self.config.late_outcome is Outcome.approve
        return self.config.decision_mode is DecisionMode.approve

    # --- the machinery ---------------------------------------------------------------------

    def _do(
        self,
        operation: str,
        key: str,
        fingerprint: str,
        effect: Callable[[str], tuple[str, BaseModel]],
    ) -> _Recorded:
        # No await between looking the key up and recording the answer: on one event loop, two
        # calls with the same key cannot both do the effect.
        try:
            resource, answer = effect(key)
        except Refused as refused:
            recorded = _Recorded(
                fingerprint, refused.problem.status, refused.problem.model_dump(mode="json")
            )
        else:
            recorded = _Recorded(fingerprint, 201, answer.model_dump(mode="json"))
            self._effects.append(
                Effect(
                    operation=operation,
                    idempotency_key=key,
                    resource=resource,
                    at=datetime.now(UTC),
                )
            )
        self._records[(operation, key)] = recorded
        return recorded

    def _begin(self) -> _Failure | None:
        """Count the call and decide now whether, and how, it will fail."""
        self._calls += 1
        config = self.config
        if config.failure_rate <= 0 or self._random.random() >= config.failure_rate:
            return None
        self._failures += 1
        hang = config.failure_kind is FailureKind.hang or (
            config.failure_kind is FailureKind.mixed and self._random.random() < 0.5
        )
        after = config.failure_timing is FailureTiming.after or (
            config.failure_timing is FailureTiming.mixed and self._random.random() < 0.5
        )
        return _Failure(hang=hang, after=after)

    async def _delay(self) -> None:
        seconds = (self.config.latency_ms + self._random.uniform(0, self.config.jitter_ms)) / 1000
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def _fail(self, failure: _Failure) -> None:
        if failure.hang:
            await asyncio.sleep(self.config.hang_seconds)
        raise _InjectedFailure

    async def _refused(self, _request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refused)
        return problem_response(exc.problem)

    async def _failed(self, _request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"title": "Internal error (simulated)", "status": 500},
            status_code=500,
            media_type=PROBLEM_MEDIA_TYPE,
        )

    def _admin_routes(self) -> None:
        app = self.app

        @app.get("/_simulator/health", tags=["simulator"])
        async def health() -> Health:
            return Health(system=self.system)

        @app.get("/_simulator/config", tags=["simulator"])
        async def get_config() -> SimulatorConfig:
            return self.config

        @app.put("/_simulator/config", tags=["simulator"])
        async def put_config(config: SimulatorConfig) -> SimulatorConfig:
            """Replace the behaviour (fields left out take their defaults).

            The chances (latency jitter, which calls fail) restart from the seed, so what follows
            a PUT is reproducible. The generated world keeps the seed it was started with.
            """
            self.configure(config)
            return self.config

        @app.get("/_simulator/journal", tags=["simulator"])
        async def journal() -> Journal:
            return Journal(
                calls=self._calls,
                failures_injected=self._failures,
                replays=self._replays,
                effects=list(self._effects),
            )


def _checked_key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        raise Refused(
            400,
            "idempotency_key_required",
            "Idempotency-Key header required",
            "Every call that changes something carries an Idempotency-Key header.",
        )
    try:
        return _KeyCheck(key=idempotency_key).key
    except ValidationError:
        raise Refused(
            400,
            "idempotency_key_invalid",
            "Idempotency-Key header malformed",
            "A key is 1 to 200 letters, digits and . _ : - characters.",
        ) from None
