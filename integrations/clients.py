"""The clients of every outside system, opened together for a worker's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from caseflow.settings import Settings
from integrations.civil_affairs.client import CivilAffairsClient
from integrations.school.client import SchoolClient


@dataclass(frozen=True, slots=True)
class OutsideClients:
    civil_affairs: CivilAffairsClient
    school: SchoolClient


@asynccontextmanager
async def open_outside_clients(settings: Settings) -> AsyncIterator[OutsideClients]:
    """Clients of the configured systems (or of the simulators), closed when the block ends."""
    async with (
        CivilAffairsClient.from_settings(settings) as civil_affairs,
        SchoolClient.from_settings(settings) as school,
    ):
        yield OutsideClients(civil_affairs=civil_affairs, school=school)
