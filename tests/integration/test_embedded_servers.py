"""The embedded PostgreSQL and Temporal servers: start, restart with data kept, recover from
crashes and stale pid files, and explain port conflicts."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus

from workers.embedded_postgres import EmbeddedPostgres
from workers.embedded_temporal import EmbeddedTemporal
from workers.errors import StackError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path / "postgres", _free_port(), tmp_path / "postgres.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def _wait_until_stopped(server: EmbeddedPostgres) -> None:
    deadline = time.monotonic() + 10
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_running()


async def _fetch_notes(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [row["body"] for row in await conn.fetch("SELECT body FROM notes ORDER BY id")]
    finally:
        await conn.close()


async def test_postgres_keeps_data_across_restarts(postgres: EmbeddedPostgres) -> None:
    url = await asyncio.to_thread(postgres.start)
    assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/caseflow"
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    await conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    await conn.close()

    await asyncio.to_thread(postgres.stop)
    assert not postgres.is_running()
    assert not (postgres.data_dir / "postmaster.pid").exists()

    assert await asyncio.to_thread(postgres.start) == url
    assert await _fetch_notes(url) == ["kept"]


async def test_postgres_start_is_idempotent_and_adopts_a_leftover_server(
    postgres: EmbeddedPostgres,
) -> None:
    url = await asyncio.to_thread(postgres.start)
    assert await asyncio.to_thread(postgres.start) == url

    # A second supervisor on the same data (the first one having died) finds the server running,
    # uses it, and can stop it.
    successor = EmbeddedPostgres(postgres.data_dir, postgres.port, postgres.log_file)
    assert successor.is_running()
    assert await asyncio.to_thread(successor.start) == url
    await asyncio.to_thread(successor.stop)
    assert not postgres.is_running()


async def test_postgres_recovers_after_kill_9_with_data_kept(postgres: EmbeddedPostgres) -> None:
    url = await asyncio.to_thread(postgres.start)
    conn = await asyncpg.connect(url)
    await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
    await conn.execute("INSERT INTO notes (body) VALUES ('committed before the crash')")
    await conn.close()
    pid = int((postgres.data_dir / "postmaster.pid").read_text().split()[0])

    os.kill(pid, signal.SIGKILL)
    await asyncio.to_thread(_wait_until_stopped, postgres)
    assert (postgres.data_dir / "postmaster.pid").exists()  # left behind by the crash

    assert await asyncio.to_thread(postgres.start) == url
    assert await _fetch_notes(url) == ["committed before the crash"]


async def test_postgres_clears_a_pid_file_naming_an_unrelated_live_process(
    postgres: EmbeddedPostgres,
) -> None:
    await asyncio.to_thread(postgres.start)
    pid_file = postgres.data_dir / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    await asyncio.to_thread(postgres.stop)

    # After a crash and a reboot, the recorded pid may belong to any live process; PostgreSQL
    # alone would refuse to start ("is another postmaster running?").
    unrelated = await asyncio.create_subprocess_exec("sleep", "60")
    try:
        pid_file.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")
        assert not postgres.is_running()
        url = await asyncio.to_thread(postgres.start)
        assert postgres.is_running()
        assert pid_file.read_text().split()[0] != str(unrelated.pid)
        conn = await asyncpg.connect(url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
        assert unrelated.returncode is None  # and the unrelated process was left alone
    finally:
        unrelated.kill()
        await unrelated.wait()


async def test_postgres_port_in_use_is_explained(tmp_path: Path, listening_port: int) -> None:
    server = EmbeddedPostgres(tmp_path / "postgres", listening_port, tmp_path / "postgres.log")
    with pytest.raises(StackError) as caught:
        await asyncio.to_thread(server.start)
    assert str(listening_port) in str(caught.value)
    assert "CASEFLOW_POSTGRES_PORT" in str(caught.value)
    assert not server.is_running()


async def test_temporal_port_in_use_is_explained(tmp_path: Path, listening_port: int) -> None:
    server = EmbeddedTemporal(tmp_path, listening_port, _free_port(), tmp_path / "temporal.log")
    with pytest.raises(StackError, match=f"{listening_port}.*CASEFLOW_TEMPORAL_PORT"):
        await asyncio.to_thread(server.start)
    server = EmbeddedTemporal(tmp_path, _free_port(), listening_port, tmp_path / "temporal.log")
    with pytest.raises(StackError, match=f"{listening_port}.*CASEFLOW_TEMPORAL_UI_PORT"):
        await asyncio.to_thread(server.start)
    assert not server.is_running()


async def test_temporal_keeps_workflows_and_registers_search_attributes(tmp_path: Path) -> None:
    def server(search_attributes: dict[str, str]) -> EmbeddedTemporal:
        return EmbeddedTemporal(
            tmp_path / "temporal",
            port,
            _free_port(),
            tmp_path / "temporal.log",
            namespace="caseflow-test",
            search_attributes=search_attributes,
        )

    port = _free_port()
    first = server({"CaseArea": "Keyword"})
    try:
        await asyncio.to_thread(first.start)
        client = await Client.connect(first.address, namespace="caseflow-test")
        # No worker is needed for the server to record a started workflow.
        await client.start_workflow("Probe", id="probe", task_queue="nobody-polls")
        await asyncio.to_thread(first.stop)
        assert not first.is_running()
    finally:
        first.stop()

    # An attribute added to the code later: the dev server ignores new --search-attribute flags
    # on an existing SQLite file, so start() registers it.
    second = server({"CaseArea": "Keyword", "CaseStage": "Keyword"})
    try:
        await asyncio.to_thread(second.start)
        client = await Client.connect(second.address, namespace="caseflow-test")
        description = await client.get_workflow_handle("probe").describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        attributes = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="caseflow-test")
        )
        assert {"CaseArea", "CaseStage"} <= set(attributes.custom_attributes)
    finally:
        await asyncio.to_thread(second.stop)
    assert not second.is_running()
