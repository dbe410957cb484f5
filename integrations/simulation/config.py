"""How a simulator behaves: set at start (flags, `CASEFLOW_SIMULATOR_*` variables) and changed
while it runs with `PUT /_simulator/config`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FailureKind(StrEnum):
    error = "error"  # answer 500
    hang = "hang"  # say nothing for `hang_seconds` (past the client's timeout), then 500
    mixed = "mixed"  # either, half and half


class FailureTiming(StrEnum):
    before = "before"  # fail before doing the work
    after = "after"  # do the work, then fail to answer: the caller cannot tell it was done
    mixed = "mixed"


class DecisionMode(StrEnum):
    approve = "approve"
    deny = "deny"
    late = "late"  # undecided until `late_after_polls` polls and `late_after_seconds` passed


class Outcome(StrEnum):
    approve = "approve"
    deny = "deny"


class SimulatorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: str = Field(
        default="caseflow",
        min_length=1,
        max_length=100,
        description="Seed of the generated villages, people, institutions and schools.",
    )
    latency_ms: float = Field(default=0, ge=0, le=60_000, description="Added to every call.")
    jitter_ms: float = Field(
        default=0, ge=0, le=60_000, description="Up to this much more, at random, per call."
    )
    failure_rate: float = Field(
        default=0, ge=0, le=1, description="Fraction of calls that fail (see failure_kind)."
    )
    failure_kind: FailureKind = FailureKind.error
    failure_timing: FailureTiming = FailureTiming.mixed
    hang_seconds: float = Field(
        default=30, gt=0, le=600, description="How long a hanging call says nothing."
    )
    decision_mode: DecisionMode = Field(
        default=DecisionMode.approve,
        description=(
            "How decisions go: recognition, guardianship registration, places, tuition waivers. "
            "`late` holds recognition decisions back; the others then follow `late_outcome`."
        ),
    )
    late_after_polls: int = Field(default=3, ge=0, le=1000)
    late_after_seconds: float = Field(default=0, ge=0, le=86_400)
    late_outcome: Outcome = Outcome.approve
    derive_unknown: bool = Field(
        default=True,
        description=(
            "Answer for a child the generated world does not hold by generating one from its id "
            "number or case reference (so the engine's own children are known). False: refuse "
            "them as unknown."
        ),
    )


class _SimulatorEnvironment(BaseSettings, SimulatorConfig):
    model_config = SettingsConfigDict(env_prefix="CASEFLOW_SIMULATOR_", extra="ignore")


def simulator_config(**overrides: Any) -> SimulatorConfig:
    """The configuration from `CASEFLOW_SIMULATOR_*` variables, with `overrides` (flags) on top;
    overrides given as None are left out."""
    from_environment = _SimulatorEnvironment().model_dump()
    given = {name: value for name, value in overrides.items() if value is not None}
    return SimulatorConfig.model_validate({**from_environment, **given})
