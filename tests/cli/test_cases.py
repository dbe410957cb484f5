"""`caseflow cases` and `caseflow approvals`, as caseworkers, supervisors and auditors do it."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import REPORT, SCORES, Cli, eventually, report


def test_a_caseworker_reports_shows_and_lists_a_case(cli: Cli) -> None:
    caseworker = cli.token("demo-caseworker")
    said = cli.ok(
        "cases", "report", str(REPORT), "--idempotency-key", "cli-report-1", token=caseworker
    )
    assert "opened: priority urgent" in said
    case_id = report(cli, "cli-report-1")  # the same key: the same case, not a second one
    assert case_id in said

    shown = cli.ok("cases", "show", case_id, "--timeline", token=caseworker)
    assert "Example Child" in shown  # the case's own caseworker asked: the child is shown
    assert "CaseOpened" in shown
    assert "PriorityAssigned" in shown
    with cli.http("demo-caseworker") as api:
        assert cli.json("cases", "show", case_id, token=caseworker) == (
            api.get(f"/cases/{case_id}").json()
        )

    def listed() -> dict[str, Any] | None:
        page = cli.json("cases", "list", "--status", "reported", token=caseworker)
        found = [row for row in page["items"] if row["case_id"] == case_id]
        return found[0] if found else None

    row = eventually(listed, what="the reported case in the caseload")
    assert row["assigned_to"] == "demo-caseworker"
    table = cli.ok("cases", "list", token=caseworker)
    assert case_id in table
    assert "Example Child" not in table


def test_reading_or_writing_outside_ones_role_or_area_is_refused_plainly(cli: Cli) -> None:
    case_id = report(cli, "cli-report-refusals")
    cli.run("cases", "report", str(REPORT), token=cli.token("demo-auditor")).refused(
        "Not allowed", "auditor"
    )
    cli.run("cases", "show", case_id, token=cli.token("demo-social-worker")).refused(
        "Case not found"
    )
    cli.run("cases", "list", token="cf_not-a-token").refused("Sign-in failed")
    cli.run("cases", "list").refused("no token", "CASEFLOW_TOKEN")
    cli.run("cases", "list", "--api-url", "http://127.0.0.1:9", token="x").refused(
        "cannot reach the caseflow API at http://127.0.0.1:9"
    )
    cli.run("cases", "report", "-", token=cli.token("demo-caseworker"), stdin="{").refused(
        "is not JSON"
    )
    bad = json.loads(REPORT.read_text()) | {"village": "12"}
    cli.run(
        "cases", "report", "-", token=cli.token("demo-caseworker"), stdin=json.dumps(bad)
    ).refused("The request is not valid", "village")


def test_a_supervisor_decides_from_the_inbox(cli: Cli) -> None:
    case_id = report(cli, "cli-report-approval")
    with cli.http("demo-caseworker") as api:
        assessed = api.post(f"/cases/{case_id}/assessment", json={"scores": SCORES})
        assert assessed.status_code == 201, assessed.text
        asked = api.post(
            f"/cases/{case_id}/assistance",
            json={"kind": "medical_aid", "quantity": 1, "unit": "treatment", "value_yuan": 4200},
        )
        assert asked.status_code == 201, asked.text
    [approval_id] = asked.json()["state"]["approvals"]
    supervisor = cli.token("demo-supervisor")

    def in_inbox() -> dict[str, Any] | None:
        inbox = cli.json("approvals", "list", "--kind", "assistance", token=supervisor)
        found = [e for e in inbox["items"] if e["approval"]["approval_id"] == approval_id]
        return found[0] if found else None

    entry = eventually(in_inbox, what="the assistance approval in the supervisor's inbox")
    assert entry["approval"]["case_id"] == case_id
    assert approval_id in cli.ok("approvals", "list", token=supervisor)

    cli.run(
        "approvals",
        "decide",
        approval_id,
        "approve",
        "--case",
        case_id,
        token=cli.token("demo-caseworker"),
    ).refused("Not allowed")
    cli.run(
        "approvals", "decide", approval_id, "reject", "--case", case_id, token=supervisor
    ).refused("comment")
    said = cli.ok(
        "approvals", "decide", approval_id, "approve", "--comment", "Fine", token=supervisor
    )  # the case found in the inbox
    assert f"Approval {approval_id} (assistance) of case {case_id}: granted" in said
    cli.run(
        "approvals", "decide", approval_id, "approve", "--case", case_id, token=supervisor
    ).refused("already granted")
