"""The web UI tests' world: the engine of tests/integration/engine.py (a real worker, the
simulators, real PostgreSQL and Temporal) on a database of its own, the projector running as its
process does, and the API app (with the UI) served by uvicorn on a free 127.0.0.1 port.

Users: the demo users (workers/demo.py: demo-caseworker of village 530627101201, demo-supervisor
of its township, demo-county-officer of the county, demo-social-worker of the other township,
demo-auditor of the county, demo-admin) and, made here, far-caseworker of a village in another
province, so that everyone has a case outside their area.

Browser tests drive Debian's chromium (`/usr/bin/chromium`) with Playwright; `playwright install`
is never run. Without that browser they are skipped, unless CI is set: there they must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from caseflow.codec import EncryptionCodec
from caseflow.settings import Settings
from domain.codec import case_stream_id
from integrations.simulators import serving
from store.directory import Area, Directory, User
from store.migrate import apply_migrations
from store.projections import Projector
from tests.conftest import with_database
from tests.integration.engine import Engine, running_engine

ROOT: Final = Path(__file__).resolve().parents[2]
ARTIFACTS: Final = ROOT / "test-artifacts" / "web"
CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TASK_QUEUE: Final = "caseflow-web-tests"

VILLAGE: Final = "530627101201"  # demo-caseworker's, in demo-supervisor's township
FAR_VILLAGE: Final = "520524101201"  # another province: outside every demo user's area
FAR_AREAS: Final = [
    Area("52", "Far Province", "province", None),
    Area("5205", "Far Prefecture", "prefecture", "52"),
    Area("520524", "Far County", "county", "5205"),
    Area("520524101", "Far Township", "township", "520524"),
    Area(FAR_VILLAGE, "Far Village", "village", "520524101"),
]
_CSRF: Final = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    url: str  # where uvicorn serves the app, e.g. http://127.0.0.1:41234
    app: FastAPI
    engine: Engine
    tokens: dict[str, str]  # user id -> bearer token

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user_id]}"}


def a_report(village: str = VILLAGE, **changes: Any) -> dict[str, Any]:
    """A child's report as the JSON API takes it."""
    report: dict[str, Any] = {
        "child": {"name": "Wang Xiaoyu", "sex": "male", "date_of_birth": "2014-09-21"},
        "village": village,
        "household": {"address": "Group 5", "members": 2},
        "guardians": [{"name": "Wang Laoye", "relation": "grandfather"}],
        "parents": [
            {"relation": "father", "situation": "imprisoned", "since": "2023-03-01"},
            {"relation": "mother", "situation": "missing", "since": "2022-11-15"},
        ],
        "categories": ["de_facto_orphan"],
    }
    report.update(changes)
    return report


async def report_child(site: Site, user_id: str, village: str = VILLAGE) -> UUID:
    """A case opened through the JSON API (the quick way to set a page's scene)."""
    answer = await site.engine.http.post(
        "/cases", json=a_report(village), headers=site.auth(user_id)
    )
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["case_id"])


async def command(site: Site, user_id: str, path: str, body: dict[str, Any]) -> None:
    answer = await site.engine.http.post(path, json=body, headers=site.auth(user_id))
    assert answer.status_code in (200, 201), answer.text


SCORES: Final = {
    "survival": 2,
    "education": 3,
    "health": 1,
    "guardianship": 2,
    "safety": 1,
    "psychosocial": 2,
}


async def assessed_case_awaiting_approval(site: Site, requester: str) -> tuple[UUID, UUID]:
    """A case of VILLAGE, assessed, with assistance above the threshold waiting for approval."""
    case_id = await report_child(site, "demo-caseworker")
    await command(site, requester, f"/cases/{case_id}/assessment", {"scores": SCORES})
    await command(
        site,
        requester,
        f"/cases/{case_id}/assistance",
        {"kind": "tuition_and_fees", "quantity": 1, "unit": "term", "value_yuan": 3000},
    )
    answer = await site.engine.http.get(f"/cases/{case_id}", headers=site.auth(requester))
    approvals = answer.json()["approvals"]
    assert len(approvals) == 1
    return case_id, UUID(next(iter(approvals)))


async def events_of(site: Site, case_id: UUID) -> int:
    return len(await site.engine.events.read_stream(case_stream_id(case_id)))


def csrf_in(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@contextlib.asynccontextmanager
async def signed_in(
    site: Site, user_id: str, *, language: str = "en"
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in as `user_id` through the sign-in form, reading `language`."""
    async with httpx.AsyncClient(
        base_url=site.url, headers={"Accept-Language": language}
    ) as client:
        form = await client.get("/ui/sign-in")
        answer = await client.post(
            "/ui/sign-in",
            data={"csrf_token": csrf_in(form.text), "token": site.tokens[user_id], "next": "/ui/"},
        )
        assert answer.status_code == 303, answer.text
        yield client


@pytest_asyncio.fixture(scope="session")
async def site(
    postgres_server_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Site]:
    name = f"caseflow_web_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(postgres_server_url, name)
    await apply_migrations(url)
    data_dir = tmp_path_factory.mktemp("web-engine")
    client = temporal_env.client
    async with running_engine(url, client, data_dir, TASK_QUEUE) as engine:
        directory = Directory(engine.pool)
        await directory.add_areas(FAR_AREAS)
        tokens = {user_id: user.token for user_id, user in engine.users.items()}
        tokens["far-caseworker"] = await directory.add_user(
            User("far-caseworker", "Caseworker far away", "caseworker", FAR_VILLAGE)
        )
        codec = client.data_converter.payload_codec
        assert isinstance(codec, EncryptionCodec)
        # The same engine, served over HTTP as `caseflow api` serves it.
        app = create_app(
            Settings(
                data_dir=data_dir,
                database_url=url,
                temporal_address=client.service_client.config.target_host,
                task_queue=TASK_QUEUE,
                payload_keys=codec.keys.serialize(),
            )
        )
        stop = asyncio.Event()
        projector = asyncio.create_task(
            Projector(engine.pool, poll_interval=0.2).run(stop), name="projector"
        )
        try:
            async with app.router.lifespan_context(app), serving(app) as served:
                yield Site(served, app, engine, tokens)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(projector, 10)


def browser_required() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) "
            "to run the browser tests"
        )
        if browser_required():
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def wait_until(condition: Any, *, seconds: float = 15.0, what: str = "condition") -> None:
    """Poll the async `condition` until it is true (the projector reads the log in its time)."""
    deadline = datetime.now(UTC) + timedelta(seconds=seconds)
    while not await condition():
        if datetime.now(UTC) > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
