"""`caseflow report`: program figures per county and year (auditors), through the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from workers.cli_api import ApiUrl, Token, signed_in
from workers.cli_counties import county_code, pilot_county
from workers.cli_output import Json, print_json, print_table

report = typer.Typer(help="Program reports (auditors, through the API).", no_args_is_help=True)


@report.command("program")
def program(
    county: Annotated[
        str, typer.Option(help="A county: its 6-digit code, or a pilot county's name.")
    ],
    year: Annotated[
        int | None,
        typer.Option(min=1949, max=2999, help="The calendar year (default: this one)."),
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one figure a line.")] = False,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """A county's figures for a year, each counted from recorded events (facts: GET
    /reports/program/facts)."""
    code = county_code(county)
    year = year or date.today().year
    with signed_in(api_url, token) as api:
        if csv:
            typer.echo(api.text("/reports/program", year=year, county=code, format="csv"), nl=False)
            return
        answer = api.get("/reports/program", year=year, county=code)
    if as_json:
        print_json(answer)
        return
    known = pilot_county(code)
    name = f"{known.name} ({code})" if known else code
    print_table(
        f"Program report: {name}, {year} (events up to log position {answer['as_of_position']})",
        ["figure", "count"],
        ((figure["figure"], figure["count"]) for figure in answer["figures"]),
    )
