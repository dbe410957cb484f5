"""The projector process signs checkpoints over the log now and then, and verify checks them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from caseflow.settings import Settings
from store.integrity import signing_key_for, verify
from tests.store.support import Db, new_events, new_stream
from workers.checkpoints import keep_checkpoints


async def test_checkpoints_are_written_periodically_and_verify(
    fresh_db: Db, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, checkpoint_interval_seconds=0.05)
    await fresh_db.store.append(new_stream(), new_events(3), expected_version=0)
    stop = asyncio.Event()
    keeper = asyncio.create_task(keep_checkpoints(fresh_db.app, settings, stop))
    try:
        await asyncio.sleep(0.2)
        await fresh_db.store.append(new_stream(), new_events(2), expected_version=0)
        for _ in range(100):
            covered = await fresh_db.app.fetchval("SELECT max(up_to_position) FROM checkpoints")
            if covered == 5:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(keeper, 5)

    assert covered == 5
    assert await fresh_db.app.fetchval("SELECT count(*) FROM checkpoints") == 2
    report = await verify(fresh_db.app, public_key=signing_key_for(settings).public_key())
    assert report.ok, report.first_problem
    assert report.checkpoints_checked == 2
