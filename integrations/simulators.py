"""Serving the simulators: both systems in one process, on loopback, until told to stop.

`caseflow simulators` (or `python -m workers simulators`) calls `run_simulators`; the dev stack
starts that command as a child process when `CASEFLOW_CIVIL_AFFAIRS_URL` or
`CASEFLOW_SCHOOL_SYSTEM_URL` is unset. Tests serve one simulator app with `serving`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI

from caseflow.logs import get_logger
from caseflow.settings import Settings
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.school.simulator import SchoolSimulator
from integrations.simulation.config import SimulatorConfig, simulator_config
from integrations.simulation.world import World

HOST = "127.0.0.1"
_STARTUP_SECONDS = 10.0
_SHUTDOWN_SECONDS = 10.0

log = get_logger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process serves two apps and stops both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_simulators(config: SimulatorConfig) -> tuple[CivilAffairsSimulator, SchoolSimulator]:
    """Both simulators over one generated world, so they agree about every child."""
    world = World(config.seed)
    return CivilAffairsSimulator(config, world), SchoolSimulator(config, world)


@contextlib.asynccontextmanager
async def serving(app: FastAPI, *, port: int = 0, access_log: bool = False) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (`port` 0: any free port) while the block runs; yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as exc:
        listener.close()
        raise OSError(exc.errno, f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    url = f"http://{HOST}:{listener.getsockname()[1]}"
    server = _Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_SECONDS
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError(f"the simulator at {url} stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError(f"the simulator at {url} did not start in {_STARTUP_SECONDS} s")
            await asyncio.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, _SHUTDOWN_SECONDS)
        listener.close()


async def serve_simulators(settings: Settings, config: SimulatorConfig) -> None:
    """Serve both simulators on their configured ports until SIGINT or SIGTERM."""
    civil_affairs, school = build_simulators(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with (
        serving(
            civil_affairs.app, port=settings.civil_affairs_simulator_port, access_log=True
        ) as civil_affairs_url,
        serving(school.app, port=settings.school_simulator_port, access_log=True) as school_url,
    ):
        log.info(
            "simulators_serving",
            civil_affairs=civil_affairs_url,
            school_system=school_url,
            seed=config.seed,
            failure_rate=config.failure_rate,
            decision_mode=config.decision_mode.value,
        )
        await stop.wait()
    log.info("simulators_stopped")


def run_simulators(settings: Settings, config: SimulatorConfig | None = None) -> None:
    """The process entry point: `config` defaults to the `CASEFLOW_SIMULATOR_*` variables."""
    asyncio.run(serve_simulators(settings, config or simulator_config()))
