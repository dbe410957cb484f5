"""Simulators served by uvicorn on free loopback ports, one per test module, reset per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.school.client import SchoolClient
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.config import SimulatorConfig
from integrations.simulators import serving
from tests.integrations.support import SEED, TIMEOUTS, Running


@pytest_asyncio.fixture(scope="module")
async def civil_affairs_served() -> AsyncIterator[Running[CivilAffairsSimulator]]:
    simulator = CivilAffairsSimulator(SimulatorConfig(seed=SEED))
    async with serving(simulator.app) as url, httpx.AsyncClient(base_url=url, timeout=5) as admin:
        yield Running(simulator, url, admin)


@pytest_asyncio.fixture(scope="module")
async def school_served() -> AsyncIterator[Running[SchoolSimulator]]:
    simulator = SchoolSimulator(SimulatorConfig(seed=SEED))
    async with serving(simulator.app) as url, httpx.AsyncClient(base_url=url, timeout=5) as admin:
        yield Running(simulator, url, admin)


@pytest_asyncio.fixture
async def civil_affairs(
    civil_affairs_served: Running[CivilAffairsSimulator],
) -> Running[CivilAffairsSimulator]:
    await civil_affairs_served.configure()
    return civil_affairs_served


@pytest_asyncio.fixture
async def school(school_served: Running[SchoolSimulator]) -> Running[SchoolSimulator]:
    await school_served.configure()
    return school_served


@pytest_asyncio.fixture
async def civil_affairs_client(
    civil_affairs: Running[CivilAffairsSimulator],
) -> AsyncIterator[CivilAffairsClient]:
    async with CivilAffairsClient(civil_affairs.url, timeouts=TIMEOUTS) as client:
        yield client


@pytest_asyncio.fixture
async def school_client(school: Running[SchoolSimulator]) -> AsyncIterator[SchoolClient]:
    async with SchoolClient(school.url, timeouts=TIMEOUTS) as client:
        yield client
