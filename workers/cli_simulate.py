"""`caseflow simulate`: generate a program year of cases and drive them through the engine.

An operator's command, like `caseflow users`: it adds the areas it needs and this run's users
(a caseworker per township, a supervisor per county) straight in the database of the settings,
acts as them over the HTTP API, and revokes them at the end; their tokens are never shown or
written down. So it needs no token, but the database and the API must be the same engine's.
It drives only an engine on this machine (loopback), and stops starting cases after
`--time-limit`. See workers/simulate.py for what a year holds.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import httpx
import typer

from workers.cli_api import ApiUrl, default_api_url, is_loopback
from workers.cli_counties import county_code, pilot_counties
from workers.cli_output import USAGE, Json, err, fail, print_json, print_table, say

if TYPE_CHECKING:
    from caseflow.settings import Settings
    from workers.simulate import Tally, YearPlan


def simulate(
    year: Annotated[
        int | None,
        typer.Option(help="The program year (default: this one; at most 2 years back)."),
    ] = None,
    cases: Annotated[int, typer.Option(min=1, help="How many children (a bounded number).")] = 50,
    seed: Annotated[
        str | None,
        typer.Option(help="The same seed gives the same children and events (default: new)."),
    ] = None,
    counties: Annotated[
        list[str] | None,
        typer.Option(
            "--counties",
            help="Pilot counties, by name or code, comma-separated or repeated (default: all).",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=16, help="Cases driven at the same time.")
    ] = 4,
    time_limit: Annotated[
        float,
        typer.Option(min=10, max=24 * 3600, help="Seconds after which no new case starts."),
    ] = 900,
    api_url: ApiUrl = None,
    as_json: Json = False,
) -> None:
    """Generate a program year of cases and carry them through the engine.

    The children are generated in the pilot counties' villages: none is real.
    Each case is reported, assessed, checked, planned, helped and visited;
    help above the threshold goes to a supervisor; some cases have a guardian change,
    a transfer or a closure. Prints what was done, by kind; exits with 1 if anything was refused.
    """
    from caseflow.settings import get_settings
    from domain.commands import PROGRAM_TIMEZONE
    from workers.simulate import plan_year

    url = (api_url or default_api_url()).rstrip("/")
    if not is_loopback(url):
        fail(
            f"simulate writes generated cases, so it drives only an engine on this machine; "
            f"{urlsplit(url).hostname} is not a loopback address (use 127.0.0.1 or localhost)",
            code=USAGE,
        )
    names = [name for given in counties or [] for name in given.split(",") if name.strip()]
    codes = list(dict.fromkeys(county_code(name, "--counties") for name in names))
    codes = codes or [county.code for county in pilot_counties()]
    seed = seed or secrets.token_hex(4)
    try:
        plan = plan_year(
            year=year or datetime.now(PROGRAM_TIMEZONE).year,
            cases=cases,
            seed=seed,
            counties=codes,
            now=datetime.now().astimezone(),
        )
    except ValueError as invalid:
        fail(str(invalid), code=USAGE)
    run = secrets.token_hex(3)
    tally = asyncio.run(
        _run(get_settings(), url, plan, run, concurrency=concurrency, time_limit=time_limit)
    )
    _print(plan, run, tally, as_json=as_json)
    if tally.refusals:
        raise typer.Exit(1)


async def _run(
    settings: Settings, url: str, plan: YearPlan, run: str, *, concurrency: int, time_limit: float
) -> Tally:
    import asyncpg
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from store.directory import Directory
    from store.pool import create_app_pool
    from workers.simulate import SimulationStopped, drive, enrol_staff, revoke_staff

    # A proxy configured for the internet must not see a request to this machine.
    async with httpx.AsyncClient(base_url=url, timeout=60, trust_env=False) as http:
        try:
            (await http.get("/healthz")).raise_for_status()
        except httpx.HTTPError:
            fail(f"cannot reach the caseflow API at {url}; is it running (`caseflow up`)?")
        try:
            pool = await create_app_pool(settings, max_size=2)
        except asyncpg.PostgresError as error:
            fail(f"the database refused: {error}; check DATABASE_URL and `caseflow migrate`")
        except OSError as error:
            where = urlsplit(settings.resolved_database_url)
            fail(
                f"cannot reach the database at {where.hostname}:{where.port or 5432} "
                f"({error.strerror or type(error).__name__}); set DATABASE_URL or "
                "CASEFLOW_POSTGRES_PORT to the engine's"
            )
        directory = Directory(pool)
        try:
            try:
                staff = await enrol_staff(directory, plan, run)
            except asyncpg.PostgresError as error:
                fail(f"could not add this run's areas and users: {error}")
            try:
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=err,
                    transient=False,
                ) as progress:
                    task = progress.add_task(f"Simulating {plan.year}", total=len(plan.cases))
                    return await drive(
                        plan,
                        http,
                        staff,
                        concurrency=concurrency,
                        time_limit_seconds=time_limit,
                        on_case_done=lambda: progress.advance(task),
                    )
            except SimulationStopped as stopped:
                fail(f"simulation stopped: {stopped}")
            finally:
                await revoke_staff(directory, staff)
        finally:
            await pool.close()


def _print(plan: YearPlan, run: str, tally: Tally, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "run": run,
                "seed": plan.seed,
                "year": plan.year,
                "counties": list(plan.counties),
                "days": [str(plan.first_day), str(plan.last_day)],
                **tally.as_json(),
            }
        )
        return
    print_table(
        f"caseflow simulate {plan.year}, seed {plan.seed}, run {run}: what was done",
        ["what", "kind", "count"],
        tally.rows(),
    )
    say(
        f"Users sim-{run}-* acted in this run (a caseworker per township, a supervisor per "
        "county); their tokens were never shown and are now revoked."
    )
    from domain.commands import PROGRAM_TIMEZONE

    this_year = datetime.now(PROGRAM_TIMEZONE).year
    if plan.year < this_year:
        say(
            f"The cases were opened today, so reports count their children (and guardian "
            f"registrations, dated by civil affairs) in {this_year}; deliveries, visits, school "
            f"checks and transfers are dated in {plan.year}."
        )
    if tally.refusals:
        refused = ", ".join(f"{code} x{n}" for code, n in sorted(tally.refusals.items()))
        err.print(f"Refused commands: {refused}. For example:", markup=False)
        for example in tally.examples:
            err.print(f"  {example}", markup=False)
