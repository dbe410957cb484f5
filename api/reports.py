"""The program report (auditors): a county's yearly figures, each traceable to its events.

`GET /reports/program` answers JSON, or CSV with `format=csv` (or `Accept: text/csv`); every
figure links to `GET /reports/program/facts`, which lists the cases and events (ids and log
positions) it counts. Figures come from the program report projection
(store.projections.program_report names and defines them).
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.access import AUDITORS, require_area, require_role
from api.auth import CurrentActor
from api.database import database
from api.problems import Problem, problem_responses
from domain.actors import Actor
from store.projections import FIGURES, ReportFact, program_report, report_facts

router = APIRouter(prefix="/reports", tags=["reports"])

Year = Annotated[int, Query(ge=1949, le=2999, description="The calendar year, e.g. 2024.")]
County = Annotated[
    str, Query(pattern=r"^\d{6}$", description="The county's 6-digit division code.")
]


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"


class Figure(BaseModel):
    figure: str = Field(description="The figure's name, e.g. `assistance.group.survival`.")
    count: int
    facts: str = Field(description="Where the cases and events behind the count are listed.")


class ProgramReportOut(BaseModel):
    year: int
    county: str
    as_of_position: int = Field(description="The last event of the log the figures include.")
    figures: list[Figure]


class FigureFacts(BaseModel):
    year: int
    county: str
    figure: str
    count: int
    facts: list[ReportFact] = Field(
        description="One per unit counted: the case, and the event (id, log position) behind it."
    )


def _check_reach(actor: Actor, county: str) -> None:
    require_role(actor, AUDITORS, "run reports")
    require_area(actor, county, "county")


def _facts_url(year: int, county: str, figure: str) -> str:
    return "/reports/program/facts?" + urlencode({"year": year, "county": county, "figure": figure})


@router.get(
    "/program",
    response_model=ProgramReportOut,
    responses={
        **problem_responses(403, 422),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def get_program_report(
    actor: CurrentActor,
    request: Request,
    year: Year,
    county: County,
    format: ReportFormat | None = None,
) -> ProgramReportOut | Response:
    """A county's figures for a year (auditors of the county), as JSON or CSV."""
    _check_reach(actor, county)
    report = await program_report(database(request), year=year, county=county)
    figures = [
        Figure(figure=name, count=report.figures[name], facts=_facts_url(year, county, name))
        for name in FIGURES
    ]
    wants_csv = format is ReportFormat.csv or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if not wants_csv:
        return ProgramReportOut(
            year=year, county=county, as_of_position=report.as_of_position, figures=figures
        )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["year", "county", "figure", "count", "facts"])
    for figure in figures:
        writer.writerow([year, county, figure.figure, figure.count, figure.facts])
    return Response(
        text.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="program-{county}-{year}.csv"',
            "X-As-Of-Position": str(report.as_of_position),
        },
    )


@router.get("/program/facts", response_model=FigureFacts, responses=problem_responses(403, 422))
async def get_figure_facts(
    actor: CurrentActor,
    request: Request,
    year: Year,
    county: County,
    figure: Annotated[str, Query(max_length=100, description="A figure of the report.")],
) -> FigureFacts:
    """The cases and events one figure counts, in log order (auditors of the county)."""
    _check_reach(actor, county)
    if figure not in FIGURES:
        raise Problem(
            422,
            "Unknown figure",
            f"there is no figure {figure!r}; the figures are: {', '.join(FIGURES)}",
            code="unknown_figure",
        )
    facts = await report_facts(database(request), year=year, county=county, figure=figure)
    return FigureFacts(
        year=year,
        county=county,
        figure=figure,
        count=len(facts),
        facts=facts,
    )
