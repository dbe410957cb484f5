"""`caseflow audit` and `caseflow report`: an auditor replays, compares and verifies the record,
and reads the program report, as a table, JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from domain.commands import PROGRAM_TIMEZONE
from tests.cli.conftest import SCORES, Cli, eventually, report


def test_an_auditor_replays_compares_and_verifies_a_case(cli: Cli) -> None:
    case_id = report(cli, "cli-report-audit")
    with cli.http("demo-caseworker") as api:
        reported = api.get(f"/cases/{case_id}/timeline").json()[-1]["recorded_at"]
        assessed = api.post(f"/cases/{case_id}/assessment", json={"scores": SCORES})
        assert assessed.status_code == 201, assessed.text
    auditor = cli.token("demo-auditor")

    then = cli.json("audit", "replay", case_id, "--as-of", reported, token=auditor)
    assert (then["status"], then["need_scores"]) == ("reported", None)
    now = cli.json("cases", "show", case_id, token=auditor)
    assert now["status"] == "assessed"
    assert f"as of {datetime.fromisoformat(reported).isoformat()}" in cli.ok(
        "audit", "replay", case_id, "--as-of", reported, token=auditor
    )

    diff = cli.json("audit", "diff", case_id, "--from", reported, token=auditor)
    assert [event["type"] for event in diff["events"]] == ["AssessmentRecorded"]
    assert {"status", "need_scores", "risk_level"} <= {c["field"] for c in diff["changes"]}
    table = cli.ok("audit", "diff", case_id, "--from", reported, token=auditor)
    assert "AssessmentRecorded" in table
    assert "need_scores" in table

    assert "intact" in cli.ok("audit", "verify", case_id, token=auditor)
    whole = cli.json("audit", "verify", token=cli.token("demo-admin"))
    assert whole["ok"] is True
    assert whole["events_checked"] > 0

    cli.run(
        "audit", "replay", case_id, "--as-of", reported, token=cli.token("demo-caseworker")
    ).refused("Not allowed", "auditor")
    cli.run("audit", "replay", case_id, "--as-of", "last tuesday", token=auditor).refused(
        "not a date and time"
    )
    cli.run(
        "audit",
        "diff",
        case_id,
        "--from",
        "2030-01-01T00:00+08:00",
        "--to",
        "2029-01-01T00:00+08:00",
        token=auditor,
    ).refused("later than")


def test_an_auditor_reads_the_program_report_three_ways(cli: Cli) -> None:
    report(cli, "cli-report-program")
    auditor = cli.token("demo-auditor")
    year = str(datetime.now(PROGRAM_TIMEZONE).year)

    def counted() -> dict[str, int] | None:
        answer = cli.json(
            "report", "program", "--county", "zhenxiong", "--year", year, token=auditor
        )
        figures = {f["figure"]: f["count"] for f in answer["figures"]}
        return figures if figures["children_covered.de_facto_orphan"] >= 1 else None

    figures = eventually(counted, what="the reported child in the program report")
    table = cli.ok("report", "program", "--county", "530627", token=auditor)
    assert "Program report: Zhenxiong (530627)" in table
    assert "children_covered.de_facto_orphan" in table
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli.ok(
                    "report",
                    "program",
                    "--county",
                    "530627",
                    "--year",
                    year,
                    "--csv",
                    token=auditor,
                )
            )
        )
    )
    assert {row["figure"] for row in rows} == set(figures)
    assert all(row["facts"].startswith("/reports/program/facts?") for row in rows)

    cli.run("report", "program", "--county", "Yudu", token=auditor).refused(
        "Outside your area", "360731"
    )
    cli.run("report", "program", "--county", "Atlantis", token=auditor).refused("pilot county")
    cli.run("report", "program", "--county", "530627", token=cli.token("demo-caseworker")).refused(
        "Not allowed"
    )
