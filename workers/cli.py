"""The `caseflow` command line: process entry points for operators and developers."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from caseflow.logs import configure_logging
from caseflow.settings import Settings, get_settings
from workers.cli_approvals import approvals
from workers.cli_audit import audit
from workers.cli_cases import cases
from workers.cli_report import report
from workers.cli_simulate import simulate
from workers.cli_users import users

if TYPE_CHECKING:
    from store.projections import Progress

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
    from store.pool import set_app_password

    settings = get_settings()
    configure_logging(settings, process="cli")
    url = settings.resolved_database_url
    applied = asyncio.run(apply_migrations(url))
    if settings.app_database_password is not None:
        asyncio.run(set_app_password(url, settings.app_database_password))
    typer.echo(f"applied {len(applied)} migration(s)" if applied else "database is up to date")


@app.command()
def simulators(
    seed: str | None = typer.Option(None, help="Seed of the generated people and places."),
    latency_ms: float | None = typer.Option(None, help="Latency added to every call."),
    jitter_ms: float | None = typer.Option(None, help="Up to this much more latency, at random."),
    failure_rate: float | None = typer.Option(None, help="Fraction of calls that fail, 0 to 1."),
    failure_kind: str | None = typer.Option(None, help="error (500) | hang | mixed."),
    failure_timing: str | None = typer.Option(
        None, help="before | after (the work is done, the answer lost) | mixed."
    ),
    decision_mode: str | None = typer.Option(None, help="approve | deny | late."),
    late_after_polls: int | None = typer.Option(None, help="late: polls before a decision."),
    late_after_seconds: float | None = typer.Option(None, help="late: seconds before one."),
) -> None:
    """Serve simulators of civil affairs and the school system on 127.0.0.1.

    Flags override the CASEFLOW_SIMULATOR_* variables; PUT /_simulator/config changes them live.
    """
    from integrations.simulation.config import simulator_config
    from integrations.simulators import run_simulators

    try:
        config = simulator_config(
            seed=seed,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            failure_rate=failure_rate,
            failure_kind=failure_kind,
            failure_timing=failure_timing,
            decision_mode=decision_mode,
            late_after_polls=late_after_polls,
            late_after_seconds=late_after_seconds,
        )
    except ValueError as invalid:  # pydantic's ValidationError names the option and the rule
        raise typer.BadParameter(str(invalid)) from None
    settings = get_settings()
    configure_logging(settings, process="simulators")
    run_simulators(settings, config)


@app.command()
def projector() -> None:
    """Keep the read models current with the event log, until Ctrl-C or SIGTERM.

    The read models: caseload, approvals inbox, assistance ledger and program report.
    """
    settings = get_settings()
    configure_logging(settings, process="projector")
    asyncio.run(_run_projector(settings))


projections = typer.Typer(help="The read models built from the event log.", no_args_is_help=True)
app.add_typer(projections, name="projections")
# Operators, straight on the database; then users, through the API (workers/cli_*.py).
app.add_typer(users, name="users")
app.command("simulate")(simulate)
app.add_typer(cases, name="cases")
app.add_typer(approvals, name="approvals")
app.add_typer(audit, name="audit")
app.add_typer(report, name="report")


@projections.command("rebuild")
def rebuild_projections(
    name: str | None = typer.Argument(None, help="The projection to rebuild; all when omitted."),
) -> None:
    """Empty a projection and replay the whole event log into it (all of them without NAME).

    All of them are emptied at once and replayed together, reading the log once. Safe while the
    projector runs: they take turns, and it carries on from where this stops.
    """
    from store.projections import PROJECTIONS, projection_named

    if name is not None:
        try:
            projection_named(name)
        except ValueError as unknown:
            raise typer.BadParameter(str(unknown)) from None
    names = [name] if name is not None else [projection.name for projection in PROJECTIONS]
    settings = get_settings()
    configure_logging(settings, process="cli")
    asyncio.run(_rebuild_projections(settings, names))


async def _run_projector(settings: Settings) -> None:
    from store.pool import create_app_pool
    from store.projections import Projector
    from workers.checkpoints import keep_checkpoints

    # One connection listens for new events; one applies batches; one spare.
    pool = await create_app_pool(settings, max_size=3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await asyncio.gather(Projector(pool).run(stop), keep_checkpoints(pool, settings, stop))
    finally:
        await pool.close()


async def _rebuild_projections(settings: Settings, names: list[str]) -> None:
    from store.pool import create_app_pool
    from store.projections import log_head, rebuild_together

    pool = await create_app_pool(settings, max_size=2)
    try:
        head = await log_head(pool)
        label = f"Rebuilding {', '.join(names)}"
        with typer.progressbar(length=max(head, 1), label=label) as bar:
            reached = await rebuild_together(pool, names, on_progress=_advancing(bar.update, names))
    finally:
        await pool.close()
    for name, position in reached.items():
        typer.echo(f"{name}: rebuilt up to position {position} of the event log")


def _advancing(update: Callable[[int], None], names: list[str]) -> Callable[[Progress], None]:
    """A progress callback moving a bar by the events replayed since the last call into the
    projection furthest behind (the batches move several projections, or one)."""
    reached = dict.fromkeys(names, 0)
    shown = 0

    def advance(progress: Progress) -> None:
        nonlocal shown
        reached.update(dict.fromkeys(progress.projections, progress.position))
        least = min(reached.values())
        update(least - shown)
        shown = least

    return advance
