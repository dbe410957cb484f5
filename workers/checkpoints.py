"""Signed checkpoints over the event log, written periodically by the projector process.

Each checkpoint signs a digest of every event up to a position, so a later deletion or
reordering anywhere in the log is found by `verify`, not only a change inside one stream.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from caseflow.logs import get_logger
from caseflow.settings import Settings
from store.integrity import signing_key_for, write_checkpoint

log = get_logger(__name__)


async def keep_checkpoints(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event) -> None:
    """Write a checkpoint now and then every `checkpoint_interval_seconds`, until `stop`."""
    key = signing_key_for(settings)
    while not stop.is_set():
        try:
            checkpoint = await write_checkpoint(pool, key)
        except (OSError, asyncpg.PostgresError) as error:
            # The database is away for a moment; the next round covers everything since.
            log.warning("checkpoint_failed", error=type(error).__name__)
        else:
            if checkpoint is not None:
                log.info(
                    "checkpoint_written",
                    sequence_no=checkpoint.sequence_no,
                    up_to_position=checkpoint.up_to_position,
                )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.checkpoint_interval_seconds)
