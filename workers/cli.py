"""The `caseflow` command line: process entry points for operators and developers."""

from __future__ import annotations

import asyncio

import typer

from caseflow.logs import configure_logging
from caseflow.settings import get_settings

app = typer.Typer(
    name="caseflow",
    help="caseflow: a durable, event-sourced case engine for child welfare.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def up() -> None:
    """Start the whole engine on one machine: PostgreSQL, Temporal, worker and API."""
    from workers.stack import run_stack

    settings = get_settings()
    configure_logging(settings, process="stack")
    raise typer.Exit(run_stack(settings))


@app.command()
def worker() -> None:
    """Run a Temporal worker for case workflows and activities."""
    from workers.worker import run_worker

    settings = get_settings()
    configure_logging(settings, process="worker")
    asyncio.run(run_worker(settings))


@app.command()
def api() -> None:
    """Run the HTTP API server."""
    from workers.api_server import run_api

    settings = get_settings()
    configure_logging(settings, process="api")
    run_api(settings)


@app.command()
def migrate() -> None:
    """Apply the event store's database migrations (a no-op when they are all applied)."""
    from store.migrate import apply_migrations

    settings = get_settings()
    configure_logging(settings, process="cli")
    applied = asyncio.run(apply_migrations(settings.resolved_database_url))
    typer.echo(f"applied {len(applied)} migration(s)" if applied else "database is up to date")
