"""What a projection is: read-model tables, and the changes one batch of the log makes to them.

The projector (store/projections/projector.py) reads the log in batches, decodes each event,
folds it into the case's state with `domain.state.apply` (the one fold), and hands each
projection's `Changes` for the batch a `ProjectedEvent`: the event, where it stands in the log,
and the case's state before and after it. `Changes.add` derives the rows in memory, deciding
nothing about the case itself; `Changes.write` then writes the batch's rows set-based (a few
statements a batch, whatever its size), inside the batch's transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
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


class Changes(ABC):
    """What one batch of the log changes in a projection's tables.

    `add` is called for each event of the batch, in log order, and works in memory only; it
    raises when an event cannot be applied (the projection then stops right before it). `write`
    is called once, after the last `add`, inside the batch's transaction; the tables must end up
    exactly as if each event had been written on its own, in order. A failure `write` can pin on
    one event is raised as a `ProjectionError` with that event's `position`.
    """

    @abstractmethod
    def add(self, event: ProjectedEvent) -> None:
        """Take in the next event of the batch."""

    @abstractmethod
    async def write(self, connection: Connection) -> None:
        """Write what the batch's events change, on `connection`, inside its transaction."""


class Projection(ABC):
    """A read model: its tables, emptied by a rebuild, and how a batch of events changes them."""

    name: str
    # Every table holding this projection's rows, all of which a rebuild empties.
    tables: tuple[str, ...]

    @abstractmethod
    def changes(self) -> Changes:
        """Empty changes, for one batch."""


class ProjectionError(StoreError):
    """An event a projection cannot apply: it stays at the position before it until fixed.

    Messages name the projection, positions, event ids and types only, never event data.
    `position`, when known, is the log position of the event at fault.
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """`rows` (all of the same length, at least one) as a list of columns: the arrays a
    statement over `unnest` takes."""
    return [list(column) for column in zip(*rows, strict=True)]


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
