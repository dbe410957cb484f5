"""What a worker registers: every activity of caseflow, bound to its dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.store import StoreActivities
from store.events import EventStore


def activities_for(store: EventStore) -> list[Callable[..., Any]]:
    return [StoreActivities(store).append_events]
