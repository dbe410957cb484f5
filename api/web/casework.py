"""Casework pages: the caseload, the report form, the case page and the case's actions.

Caseworkers and supervisors work here; auditors read the caseload and the case pages of their
area (and find the history and moments on their own pages, api/web/auditing.py). Every read goes
through the API's checks (role first, then area: a case outside the caller's area is "not
found", word for word as one that does not exist), and every action through `send_command`,
which the case's workflow checks again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import FormData

from api.access import READERS, STAFF, SUPERVISORS, case_in_reach, require_area, require_role
from api.cases import case_timeline, open_reported_case
from api.commanding import send_command
from api.context import services
from api.database import database
from api.problems import Problem
from api.web import forms
from api.web.actions import Action, offered
from api.web.forms import FormInvalid
from api.web.pages import (
    Form,
    PageRoute,
    SignedIn,
    Viewer,
    field,
    idempotency_key,
    local_path,
    render,
    see_other,
)
from api.web.present import pending, summary
from domain.actors import Role
from domain.areas import AreaLevel, ancestor
from domain.child import Category, Concern, IntakeSource, ParentSituationKind, Sex, age_on
from domain.commands import PROGRAM_TIMEZONE, CaseCommand
from domain.events import (
    AgencyKind,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    SchoolStatus,
    VisitKind,
)
from domain.rules.assistance import APPROVAL_THRESHOLD_YUAN, AssistanceKind
from domain.rules.priority import Priority
from domain.state import CaseState, CaseStatus
from store.case_history import load_case
from store.projections import CaseloadRow, caseload, caseload_count
from store.projections.arguments import MAX_PAGE

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE: Final = 25
SCAN_PAGES: Final = 10  # pages of MAX_PAGE rows looked through for "due today" and a search
SCAN_SHOWN: Final = 100  # rows shown of what such a look found
CASE_NUMBER_LENGTH: Final = 8  # a case's number: the first characters of its id


# What a page says was done, after an action (the `done` of its address).
DONE: Final = {
    "report": "Child reported, case opened",
    Action.assess.value: "Assessment recorded",
    Action.reassess.value: "Assessment recorded",
    Action.eligibility_check.value: "Eligibility check requested",
    Action.plan.value: "Case plan recorded",
    Action.assistance.value: "Assistance requested",
    Action.deliver.value: "Assistance delivered",
    Action.refer.value: "Referral made",
    Action.visit.value: "Visit recorded",
    Action.close.value: "Closure proposed",
    Action.reopen.value: "Case reopened",
    Action.decide.value: "Decision recorded",
    Action.guardian_change.value: "Guardian change proposed",
    Action.transfer.value: "Transfer proposed",
    Action.transfer_place.value: "Transfer place recorded",
    Action.arrival.value: "Arrival recorded",
    Action.recognition.value: "Recognition applied for",
    Action.recognition_decision.value: "Recognition decision recorded",
    Action.referral_answer.value: "Referral answer recorded",
    Action.withdraw_referral.value: "Referral withdrawn",
    Action.school_status.value: "School status recorded",
    Action.eligibility_answer.value: "Eligibility answer recorded",
    Action.correct.value: "Correction recorded",
}


class View(StrEnum):
    all = "all"
    due_today = "due_today"
    overdue = "overdue"


def case_number(case_id: UUID) -> str:
    return case_id.hex[:CASE_NUMBER_LENGTH]


async def area_names(request: Request, within: str) -> dict[str, str]:
    return {area.code: area.name for area in await services(request).directory.areas(within=within)}


async def children(request: Request, case_ids: Iterable[UUID]) -> dict[UUID, CaseState]:
    """The cases behind caseload rows (which hold no names), read from their events."""
    store = services(request).events
    wanted = list(dict.fromkeys(case_ids))
    states = await asyncio.gather(*(load_case(store, case_id) for case_id in wanted))
    return {case_id: state for case_id, state in zip(wanted, states, strict=True) if state}


async def scan_caseload(
    request: Request,
    area: str,
    keep: Callable[[CaseloadRow], bool | None],
    **filters: Any,
) -> list[CaseloadRow]:
    """Caseload rows of `area` (most pressing first) that `keep` accepts; `keep` answers None to
    stop looking. At most SCAN_PAGES pages are looked through."""
    found: list[CaseloadRow] = []
    for page in range(SCAN_PAGES):
        rows = await caseload(
            database(request), area=area, limit=MAX_PAGE, offset=page * MAX_PAGE, **filters
        )
        for row in rows:
            verdict = keep(row)
            if verdict is None:
                return found
            if verdict:
                found.append(row)
        if len(rows) < MAX_PAGE:
            break
    return found


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(now.astimezone(PROGRAM_TIMEZONE).date(), datetime.min.time())
    start = start.replace(tzinfo=PROGRAM_TIMEZONE)
    return start, start + timedelta(days=1)


def _scope(viewer: Viewer, area: str | None) -> str:
    """The caseload's area: the caller's, or an area inside it that they asked for."""
    if not area:
        return viewer.actor.area
    if not (area.isascii() and area.isdigit() and len(area) in (2, 4, 6, 9, 12)):
        raise Problem(
            422, "The request is not valid", "area must be an area code", code="invalid_request"
        )
    require_area(viewer.actor, area, "area")
    return area


@router.get("/ui/cases")
async def caseload_page(
    request: Request,
    viewer: SignedIn,
    view: View = View.all,
    priority: Priority | None = None,
    status: CaseStatus | None = None,
    area: Annotated[str | None, Query(max_length=12)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    require_role(viewer.actor, READERS, "list cases")
    scope = _scope(viewer, area)
    search = q.strip().lower()
    search_refused = False
    filters: dict[str, Any] = {"status": status, "priority": priority}
    total: int | None = None
    if search:
        try:
            return see_other(f"/ui/cases/{UUID(search)}")
        except ValueError:
            pass
        prefix = search.replace("-", "")
        if len(prefix) >= 4 and all(c in "0123456789abcdef" for c in prefix):
            rows = await scan_caseload(
                request, scope, lambda row: row.case_id.hex.startswith(prefix), **filters
            )
        else:
            rows, search_refused = [], True
    elif view is View.due_today:
        start, end = _day_bounds(datetime.now(UTC))

        def today_only(row: CaseloadRow) -> bool | None:
            if row.next_deadline is None or row.next_deadline >= end:
                return None  # ordered by deadline: nothing later is due today
            return row.next_deadline >= start

        rows = await scan_caseload(request, scope, today_only, **filters)
    else:
        overdue = True if view is View.overdue else None
        pool = database(request)
        offset = (page - 1) * PAGE_SIZE
        rows = await caseload(
            pool, area=scope, overdue=overdue, limit=PAGE_SIZE, offset=offset, **filters
        )
        total = await caseload_count(pool, area=scope, overdue=overdue, **filters)
    found = len(rows)
    rows = rows[:SCAN_SHOWN] if total is None else rows
    states = await children(request, (row.case_id for row in rows))
    now = datetime.now(UTC)
    start, end = _day_bounds(now)
    return render(
        request,
        "caseload.html",
        rows=rows,
        states=states,
        names=await area_names(request, scope),
        total=total if total is not None else found,
        paged=total is not None,
        page=page,
        pages=max(1, -(-(total or 0) // PAGE_SIZE)),
        view=view,
        views=list(View),
        priority=priority,
        priorities=list(Priority),
        status=status,
        statuses=list(CaseStatus),
        area=area or "",
        q=q,
        search_refused=search_refused,
        now=now,
        today_end=end,
        case_number=case_number,
        may_report=viewer.actor.role in STAFF,
    )


# --- reporting a child ---------------------------------------------------------------------


async def _villages(request: Request, viewer: Viewer) -> list[tuple[str, str]]:
    areas = await services(request).directory.areas(within=viewer.actor.area)
    return [(area.code, area.name) for area in areas if area.level == AreaLevel.village.value]


def _report_form(
    request: Request,
    villages: list[tuple[str, str]],
    *,
    status: int = 200,
    values: FormData | None = None,
    errors: dict[str, str] | None = None,
    problem: Problem | None = None,
) -> Response:
    today = datetime.now(UTC).astimezone(PROGRAM_TIMEZONE).date()
    oldest = _years_before(today, 18) + timedelta(days=1)
    return render(
        request,
        "report_form.html",
        status_code=status,
        villages=villages,
        values=values or FormData(),
        errors=errors or {},
        problem=problem,
        key=field(values, "idempotency_key") if values else str(uuid.uuid4()),
        today=today.isoformat(),
        oldest=oldest.isoformat(),
        sexes=list(Sex),
        situations=list(ParentSituationKind),
        categories=list(Category),
        concerns=list(Concern),
        sources=list(IntakeSource),
        guardian_rows=range(forms.GUARDIAN_ROWS),
        parents=forms.PARENTS,
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@router.get("/ui/cases/new")
async def report_form(request: Request, viewer: SignedIn) -> Response:
    require_role(viewer.actor, STAFF, "report a child")
    return _report_form(request, await _villages(request, viewer))


@router.post("/ui/cases/new")
async def report_child(request: Request, viewer: SignedIn, form: Form) -> Response:
    require_role(viewer.actor, STAFF, "report a child")
    villages = await _villages(request, viewer)
    try:
        report = forms.report_from(form)
    except FormInvalid as invalid:
        return _report_form(request, villages, status=422, values=form, errors=invalid.errors)
    try:
        state = await open_reported_case(
            request, viewer.actor, report, idempotency_key=idempotency_key(form)
        )
    except Problem as problem:
        return _report_form(request, villages, status=problem.status, values=form, problem=problem)
    return see_other(f"/ui/cases/{state.case_id}?done=report")


# --- the case page and its actions -----------------------------------------------------------


async def case_page(
    request: Request,
    viewer: Viewer,
    case_id: UUID,
    *,
    status: int = 200,
    failed: Action | None = None,
    problem: Problem | None = None,
    errors: dict[str, str] | None = None,
    values: FormData | None = None,
) -> Response:
    require_role(viewer.actor, READERS, "read a case")
    state = await case_in_reach(request, viewer.actor, case_id)
    timeline = await case_timeline(services(request).events, case_id)
    language = viewer.visitor.language
    now = datetime.now(UTC)
    today = now.astimezone(PROGRAM_TIMEZONE).date()
    done = request.query_params.get("done", "")
    return render(
        request,
        "case.html",
        status_code=status,
        state=state,
        number=case_number(state.case_id),
        age=age_on(state.report.child.date_of_birth, today),
        names=await area_names(request, ancestor(state.village, AreaLevel.township)),
        pending=pending(state, language, now),
        timeline=timeline,
        summary=lambda entry: summary(language, entry),
        offer=offered(state, viewer.actor),
        Action=Action,
        failed=failed.value if failed else "",
        problem=problem,
        errors=errors or {},
        values=values or FormData(),
        done=DONE.get(done, ""),
        link=None,
        just_before=None,
        key=str(uuid.uuid4()),
        now=now,
        today=today.isoformat(),
        now_local=now.astimezone(PROGRAM_TIMEZONE).strftime("%Y-%m-%dT%H:%M"),
        threshold=APPROVAL_THRESHOLD_YUAN,
        assistance_kinds=list(AssistanceKind),
        categories=list(Category),
        concerns=list(Concern),
        sources=list(IntakeSource),
        visit_kinds=list(VisitKind),
        agency_kinds=list(AgencyKind),
        closure_reasons=[
            reason for reason in ClosureReason if reason is not ClosureReason.turned_18
        ],
        check_kinds=list(EligibilityCheckKind),
        check_failures=list(CheckFailure),
        school_statuses=list(SchoolStatus),
        destination_kinds=list(DestinationKind),
        correctable=[(state.opened_event_id, "The report")]
        + [
            (change.proposal_event_id, "Guardian change")
            for change in state.guardian_changes.values()
        ],
        need_domains=forms.NEED_DOMAINS,
        is_auditor=viewer.actor.role is Role.auditor,
    )


@router.get("/ui/cases/{case_id}")
async def show_case(request: Request, viewer: SignedIn, case_id: UUID) -> Response:
    return await case_page(request, viewer, case_id)


def _with_done(path: str, action: Action) -> str:
    return f"{path}{'&' if '?' in path else '?'}done={action.value}"


async def _command(
    request: Request,
    viewer: Viewer,
    case_id: UUID,
    form: FormData,
    action: Action,
    build: Callable[[], CaseCommand],
    *,
    roles: frozenset[Role] = STAFF,
) -> Response:
    """Send the command the form makes; back to the page with what was done, or the case page
    again with what was wrong (403 and 404 are pages of their own)."""
    try:
        command = build()
    except FormInvalid as invalid:
        return await case_page(
            request, viewer, case_id, status=422, failed=action, errors=invalid.errors, values=form
        )
    try:
        await send_command(
            request,
            viewer.actor,
            case_id,
            command,
            idempotency_key=idempotency_key(form),
            roles=roles,
        )
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await case_page(
            request,
            viewer,
            case_id,
            status=problem.status,
            failed=action,
            problem=problem,
            values=form,
        )
    back = local_path(field(form, "next"), f"/ui/cases/{case_id}")
    return see_other(_with_done(back, action))


@router.post("/ui/cases/{case_id}/assessment")
async def record_assessment(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.assess, lambda: forms.assessment_from(form)
    )


@router.post("/ui/cases/{case_id}/eligibility-checks")
async def request_eligibility_check(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.eligibility_check,
        lambda: forms.eligibility_check_from(form),
    )


@router.post("/ui/cases/{case_id}/plan")
async def record_case_plan(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.plan, lambda: forms.plan_from(form)
    )


@router.post("/ui/cases/{case_id}/assistance")
async def request_assistance(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.assistance, lambda: forms.assistance_from(form)
    )


@router.post("/ui/cases/{case_id}/assistance/{request_id}/deliveries")
async def record_delivery(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, request_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.deliver,
        lambda: forms.delivery_from(form, request_id),
    )


@router.post("/ui/cases/{case_id}/referrals")
async def make_referral(request: Request, viewer: SignedIn, form: Form, case_id: UUID) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.refer, lambda: forms.referral_from(form)
    )


@router.post("/ui/cases/{case_id}/visits")
async def record_visit(request: Request, viewer: SignedIn, form: Form, case_id: UUID) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.visit, lambda: forms.visit_from(form)
    )


@router.post("/ui/cases/{case_id}/closure")
async def propose_closure(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.close, lambda: forms.closure_from(form)
    )


@router.post("/ui/cases/{case_id}/reopening")
async def reopen_case(request: Request, viewer: SignedIn, form: Form, case_id: UUID) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.reopen, lambda: forms.reopening_from(form)
    )


@router.post("/ui/cases/{case_id}/approvals/{approval_id}/decision")
async def decide_approval(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, approval_id: UUID
) -> Response:
    """Approve or reject, with a comment, in one step (supervisors, never the requester)."""
    require_role(viewer.actor, SUPERVISORS, "decide an approval")
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.decide,
        lambda: forms.decision_from(form, approval_id),
        roles=SUPERVISORS,
    )


@router.post("/ui/cases/{case_id}/guardian-changes")
async def propose_guardian_change(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.guardian_change,
        lambda: forms.guardian_change_from(form),
    )


@router.post("/ui/cases/{case_id}/transfers")
async def propose_transfer(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.transfer, lambda: forms.transfer_from(form)
    )


@router.post("/ui/cases/{case_id}/transfers/{transfer_id}/place")
async def record_transfer_place(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, transfer_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.transfer_place,
        lambda: forms.transfer_place_from(form, transfer_id),
    )


@router.post("/ui/cases/{case_id}/transfers/{transfer_id}/arrival")
async def record_arrival(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, transfer_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.arrival,
        lambda: forms.arrival_from(form, transfer_id),
    )


@router.post("/ui/cases/{case_id}/recognition")
async def apply_for_recognition(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.recognition, lambda: forms.recognition_from(form)
    )


@router.post("/ui/cases/{case_id}/recognition/{application_id}/decision")
async def record_recognition_decision(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, application_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.recognition_decision,
        lambda: forms.recognition_decision_from(form, application_id),
    )


@router.post("/ui/cases/{case_id}/referrals/{referral_id}/answer")
async def record_referral_answer(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, referral_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.referral_answer,
        lambda: forms.referral_answer_from(form, referral_id),
    )


@router.post("/ui/cases/{case_id}/referrals/{referral_id}/withdrawal")
async def withdraw_referral(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, referral_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.withdraw_referral,
        lambda: forms.withdrawal_from(form, referral_id),
    )


@router.post("/ui/cases/{case_id}/school-status")
async def record_school_status(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.school_status,
        lambda: forms.school_status_from(form),
    )


@router.post("/ui/cases/{case_id}/eligibility-checks/{check_id}/answer")
async def record_eligibility_answer(
    request: Request, viewer: SignedIn, form: Form, case_id: UUID, check_id: UUID
) -> Response:
    return await _command(
        request,
        viewer,
        case_id,
        form,
        Action.eligibility_answer,
        lambda: forms.eligibility_answer_from(form, check_id),
    )


@router.post("/ui/cases/{case_id}/corrections")
async def correct_fact(request: Request, viewer: SignedIn, form: Form, case_id: UUID) -> Response:
    return await _command(
        request, viewer, case_id, form, Action.correct, lambda: forms.correction_from(form)
    )
