"""`caseflow up` started the way a user starts it, driven over HTTP, stopped and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.e2e

START_TIMEOUT = 180.0
# The stack under test runs its own servers even when the test session uses external ones.
EXTERNAL_SERVERS = {"DATABASE_URL", "TEMPORAL_ADDRESS"}
REPORT = json.loads((Path(__file__).parents[2] / "docs/examples/report.json").read_text())


class Stack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.api_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVERS},
            "CASEFLOW_DATA_DIR": str(data_dir),
            "CASEFLOW_API_PORT": str(self.api_port),
            "CASEFLOW_POSTGRES_PORT": str(free_port()),
            "CASEFLOW_TEMPORAL_PORT": str(free_port()),
            "CASEFLOW_TEMPORAL_UI_PORT": str(free_port()),
            "CASEFLOW_CIVIL_AFFAIRS_SIMULATOR_PORT": str(free_port()),
            "CASEFLOW_SCHOOL_SIMULATOR_PORT": str(free_port()),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workers", "up"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        for line in self.process.stdout:
            self.output.append(line)
            if "Press Ctrl-C to stop." in line:
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        pytest.fail("caseflow up did not come up:\n" + "".join(self.output))

    def token(self, user_id: str) -> str:
        users = json.loads((self.data_dir / "demo-users.json").read_text())
        return str(next(user["token"] for user in users if user["user_id"] == user_id))

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        rest, _ = self.process.communicate(timeout=60)
        self.output.append(rest)
        return self.process.returncode


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "caseflow")
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def test_up_serves_a_case_stops_cleanly_and_keeps_it_across_a_restart(stack: Stack) -> None:
    stack.start()
    banner = "".join(stack.output)
    assert f"{stack.url}/docs" in banner
    assert "Temporal UI" in banner
    assert "demo-caseworker" in banner

    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    caseworker = {"Authorization": f"Bearer {stack.token('demo-caseworker')}"}
    reported = httpx.post(
        f"{stack.url}/cases",
        json=REPORT,
        headers={**caseworker, "Idempotency-Key": "e2e-1"},
        timeout=30,
    )
    assert reported.status_code == 201, reported.text
    case_id = reported.json()["case_id"]

    assert stack.stop() == 0
    log = "".join(stack.output)
    assert "Traceback" not in log
    assert REPORT["child"]["name"] not in log

    # A second start keeps everything: the case, the demo users and their tokens.
    stack.start()
    again = httpx.get(f"{stack.url}/cases/{case_id}", headers=caseworker, timeout=30)
    assert again.status_code == 200
    assert again.json() == reported.json()
    assert stack.stop() == 0


def test_a_second_up_on_the_same_data_says_so(stack: Stack) -> None:
    stack.start()
    second = subprocess.run(
        [sys.executable, "-m", "workers", "up"],
        env={**stack.env, "CASEFLOW_API_PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "already running" in second.stdout + second.stderr
    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    assert stack.stop() == 0


def test_a_port_in_use_gives_a_clear_message(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "caseflow")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", stack.api_port))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "workers", "up"],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    message = result.stdout + result.stderr
    assert str(stack.api_port) in message
    assert "CASEFLOW_API_PORT" in message
    assert "Traceback" not in message
