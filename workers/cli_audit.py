"""`caseflow audit`: a case as it stood at a moment, what changed between two moments, and
whether the record is intact (auditors; verify also admins), through the API."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

import typer

from workers.cli_api import ApiUrl, Token, parse_moment, signed_in
from workers.cli_cases import print_case, print_timeline
from workers.cli_output import Json, fail, print_json, print_table, say

audit = typer.Typer(
    help="Replay, compare and verify the record (auditors, through the API).",
    no_args_is_help=True,
)

CaseId = Annotated[UUID, typer.Argument(help="The case's id.", show_default=False)]
VALUE_WIDTH = 60


@audit.command("replay")
def replay(
    case_id: CaseId,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="ISO 8601 moment; without an offset, this machine's time zone."
        ),
    ],
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The case as the events recorded by that moment tell it: what anyone could know then."""
    moment = parse_moment(as_of, "--as-of")
    with signed_in(api_url, token) as api:
        state = api.get(f"/cases/{case_id}", as_of=moment.isoformat())
    if as_json:
        print_json(state)
        return
    print_case(state, title=f"Case {case_id} as of {moment.isoformat()}")


@audit.command("diff")
def diff(
    case_id: CaseId,
    from_: Annotated[str, typer.Option("--from", help="The earlier moment (ISO 8601).")],
    to: Annotated[str | None, typer.Option("--to", help="The later moment (default: now).")] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """What changed in the case between two moments: the events in between, the fields changed."""
    earlier = parse_moment(from_, "--from")
    later = parse_moment(to, "--to") if to is not None else None
    with signed_in(api_url, token) as api:
        answer = api.get(
            f"/cases/{case_id}/diff",
            **{"from": earlier.isoformat()},
            to=later.isoformat() if later else None,
        )
    if as_json:
        print_json(answer)
        return
    if not answer["existed_before"]:
        say(f"Case {case_id} had not been reported by {earlier.isoformat()}.")
    print_timeline(answer["events"])
    print_table(
        "Changed fields",
        ["field", "before", "after"],
        (
            (change["field"], _brief(change["before"]), _brief(change["after"]))
            for change in answer["changes"]
        ),
        empty="No field of the case changed.",
    )


@audit.command("verify")
def verify(
    case_id: Annotated[
        UUID | None,
        typer.Argument(help="One case's hash chain; without it, the whole log and checkpoints."),
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Check that the record is intact: hash chains (and signed checkpoints for the whole log).
    Exits with 1 when it is not."""
    path = f"/cases/{case_id}/integrity" if case_id else "/integrity"
    with signed_in(api_url, token) as api:
        report = api.get(path)
    what = f"case {case_id}" if case_id else "the event log"
    if as_json:
        print_json(report)
    else:
        say(
            f"{what}: {'intact' if report['ok'] else 'NOT intact'} "
            f"({report['events_checked']} event(s), {report['checkpoints_checked']} "
            "checkpoint(s) checked)"
        )
    if not report["ok"]:
        fail(f"{what} differs from its hashes: {report['first_problem']}")


def _brief(value: Any) -> str:
    """A value of the state in one line, shortened: the diff is read, not parsed."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"
