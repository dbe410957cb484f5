"""The command line against a real engine: one `caseflow up` (tests/e2e's `Stack`) for the whole
package, and each command run as a user runs it, `python -m workers ...`, with the stack's
settings in its environment (so its defaults find the stack's API and database)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.test_caseflow_up import Stack

T = TypeVar("T")

COMMAND_TIMEOUT = 120.0
REPORT = Path(__file__).parents[2] / "docs/examples/report.json"  # a de facto orphan
SCORES = {
    "survival": 3,
    "education": 1,
    "health": 2,
    "guardianship": 3,
    "safety": 1,
    "psychosocial": 1,
}


@dataclass
class Cli:
    stack: Stack

    def run(self, *args: str, token: str | None = None, stdin: str | None = None) -> Run:
        env = {name: value for name, value in self.stack.env.items() if name != "CASEFLOW_TOKEN"}
        if token is not None:
            env["CASEFLOW_TOKEN"] = token
        done = subprocess.run(
            [sys.executable, "-m", "workers", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, token: str | None = None, stdin: str | None = None) -> str:
        """The output of a command that must succeed."""
        done = self.run(*args, token=token, stdin=stdin)
        assert done.code == 0, f"exit {done.code}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def json(self, *args: str, token: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", token=token))

    def token(self, user_id: str) -> str:
        return self.stack.token(user_id)

    def http(self, user_id: str) -> httpx.Client:
        """The API as a demo user, for the steps the command line has no command for."""
        return httpx.Client(
            base_url=self.stack.url,
            headers={"Authorization": f"Bearer {self.token(user_id)}"},
            timeout=60,
            trust_env=False,
        )


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def refused(self, *phrases: str) -> None:
        """Refused in plain words: a non-zero exit, the phrases on stderr, no traceback."""
        assert self.code != 0, self.stdout
        assert "Traceback" not in self.stderr + self.stdout, self.stderr
        assert self.stderr.startswith("caseflow: ") or "Error" in self.stderr, self.stderr
        for phrase in phrases:
            assert phrase in self.stderr, self.stderr


def report(cli: Cli, key: str) -> str:
    """A case of the demo caseworker, reported with the command line; its id."""
    opened = cli.json(
        "cases", "report", str(REPORT), "--idempotency-key", key, token=cli.token("demo-caseworker")
    )
    return str(opened["case_id"])


def eventually(probe: Callable[[], T | None], *, seconds: float = 30.0, what: str = "") -> T:
    """`probe`'s first answer that is not None, asked every quarter second (the projector
    catches up within a second or so)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.25)


@pytest.fixture(scope="package")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    stack = Stack(tmp_path_factory.mktemp("cli") / "caseflow")
    stack.start()
    try:
        yield Cli(stack)
    finally:
        if stack.process is not None and stack.process.poll() is None:
            stack.stop()
