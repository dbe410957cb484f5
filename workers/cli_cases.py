"""`caseflow cases`: report a child, read a case and its timeline, list the caseload, as the
token's user through the API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from workers.cli_api import ApiUrl, Token, signed_in
from workers.cli_output import USAGE, Json, fail, print_fields, print_json, print_table, say, shown

cases = typer.Typer(
    help="Report, read and list cases (as your user, through the API).", no_args_is_help=True
)

CaseId = Annotated[UUID, typer.Argument(help="The case's id.", show_default=False)]


@cases.command("report")
def report_child(
    report_file: Annotated[
        str, typer.Argument(help="The report as JSON (the body of POST /cases); '-' reads stdin.")
    ],
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Send the same key again to retry safely: answered, not repeated."),
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Report a child (caseworkers and supervisors, in their own villages): opens the case."""
    report = _read_report(report_file)
    with signed_in(api_url, token) as api:
        state = api.post("/cases", report, idempotency_key=idempotency_key)
    if as_json:
        print_json(state)
        return
    say(
        f"Case {state['case_id']} opened: priority {state.get('priority')}, assess by "
        f"{shown(state.get('assessment_due_at'))}."
    )


@cases.command("show")
def show_case(
    case_id: CaseId,
    timeline: Annotated[bool, typer.Option("--timeline", help="Also every event.")] = False,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Show a case as it stands (caseworkers, supervisors and auditors of its area)."""
    with signed_in(api_url, token) as api:
        state = api.get(f"/cases/{case_id}")
        events = api.get(f"/cases/{case_id}/timeline") if timeline else None
    if as_json:
        print_json({"case": state, "timeline": events} if timeline else state)
        return
    print_case(state, title=f"Case {case_id}")
    if events is not None:
        print_timeline(events)


@cases.command("list")
def list_cases(
    status: Annotated[
        str | None, typer.Option(help="reported, assessed, active, pending_closure or closed.")
    ] = None,
    priority: Annotated[str | None, typer.Option(help="immediate, urgent or routine.")] = None,
    overdue: Annotated[
        bool | None,
        typer.Option("--overdue/--not-overdue", help="Only cases with (or without) a breach."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The cases of your area, soonest deadline first (no personal data: ids and state)."""
    with signed_in(api_url, token) as api:
        page = api.get(
            "/cases",
            status=status,
            priority=priority,
            overdue=None if overdue is None else str(overdue).lower(),
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(page)
        return
    items = page["items"]
    print_table(
        f"{len(items)} of {page['total']} case(s)",
        ["case", "status", "priority", "risk", "village", "caseworker", "next deadline", "overdue"],
        (
            (
                row["case_id"],
                row["status"],
                row["priority"],
                row["risk_level"],
                row["village"],
                row["assigned_to"],
                row["next_deadline"],
                row["overdue"],
            )
            for row in items
        ),
        empty="No cases in your area match (a case just reported shows once the projector "
        "has read it).",
    )


def print_case(state: dict[str, Any], *, title: str) -> None:
    """A case's state as a person reads it: the child, where the case stands, what is open."""
    report = state["report"]
    child = report["child"]
    closed = f" ({state['closure_reason']})" if state.get("closure_reason") else ""
    print_fields(
        title,
        [
            ("status", f"{state['status']}{closed}"),
            ("child", f"{child['name']}, {child['sex']}, born {child['date_of_birth']}"),
            ("village", report["village"]),
            ("categories", sorted(state.get("categories") or [])),
            ("priority", state.get("priority")),
            ("assess by", state.get("assessment_due_at")),
            ("risk level", state.get("risk_level")),
            ("caseworker", state.get("assigned_to")),
            ("opened", f"{shown(state['opened_at'])} by {state['opened_by']}"),
            ("updated", f"{shown(state['updated_at'])} (version {state['version']})"),
            ("visits", f"{state.get('visits', 0)} made, {state.get('missed_visits', 0)} missed"),
            ("next visit due", state.get("next_visit_due")),
            ("school status", state.get("school_status")),
            ("placement", (state.get("placement") or {}).get("destination")),
        ],
    )
    assistance = list((state.get("assistance") or {}).values())
    if assistance:
        print_table(
            "Assistance",
            ["request", "kind", "quantity", "value (yuan)", "delivered", "status"],
            (
                (
                    a["request_id"],
                    a["kind"],
                    f"{a['quantity']} {a['unit']}",
                    a["value_yuan"],
                    a["delivered_quantity"],
                    a["status"],
                )
                for a in assistance
            ),
        )
    approvals = list((state.get("approvals") or {}).values())
    if approvals:
        print_table(
            "Approvals",
            ["approval", "kind", "status", "level", "requested by", "decided by", "due"],
            (
                (
                    a["approval_id"],
                    a["kind"],
                    a["status"],
                    a["level"],
                    a["requested_by"],
                    a.get("decided_by"),
                    a["due_at"],
                )
                for a in approvals
            ),
        )
    _print_proposals(state)


def _print_proposals(state: dict[str, Any]) -> None:
    rows: list[tuple[Any, ...]] = [
        ("referral", r["referral_id"], f"{r['agency']}: {r['service']}", r["status"])
        for r in (state.get("referrals") or {}).values()
    ]
    rows += [
        ("guardian change", g["change_id"], g["new_guardian"]["relation"], g["status"])
        for g in (state.get("guardian_changes") or {}).values()
    ]
    rows += [
        ("transfer", t["transfer_id"], t["destination"], t["status"])
        for t in (state.get("transfers") or {}).values()
    ]
    if rows:
        print_table("Referrals, guardian changes, transfers", ["what", "id", "to", "status"], rows)


def print_timeline(events: list[dict[str, Any]]) -> None:
    print_table(
        "Timeline",
        ["#", "recorded", "event", "by", "why"],
        (
            (
                event["version"],
                event["recorded_at"],
                event["type"],
                f"{event['actor']['user_id']} ({event['actor']['role']})",
                event.get("reason") or event.get("rule") or "",
            )
            for event in events
        ),
    )


def _read_report(report_file: str) -> Any:
    try:
        text = sys.stdin.read() if report_file == "-" else Path(report_file).read_text("utf-8")
    except OSError as error:
        fail(f"cannot read {report_file}: {error.strerror}", code=USAGE)
    try:
        return json.loads(text)
    except ValueError as error:
        fail(f"{report_file} is not JSON ({error}); give the body of POST /cases", code=USAGE)
