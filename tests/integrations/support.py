"""Helpers of the integration tests: a served simulator, its admin endpoint, personal data."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from integrations.errors import TransientFailure
from integrations.http import Timeouts
from integrations.simulation.service import Journal, SimulatedSystem
from integrations.simulation.world import SimulatedChild

SEED = "tests"
TIMEOUTS = Timeouts(connect=1.0, read=2.0)
SHORT_TIMEOUTS = Timeouts(connect=1.0, read=0.25)

S = TypeVar("S", bound=SimulatedSystem)
T = TypeVar("T")


@dataclass
class Running(Generic[S]):
    """A simulator served on a loopback port, and an HTTP client of its admin endpoints."""

    simulator: S
    url: str
    admin: httpx.AsyncClient

    async def configure(self, **changes: Any) -> None:
        """`PUT /_simulator/config`: the defaults of the tests' seed with `changes` on top."""
        response = await self.admin.put("/_simulator/config", json={"seed": SEED, **changes})
        response.raise_for_status()

    async def journal(self) -> Journal:
        response = await self.admin.get("/_simulator/journal")
        response.raise_for_status()
        return Journal.model_validate_json(response.content)

    async def effects_under(self, idempotency_key: str) -> int:
        journal = await self.journal()
        return sum(1 for effect in journal.effects if effect.idempotency_key == idempotency_key)


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = 40) -> tuple[T, int]:
    """What an activity's retry policy does, bounded: repeat `call` on transient failures.
    Returns the answer and how many attempts failed."""
    failed = 0
    for _ in range(attempts):
        try:
            return await call(), failed
        except TransientFailure:
            failed += 1
    raise AssertionError(f"no answer after {attempts} attempts")


def personal_values(child: SimulatedChild) -> list[str]:
    return [child.identity.name, child.id_number]


def assert_no_personal_data(error: BaseException, values: list[str]) -> None:
    """Neither the error's message nor anything a log would print of it names the child."""
    printed = "".join(traceback.format_exception(error))
    for text in (str(error), repr(error), printed):
        for value in values:
            assert value not in text, f"personal data leaked into {type(error).__name__}"
