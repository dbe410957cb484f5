"""How the command line shows things: a readable table by default, the API's JSON with `--json`,
and a problem as one plain sentence on stderr with a non-zero exit code (never a traceback).

Exit codes: 0 done; 1 refused or failed (the message says why and what to do); 2 the command
was given wrongly (a missing token, an unreadable date).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

REFUSED = 1
USAGE = 2

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
# A pipe or a file gets whole lines rather than a terminal's 80 columns.
_WIDTH = None if sys.stdout.isatty() else 200

# No highlighting: ids and numbers are printed as they are, for copying.
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, width=_WIDTH)


def fail(message: str, *, code: int = REFUSED) -> NoReturn:
    """Print `message` for the person at the terminal and stop with `code`."""
    err.print(f"caseflow: {message}", markup=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for a pipe.
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = ""
) -> None:
    cells = [[shown(value) for value in row] for row in rows]
    if not cells and empty:
        out.print(empty, markup=False)
        return
    table = Table()
    for index, column in enumerate(columns):
        # Ids stay on one line, to be copied whole; other cells wrap when the terminal is narrow.
        ids = any(_ID.fullmatch(row[index]) for row in cells)
        table.add_column(column, no_wrap=ids, overflow="fold")
    for row in cells:
        table.add_row(*row)
    _print_title(title)
    out.print(table)


def print_fields(title: str | None, fields: Iterable[tuple[str, Any]]) -> None:
    """A two-column table of names and values."""
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, shown(value))
    _print_title(title)
    out.print(table)


def _print_title(title: str | None) -> None:
    # A line of its own: a table's title would wrap at the table's width.
    if title:
        out.print(title, style="bold", markup=False)


def say(message: str) -> None:
    out.print(message, markup=False)


def shown(value: Any) -> str:
    """A value as a cell shows it: nothing for None, yes/no, lists joined, times to the second
    in this machine's time zone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, str) and _TIME.match(value):
        try:
            return moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def moment(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
