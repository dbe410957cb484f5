"""`caseflow up`: the whole engine on one machine, under one supervisor.

Starts PostgreSQL and Temporal (unless `DATABASE_URL` / `TEMPORAL_ADDRESS` point at real ones),
prepares the database, runs the worker and the API server as child processes, and stops
everything in reverse order on Ctrl-C, SIGTERM, or when a process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

import httpx

from caseflow.settings import Settings
from workers.bootstrap import after_start, prepare
from workers.embedded_postgres import EmbeddedPostgres
from workers.embedded_temporal import EmbeddedTemporal
from workers.errors import StackError, ensure_port_free
from workflows.search_attributes import SEARCH_ATTRIBUTE_TYPES

API_READY_TIMEOUT = 60.0
CHILD_STOP_TIMEOUT = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Looked up here, not in the forked child: loading symbols there could deadlock on a lock held
# by another thread at fork time (temporalio's runtime has threads).
_prctl = ctypes.CDLL(None).prctl if sys.platform == "linux" else None


class _Process(Protocol):
    log_file: Path

    def is_running(self) -> bool: ...
    def stop(self) -> None: ...


class _Interrupted(BaseException):
    """Raised by our signal handler. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way (a retry loop in start-up code) swallows it."""


class _Child:
    """The worker or the API server: `python -m workers <command>`, logging to a file."""

    def __init__(self, command: str, log_file: Path, env: dict[str, str]) -> None:
        self.log_file = log_file
        with log_file.open("ab") as log:
            # Own process group: Ctrl-C reaches only the supervisor, which stops the children
            # in order (the API before the worker before the servers they use).
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "workers", command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                process_group=0,
                preexec_fn=_die_with_supervisor if _prctl is not None else None,
            )

    def is_running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        if self._proc.poll() is not None:
            return
        self._proc.terminate()  # SIGTERM: finish in-flight work, then exit
        try:
            self._proc.wait(CHILD_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    @property
    def exit_code(self) -> int | None:
        return self._proc.poll()


def run_stack(settings: Settings) -> int:
    """Run the stack until a signal (exit code 0) or a failure (1: a process died, 2: a
    configuration or machine problem, already explained on stderr)."""
    data_dir = settings.data_dir.expanduser().absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock(data_dir)
    if lock is None:
        return 1
    try:
        return _Stack(settings, data_dir).run()
    finally:
        lock.close()  # releases the flock


def _lock(data_dir: Path) -> IO[str] | None:
    """Take the data folder for this process: two stacks on one folder would corrupt it."""
    lock = (data_dir / "caseflow.lock").open("a+")  # not "w": that would erase the holder's pid
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        _say(f"caseflow is already running with data in {data_dir} (pid {holder})")
        return None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


class _Stack:
    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.logs = data_dir / "logs"
        self.postgres = (
            EmbeddedPostgres(
                data_dir / "postgres", settings.postgres_port, self.logs / "postgres.log"
            )
            if settings.embedded_database
            else None
        )
        self.temporal = (
            EmbeddedTemporal(
                data_dir / "temporal",
                settings.temporal_port,
                settings.temporal_ui_port,
                self.logs / "temporal.log",
                namespace=settings.temporal_namespace,
                search_attributes=SEARCH_ATTRIBUTE_TYPES,
                ui_codec_endpoint=f"{self._api_url}/codec",
            )
            if settings.embedded_temporal
            else None
        )
        # Everything started so far, by name, in start order; stopped in reverse.
        self.started: list[tuple[str, _Process]] = []

    def run(self) -> int:
        previous = {sig: signal.signal(sig, _raise_interrupted) for sig in STOP_SIGNALS}
        try:
            self._start()
            while True:  # until a signal raises `_Interrupted` or a process dies
                self._check_processes()
                time.sleep(0.5)
        except _Interrupted:
            return 0
        except _ProcessDied as died:
            _say(f"caseflow: {died}", err=True)
            return 1
        except StackError as error:
            _say(f"caseflow: {error}", err=True)
            return 2
        finally:
            # A second Ctrl-C must not cut the orderly shutdown short.
            for sig in STOP_SIGNALS:
                signal.signal(sig, _note_already_stopping)
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self) -> None:
        self._check_ports()
        self.logs.mkdir(parents=True, exist_ok=True)
        # Each server is listed before it starts, so that an interrupted start is stopped too.
        if self.postgres is not None:
            _say(f"Starting PostgreSQL on port {self.postgres.port}...")
            self.started.append(("PostgreSQL server", self.postgres))
            self.postgres.start()
        if self.temporal is not None:
            _say(f"Starting Temporal on port {self.temporal.port}...")
            self.started.append(("Temporal server", self.temporal))
            self.temporal.start()
        _say("Preparing the database...")
        lines = asyncio.run(prepare(self.settings))
        env = self._child_env()
        children = [("worker", "worker"), ("projector", "projector"), ("API server", "api")]
        if self.settings.embedded_simulators:
            # Stand-ins for civil affairs and the school system; the worker's calls to them
            # retry until they answer, so they need no readiness wait of their own.
            children.insert(0, ("outside-system simulators", "simulators"))
        for name, command in children:
            self.started.append((name, _Child(command, self.logs / f"{command}.log", env)))
        self._wait_for_api()
        asyncio.run(after_start(self.settings, self._api_url))
        self._banner(lines)

    def _check_ports(self) -> None:
        """Every port we will bind, checked before anything starts. A server left running on
        our data by a supervisor that died holds its ports; its `start()` deals with it."""
        s = self.settings
        wanted = [(s.api_port, "CASEFLOW_API_PORT", "the API server", s.api_host)]
        if self.postgres is not None and not self.postgres.is_running():
            wanted.append((s.postgres_port, "CASEFLOW_POSTGRES_PORT", "PostgreSQL", "127.0.0.1"))
        if self.temporal is not None and not self.temporal.is_running():
            wanted.append((s.temporal_port, "CASEFLOW_TEMPORAL_PORT", "Temporal", "127.0.0.1"))
            wanted.append(
                (s.temporal_ui_port, "CASEFLOW_TEMPORAL_UI_PORT", "Temporal UI", "127.0.0.1")
            )
        if s.embedded_simulators:
            wanted.append(
                (
                    s.civil_affairs_simulator_port,
                    "CASEFLOW_CIVIL_AFFAIRS_SIMULATOR_PORT",
                    "the civil affairs simulator",
                    "127.0.0.1",
                )
            )
            wanted.append(
                (
                    s.school_simulator_port,
                    "CASEFLOW_SCHOOL_SIMULATOR_PORT",
                    "the school system simulator",
                    "127.0.0.1",
                )
            )
        seen: dict[int, str] = {}
        for port, setting, _, _ in wanted:
            if port in seen:
                raise StackError(
                    f"{seen[port]} and {setting} are both {port}; give each its own port."
                )
            seen[port] = setting
        for port, setting, what, host in wanted:
            ensure_port_free(port, setting, what, host)

    def _child_env(self) -> dict[str, str]:
        """The environment of the worker and the API server: ours, plus the settings this
        stack resolved, so the children talk to the same servers even when the settings were
        given in code rather than in the environment."""
        env = dict(os.environ)
        for name, field in Settings.model_fields.items():
            value = getattr(self.settings, name)
            # Only plain values; a secret would be written out masked.
            if field.validation_alias is None and isinstance(value, str | int | float | Path):
                env[f"CASEFLOW_{name.upper()}"] = str(value)
        env["CASEFLOW_DATA_DIR"] = str(self.data_dir)
        env["DATABASE_URL"] = self.settings.resolved_database_url
        env["TEMPORAL_ADDRESS"] = self.settings.resolved_temporal_address
        return env

    def _wait_for_api(self) -> None:
        url = f"{self._api_url}/healthz"
        deadline = time.monotonic() + API_READY_TIMEOUT
        # Polling would log one line per request at INFO.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # trust_env=False: a proxy configured for the internet must not see a local request.
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                self._check_processes()
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise StackError(
                        f"The API server did not answer {url} within {API_READY_TIMEOUT:.0f} s; "
                        f"see {self.logs / 'api.log'}."
                    )
                time.sleep(0.25)

    def _check_processes(self) -> None:
        for name, process in self.started:
            if not process.is_running():
                code = process.exit_code if isinstance(process, _Child) else None
                status = f" with exit code {code}" if code is not None else ""
                raise _ProcessDied(
                    f"the {name} stopped unexpectedly{status}; see its log: {process.log_file}"
                )

    def _stop_all(self) -> None:
        if self.started:
            _say("Stopping...")
        while self.started:
            name, process = self.started.pop()
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                _say(f"caseflow: could not stop the {name}: {error}", err=True)

    @property
    def _api_url(self) -> str:
        host = self.settings.api_host
        # A wildcard address is where the server listens, not where to reach it.
        if host in ("0.0.0.0", "::", ""):  # noqa: S104
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.settings.api_port}"

    def _banner(self, lines: list[str]) -> None:
        rows = [
            ("API", self._api_url),
            ("API docs", f"{self._api_url}/docs"),
        ]
        if self.temporal is not None:
            rows.append(("Temporal UI", f"http://127.0.0.1:{self.temporal.ui_port}"))
        rows += [("Data folder", str(self.data_dir)), ("Logs", str(self.logs))]
        out = ["", "caseflow is running.", *(f"  {k + ':':<13} {v}" for k, v in rows), ""]
        out += [*lines, "", "Press Ctrl-C to stop."] if lines else ["Press Ctrl-C to stop."]
        _say("\n".join(out))


class _ProcessDied(StackError):
    pass


def _die_with_supervisor() -> None:
    """Runs in the child before exec: SIGTERM it when the supervisor dies, even by SIGKILL,
    so that no orphan worker or API server keeps the ports from the next `caseflow up`.

    (The servers need no such thing: their next `start()` adopts or restarts a leftover.)"""
    assert _prctl is not None
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signum)


def _note_already_stopping(signum: int, frame: FrameType | None) -> None:
    _say("caseflow: already stopping, please wait...", err=True)


def _say(message: str, *, err: bool = False) -> None:
    # The terminal may be gone (SIGHUP): failing to print must not stop the shutdown.
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr if err else sys.stdout, flush=True)
