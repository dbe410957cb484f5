from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.integration.engine import Engine, running_engine


@pytest_asyncio.fixture(scope="session")
async def engine(
    database_url: str, temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    async with running_engine(
        database_url, temporal_env.client, tmp_path_factory.mktemp("engine"), "caseflow-tests"
    ) as running:
        yield running
