"""`python -m benchmarks`: run every benchmark, print the table, write results/latest.json.

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

from benchmarks import engine, memory, projector, store
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

SUITES = (store.NAME, engine.NAME, projector.NAME, memory.NAME)
# The engine, projector and memory suites take minutes (the engine and memory suites start
# the dev stack; the projector suite writes a million-event log): only with `--only <name>`.
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
    parser.add_argument(
        "--only", choices=SUITES, action="append", help="run only this suite (repeatable)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=store.StoreSizes().repeats,
        help="measured runs of each side per figure; medians are kept (default %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    store.add_arguments(parser)
    engine.add_arguments(parser)
    projector.add_arguments(parser)
    memory.add_arguments(parser)
    return parser


async def run_suites(
    server: Server, options: argparse.Namespace, log: Callable[[str], None]
) -> list[SuiteResult]:
    results: list[SuiteResult] = []
    for name in options.only or DEFAULT_SUITES:
        async with scratch_database(server.url) as database_url:
            if name == store.NAME:
                sizes = store.sizes_from(options)
                results.append(await store.run(database_url, sizes, log=log))
            elif name == engine.NAME:
                results.append(await engine.run(database_url, engine.sizes_from(options), log=log))
            elif name == projector.NAME:
                sizes_p = projector.sizes_from(options)
                results.append(await projector.run(database_url, sizes_p, log=log))
            elif name == memory.NAME:
                results.append(await memory.run(database_url, memory.sizes_from(options), log=log))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)

    def log(message: str) -> None:
        if not options.quiet:
            print(f"... {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with postgres_server(options.database_url) as server:
        log(f"PostgreSQL: {server.kind}")
        facts = asyncio.run(server_facts(server.url))
        suites = asyncio.run(run_suites(server, options, log))
    data = report(suites, server=server, facts=facts, seconds=time.perf_counter() - started)
    write_json(data, options.output)
    print(render_table(suites))
    print()
    print(render_notes(suites))
    print(f"results: {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
