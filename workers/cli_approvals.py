"""`caseflow approvals`: a supervisor's inbox and decisions, through the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import typer

from workers.cli_api import Api, ApiUrl, Token, signed_in
from workers.cli_output import Json, fail, print_json, print_table, say

approvals = typer.Typer(
    help="The approvals inbox and decisions (supervisors, through the API).", no_args_is_help=True
)

INBOX_PAGE = 200


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"


@approvals.command("list")
def list_approvals(
    kind: Annotated[
        str | None,
        typer.Option(help="assistance, guardian_change, transfer, closure, emergency_placement."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=INBOX_PAGE)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Approvals waiting for a decision in your area, oldest request first."""
    with signed_in(api_url, token) as api:
        inbox = api.get("/approvals", kind=kind, limit=limit, offset=offset)
    if as_json:
        print_json(inbox)
        return
    print_table(
        None,
        ["approval", "case", "kind", "level", "requested by", "requested", "time left", "note"],
        (_inbox_row(entry) for entry in inbox["items"]),
        empty="Nothing waits for your decision (a request just made shows once the projector "
        "has read it).",
    )


@approvals.command("decide")
def decide_approval(
    approval_id: Annotated[UUID, typer.Argument(help="The approval's id (from the inbox).")],
    decision: Annotated[Decision, typer.Argument(help="approve or reject.")],
    comment: Annotated[
        str, typer.Option(help="Why; a rejection needs one, saying what to do instead.")
    ] = "",
    case_id: Annotated[
        UUID | None,
        typer.Option("--case", help="The approval's case (default: found in your inbox)."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Send the same key again to retry safely.")
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Approve or reject a request (never your own). Granting it carries out what was asked."""
    with signed_in(api_url, token) as api:
        case = case_id or _case_of(api, approval_id)
        reply = api.post(
            f"/cases/{case}/approvals/{approval_id}/decision",
            {"decision": decision.value, "comment": comment},
            idempotency_key=idempotency_key,
        )
    if as_json:
        print_json(reply)
        return
    approval = reply["state"]["approvals"][str(approval_id)]
    say(
        f"Approval {approval_id} ({approval['kind']}) of case {case}: {approval['status']}; "
        f"the case is now {reply['state']['status']}."
    )


def _case_of(api: Api, approval_id: UUID) -> UUID:
    offset = 0
    while True:
        page = api.get("/approvals", limit=INBOX_PAGE, offset=offset)
        for entry in page["items"]:
            if entry["approval"]["approval_id"] == str(approval_id):
                return UUID(entry["approval"]["case_id"])
        if len(page["items"]) < INBOX_PAGE:
            fail(
                f"approval {approval_id} is not in your inbox (decided already, not in your "
                "area, or just made: the inbox shows it within seconds); give its case with --case"
            )
        offset += INBOX_PAGE


def _inbox_row(entry: dict[str, Any]) -> tuple[Any, ...]:
    approval = entry["approval"]
    left = int(entry["time_left_seconds"])
    hours = f"{abs(left) // 3600}h{abs(left) % 3600 // 60:02d}m"
    notes = [
        note
        for note, present in (
            ("yours: another supervisor decides", entry["requested_by_you"]),
            ("emergency", approval["emergency"]),
            ("escalated", approval["escalated"]),
        )
        if present
    ]
    return (
        approval["approval_id"],
        approval["case_id"],
        approval["kind"],
        f"{approval['level']} {approval['area']}",
        approval["requested_by"],
        approval["requested_at"],
        f"overdue by {hours}" if entry["overdue"] else hours,
        notes,
    )
