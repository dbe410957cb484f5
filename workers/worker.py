"""The worker process: runs case workflows and their activities. Only wiring lives here."""

from __future__ import annotations

import asyncio
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from activities.registry import activities_for
from caseflow.logs import get_logger
from caseflow.settings import Settings
from caseflow.temporal import connect
from integrations.clients import OutsideClients, open_outside_clients
from store.events import EventStore
from store.pool import create_app_pool
from workflows.registry import WORKFLOWS

log = get_logger(__name__)


def build_worker(
    client: Client, settings: Settings, store: EventStore, outside: OutsideClients
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(store, outside),
    )


async def run_worker(settings: Settings) -> None:
    pool = await create_app_pool(settings)
    try:
        client = await connect(settings)
        async with open_outside_clients(settings) as outside:
            worker = build_worker(client, settings, EventStore(pool), outside)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            log.info("worker_started", task_queue=settings.task_queue)
            async with worker:
                await stop.wait()
                log.info("worker_stopping")
    finally:
        await pool.close()
