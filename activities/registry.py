"""What a worker registers: every activity of caseflow, bound to its dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.civil_affairs import civil_affairs_activities
from activities.school import school_activities
from activities.store import StoreActivities
from integrations.clients import OutsideClients
from store.events import EventStore


def activities_for(store: EventStore, outside: OutsideClients) -> list[Callable[..., Any]]:
    return [
        StoreActivities(store).append_events,
        *civil_affairs_activities(outside.civil_affairs),
        *school_activities(outside.school),
    ]
