"""`python -m benchmarks`: run benchmarks, print the table, write results/latest.json.

`python -m benchmarks` runs the store suite; `--only NAME` (repeatable) the suites named;
`--all` every suite, one after the other, into one JSON file and one table (a suite that fails
is reported and the others still run; the exit status is then 1).

With no `DATABASE_URL` (or `--database-url`) an embedded PostgreSQL is started in a temporary
folder and stopped at the end; with one, the benchmarks run on that server, each in a scratch
database of its own that is dropped afterwards (the role must be allowed to create databases).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import engine, eventsourcing_library, memory, projector, store
from benchmarks.common import (
    DEFAULT_OUTPUT,
    Server,
    SuiteResult,
    postgres_server,
    render_notes,
    render_table,
    report,
    scratch_database,
    server_facts,
    write_json,
)

SUITES = (store.NAME, eventsourcing_library.NAME, engine.NAME, projector.NAME, memory.NAME)
# The engine, projector and memory suites take minutes (the engine and memory suites start
# the dev stack; the projector suite writes a million-event log), the eventsourcing comparison
# about a minute: only with `--only <name>` or `--all`.
DEFAULT_SUITES = (store.NAME,)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run caseflow's benchmarks against their bare baselines and print the ratios.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="a PostgreSQL server to run on (default: $DATABASE_URL, else an embedded server); "
        "its role must be allowed to create databases",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the JSON results (default {DEFAULT_OUTPUT})",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--only", choices=SUITES, action="append", help="run only this suite (repeatable)"
    )
    which.add_argument(
        "--all",
        action="store_true",
        help=f"run every suite ({', '.join(SUITES)}) into one JSON file and one table",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=store.StoreSizes().repeats,
        help="measured runs of each side per figure in the store suite and the eventsourcing "
        "comparison; medians are kept (default %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    store.add_arguments(parser)
    eventsourcing_library.add_arguments(parser)
    engine.add_arguments(parser)
    projector.add_arguments(parser)
    memory.add_arguments(parser)
    return parser


def chosen_suites(options: argparse.Namespace) -> Sequence[str]:
    if options.all:
        return SUITES
    return list(dict.fromkeys(options.only)) if options.only else DEFAULT_SUITES


async def run_suites(
    server: Server,
    options: argparse.Namespace,
    log: Callable[[str], None],
    failed: dict[str, str] | None = None,
) -> list[SuiteResult]:
    """Each chosen suite in a scratch database of its own. With `failed`, a suite that raises is
    recorded there (name: error) and the next one runs; without, the error propagates."""
    results: list[SuiteResult] = []
    for name in chosen_suites(options):
        try:
            results.append(await run_suite(name, server, options, log))
        except Exception as error:
            if failed is None:
                raise
            failed[name] = f"{type(error).__name__}: {error}"
            log(f"{name}: FAILED: {failed[name]}")
    return results


async def run_suite(
    name: str, server: Server, options: argparse.Namespace, log: Callable[[str], None]
) -> SuiteResult:
    async with scratch_database(server.url) as database_url:
        if name == store.NAME:
            return await store.run(database_url, store.sizes_from(options), log=log)
        if name == eventsourcing_library.NAME:
            sizes_e = eventsourcing_library.sizes_from(options)
            return await eventsourcing_library.run(database_url, sizes_e, log=log)
        if name == engine.NAME:
            return await engine.run(database_url, engine.sizes_from(options), log=log)
        if name == projector.NAME:
            return await projector.run(database_url, projector.sizes_from(options), log=log)
        if name == memory.NAME:
            return await memory.run(database_url, memory.sizes_from(options), log=log)
    raise ValueError(f"no such suite: {name}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)

    def log(message: str) -> None:
        if not options.quiet:
            print(f"... {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with postgres_server(options.database_url) as server:
        log(f"PostgreSQL: {server.kind}")
        facts = asyncio.run(server_facts(server.url))
        # With --all a failing suite does not lose the others' figures (minutes of them).
        failed: dict[str, str] | None = {} if options.all else None
        suites = asyncio.run(run_suites(server, options, log, failed))
    data = report(suites, server=server, facts=facts, seconds=time.perf_counter() - started)
    if failed:
        data["failed_suites"] = failed
        data["all_targets_passed"] = False
    write_json(data, options.output)
    print(render_table(suites))
    print()
    print(render_notes(suites))
    for name, error in (failed or {}).items():
        print(f"FAILED suite {name}: {error}")
    print(f"results: {options.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
