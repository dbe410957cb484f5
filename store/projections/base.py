"""What a projection is: read-model tables and a handler that applies one event to them.

The projector (store/projections/projector.py) reads the log, decodes each event, folds it into
the case's state with `domain.state.apply` (the one fold), and hands the handler a
`ProjectedEvent`: the event, where it stands in the log, and the case's state before and after
it. Handlers derive their rows from those states and the event's own facts; they decide nothing
about the case themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from domain.events import CaseEvent
from domain.state import CaseState, FoldError
from store.errors import StoreError

# A pool's connection, inside the transaction of one batch.
Connection: TypeAlias = asyncpg.pool.PoolConnectionProxy


@dataclass(frozen=True, slots=True)
class ProjectedEvent:
    position: int
    stream_id: str
    version: int
    event_id: UUID
    recorded_at: datetime
    event: CaseEvent
    before: CaseState | None  # None before the case was opened
    after: CaseState


class Projection(ABC):
    """A read model: its tables, emptied by a rebuild, and how one event changes them."""

    name: str
    # Every table holding this projection's rows, all of which a rebuild empties.
    tables: tuple[str, ...]

    @abstractmethod
    async def handle(self, connection: Connection, event: ProjectedEvent) -> None:
        """Apply `event` to the read model, inside the batch's transaction on `connection`."""


class ProjectionError(StoreError):
    """An event a projection cannot apply: it stays at the position before it until fixed.

    Messages name the projection, positions, event ids and types only, never event data.
    """


def describe_failure(error: BaseException) -> str:
    """Why an event could not be projected, without quoting it: a pydantic error's message
    repeats the input (children's data), so only the failing fields and error kinds are kept."""
    if isinstance(error, ValidationError):
        where = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or 'event'}: {detail['type']}"
            for detail in error.errors()[:5]
        )
        return f"does not decode as a case event ({where})"
    if isinstance(error, FoldError):
        return f"does not follow the case's state: {error}"  # fold errors name ids only
    if isinstance(error, ProjectionError):
        return str(error)
    return type(error).__name__
