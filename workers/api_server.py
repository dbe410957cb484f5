"""The API server process."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from caseflow.settings import Settings


def run_api(settings: Settings) -> None:
    # uvicorn handles SIGINT/SIGTERM itself: it stops accepting, finishes requests, then exits.
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )
