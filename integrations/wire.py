"""What every outside system's contract shares: references, idempotency keys, refusal bodies.

Both the clients and the simulators read and write these types, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
PROBLEM_MEDIA_TYPE = "application/problem+json"

IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")]
CaseReference = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"),
    Field(description="How the outside system knows a case: caseflow's case id."),
]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
CountyCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
IdNumber = Annotated[str, StringConstraints(pattern=r"^\d{17}[\dXx]$")]
Term = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-(spring|autumn)$"), Field(examples=["2025-autumn"])
]
SchoolYear = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{4}$"), Field(examples=["2025-2026"])
]


class RequestBody(BaseModel):
    """A request sent to an outside system.

    A body that carries personal data names it in `personal_values`, so whatever the outside
    system echoes back in a refusal is scrubbed of it before it reaches an error message.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def personal_values(self) -> tuple[str, ...]:
        return ()


class Answer(BaseModel):
    """An outside system's answer. Unknown fields are ignored: systems add fields over time."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Problem(BaseModel):
    """A refusal, as RFC 9457 problem details with a machine-readable `code`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = ""
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
