"""Auditors' pages: a case's history with a moment picker (the case as it stood then, and what
changed between two moments), the integrity checks, and the program report with its charts, its
CSV and the events behind each figure. Auditors write nothing: no page here sends a command.

The answers are the API's own (api.audit, api.reports), called as functions: the same checks of
role and area, the same replay (`recorded_at` moments), the same figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Final
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api import audit, reports
from api.access import AUDITORS, VERIFIERS, case_in_reach, require_area, require_role
from api.cases import case_timeline
from api.context import services
from api.database import database
from api.problems import Problem
from api.web.casework import area_names, case_number
from api.web.charts import bar_chart
from api.web.forms import moment
from api.web.i18n import figure_label, translate
from api.web.pages import Form, PageRoute, SignedIn, render
from api.web.present import narrowed, pending, shown_value, summary
from domain.areas import AreaLevel, ancestor
from domain.child import Category
from domain.commands import PROGRAM_TIMEZONE
from domain.rules.assistance import AssistanceKind
from store.case_history import load_case
from store.projections import ProgramReport, program_report
from store.projections.program_report import (
    ASSISTANCE_GROUPS,
    ASSISTANCE_TOTAL,
    DROPOUTS_RETURNED_TO_SCHOOL,
    GUARDIAN_CHANGES_REGISTERED,
    RECOGNITIONS_CONFIRMED,
    TRANSFERS_COMPLETED,
    assistance_group,
    assistance_kind,
    children_covered,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

JUST_BEFORE: Final = timedelta(microseconds=1)  # the event store's resolution
OTHER_FIGURES: Final = (
    GUARDIAN_CHANGES_REGISTERED,
    TRANSFERS_COMPLETED,
    DROPOUTS_RETURNED_TO_SCHOOL,
    RECOGNITIONS_CONFIRMED,
)


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return moment(value)
    except ValueError:
        raise Problem(
            422,
            "The request is not valid",
            f"{name} must be a moment such as 2025-05-01T14:03",
            code="invalid_request",
        ) from None


def moment_param(value: datetime) -> str:
    """A moment as the history page's links carry it: exact, with its offset."""
    return value.astimezone(PROGRAM_TIMEZONE).isoformat()


def picker_value(value: datetime | None) -> str:
    """A moment as a datetime-local field shows it (program time, to the second)."""
    if value is None:
        return ""
    return value.astimezone(PROGRAM_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S")


@router.get("/ui/cases/{case_id}/history")
async def history(
    request: Request,
    viewer: SignedIn,
    case_id: UUID,
    at: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    actor = viewer.actor
    require_role(actor, AUDITORS, "replay a case as of a moment")
    current = await case_in_reach(request, actor, case_id)
    store = services(request).events
    timeline = await case_timeline(store, case_id)
    shown_at = _moment(at, "at")
    then = await load_case(store, case_id, as_of=shown_at) if shown_at is not None else None
    since, until = _moment(from_, "from"), _moment(to, "to")
    diff = None
    if since is not None:
        diff = await audit.get_diff(case_id, actor, request, from_=since, to=until)
    language = viewer.visitor.language
    now = datetime.now(UTC)

    def link(**moments: datetime) -> str:
        query = {name.rstrip("_"): moment_param(value) for name, value in moments.items()}
        return f"/ui/cases/{case_id}/history?{urlencode(query)}"

    return render(
        request,
        "history.html",
        state=current,
        number=case_number(case_id),
        timeline=timeline,
        summary=lambda entry: summary(language, entry),
        shown_at=shown_at,
        then=then,
        then_pending=pending(then, language, shown_at) if then and shown_at else [],
        names=await area_names(request, ancestor(current.village, AreaLevel.township)),
        diff=diff,
        shown_value=shown_value,
        narrowed=narrowed,
        link=link,
        just_before=JUST_BEFORE,
        at_value=picker_value(shown_at) or picker_value(now),
        from_value=picker_value(since) or picker_value(current.opened_at),
        to_value=picker_value(until) or picker_value(now),
    )


@router.get("/ui/integrity")
async def integrity_page(request: Request, viewer: SignedIn) -> Response:
    require_role(viewer.actor, VERIFIERS, "verify the record")
    return render(request, "integrity.html", result=None, case_id=None)


@router.post("/ui/integrity")
async def verify_record(request: Request, viewer: SignedIn, form: Form) -> Response:
    result = await audit.get_integrity(viewer.actor, request)
    return render(request, "integrity.html", result=result, case_id=None)


@router.post("/ui/cases/{case_id}/integrity")
async def verify_case(request: Request, viewer: SignedIn, form: Form, case_id: UUID) -> Response:
    result = await audit.get_case_integrity(case_id, viewer.actor, request)
    return render(request, "integrity.html", result=result, case_id=case_id)


# --- the program report -----------------------------------------------------------------------


async def _counties(request: Request, area: str) -> list[tuple[str, str]]:
    areas = await services(request).directory.areas(within=area)
    return [(a.code, a.name) for a in areas if a.level == AreaLevel.county.value]


def _facts_link(year: int, county: str, figure: str) -> str:
    return "/ui/report/facts?" + urlencode({"year": year, "county": county, "figure": figure})


def _figure_rows(
    report: ProgramReport, language: str, figures: list[str]
) -> list[tuple[str, int, str]]:
    """(label, count, link to the events behind it) for each figure."""
    return [
        (
            figure_label(language, name),
            report.figures[name],
            _facts_link(report.year, report.county, name),
        )
        for name in figures
    ]


@router.get("/ui/report")
async def report_page(
    request: Request,
    viewer: SignedIn,
    year: Annotated[int | None, Query(ge=1949, le=2999)] = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> Response:
    actor = viewer.actor
    require_role(actor, AUDITORS, "run reports")
    counties = await _counties(request, actor.area)
    year = year or datetime.now(UTC).astimezone(PROGRAM_TIMEZONE).year
    county = county or (counties[0][0] if counties else None)
    report = None
    charts = []
    kinds: list[tuple[str, int, str]] = []
    others: list[tuple[str, int, str]] = []
    if county is not None:
        require_area(actor, county, "county")
        report = await program_report(database(request), year=year, county=county)
        language = viewer.visitor.language
        rows = partial(_figure_rows, report, language)

        charts = [
            bar_chart(
                translate(language, "Children covered"),
                rows([children_covered(category) for category in Category]),
            ),
            bar_chart(
                translate(language, "Person-times of assistance by group"),
                rows([assistance_group(group) for group in ASSISTANCE_GROUPS]),
            ),
        ]
        kinds = rows([ASSISTANCE_TOTAL, *(assistance_kind(kind) for kind in AssistanceKind)])
        others = rows(list(OTHER_FIGURES))
    return render(
        request,
        "report.html",
        year=year,
        county=county,
        counties=counties,
        report=report,
        charts=charts,
        kinds=kinds,
        others=others,
        csv_link="/ui/report.csv?" + urlencode({"year": year, "county": county or ""}),
    )


@router.get("/ui/report.csv")
async def report_csv(
    request: Request, viewer: SignedIn, year: reports.Year, county: reports.County
) -> Response:
    answer = await reports.get_program_report(
        viewer.actor, request, year, county, reports.ReportFormat.csv
    )
    if not isinstance(answer, Response):  # asked for CSV, the API answers CSV
        raise TypeError("the program report did not answer CSV")
    return answer


@router.get("/ui/report/facts")
async def figure_facts(
    request: Request,
    viewer: SignedIn,
    year: reports.Year,
    county: reports.County,
    figure: Annotated[str, Query(max_length=100)],
) -> Response:
    facts = await reports.get_figure_facts(viewer.actor, request, year, county, figure)
    return render(
        request,
        "facts.html",
        facts=facts,
        label=figure_label(viewer.visitor.language, figure),
        back="/ui/report?" + urlencode({"year": year, "county": county}),
        case_number=case_number,
    )
