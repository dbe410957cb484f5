"""`caseflow simulate`: a small program year through the engine, and the program report it
leads to checked against figures counted here, independently, from the raw event log."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

import asyncpg
from typer.testing import CliRunner

from domain.commands import PROGRAM_TIMEZONE
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from tests.cli.conftest import Cli, eventually
from workers.cli import app

COUNTIES = {"360731": "Yudu", "361129": "Wannian"}  # both in Jiangxi (36)


async def test_a_simulated_year_is_reported_as_its_events_tell(cli: Cli) -> None:
    year = datetime.now(PROGRAM_TIMEZONE).year
    done = await asyncio.to_thread(
        cli.run,
        "simulate",
        "--year",
        str(year),
        "--cases",
        "12",
        "--seed",
        "cli-test",
        "--counties",
        "Yudu,wannian",
        "--json",
    )
    assert done.code == 0, done.stderr
    tally = json.loads(done.stdout)
    counts: dict[str, dict[str, int]] = tally["counts"]
    assert counts["cases reported"] == {"360731": 6, "361129": 6}
    assert tally["refusals"] == {}
    # Each kind of work happened at least once.
    assert counts["approvals decided"].get("assistance: approve", 0) >= 1
    assert counts["referral answers recorded"]
    assert counts["visits recorded"]
    assert counts["guardian changes"]["approved"] == 1
    assert counts["transfers"]["approved"] == 1
    assert sum(counts["cases closed"].values()) == 1
    assert "sim-" not in done.stderr  # no token, no name: only the progress bar

    created = await asyncio.to_thread(
        cli.json,
        "users",
        "create",
        "jiangxi-auditor",
        "--name",
        "Province auditor",
        "--role",
        "auditor",
        "--area",
        "36",
    )
    auditor = created["token"]
    owner = f"postgresql://postgres@127.0.0.1:{cli.stack.env['CASEFLOW_POSTGRES_PORT']}/caseflow"
    head = await _log_head(owner)

    delivered = 0
    for county in COUNTIES:

        def caught_up(county: str = county) -> dict[str, Any] | None:
            answer = cli.json(
                "report", "program", "--county", county, "--year", str(year), token=auditor
            )
            return answer if answer["as_of_position"] >= head else None

        report = await asyncio.to_thread(eventually, caught_up, what="the projector at the head")
        figures = {f["figure"]: f["count"] for f in report["figures"]}
        expected = await figures_from_events(
            owner, county=county, year=year, up_to=report["as_of_position"]
        )
        assert {name: n for name, n in figures.items() if n} == expected
        assert set(expected) <= set(figures)
        delivered += figures["assistance.total"]
        assert figures["assistance.total"] > 0
        assert sum(n for name, n in figures.items() if name.startswith("children_covered.")) >= 6
    assert delivered == sum(counts["assistance delivered (person-times)"].values())

    # The generated children's names are in the event store, and in no log.
    names = await _children_named(owner, list(COUNTIES))
    assert len(names) == 12
    logs = "".join(
        log.read_text(errors="replace") for log in (cli.stack.data_dir / "logs").iterdir()
    )
    assert not [name for name in names if name in logs]


async def _children_named(url: str, counties: list[str]) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT data FROM events WHERE type = 'CaseOpened'")
    finally:
        await connection.close()
    reports = [json.loads(row["data"])["report"] for row in rows]
    return {r["child"]["name"] for r in reports if r["village"][:6] in counties}


async def _log_head(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT coalesce(max(position), 0) FROM events"))
    finally:
        await connection.close()


async def figures_from_events(url: str, *, county: str, year: int, up_to: int) -> dict[str, int]:
    """The program report's figures (only those above zero), counted straight from the events of
    the log up to position `up_to`, by their types and facts."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT stream_id, type, data, metadata FROM events WHERE position <= $1"
            " ORDER BY stream_id, version",
            up_to,
        )
    finally:
        await connection.close()
    streams: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for row in rows:
        streams[row["stream_id"]].append(
            (row["type"], json.loads(row["data"]), json.loads(row["metadata"]))
        )
    counted: Counter[str] = Counter()
    for events in streams.values():
        kind, opened, header = events[0]
        assert kind == "CaseOpened"
        if opened["report"]["village"][:6] != county:
            continue
        categories = set(opened["report"]["categories"])
        opened_on = datetime.fromisoformat(header["occurred_at"]).astimezone(PROGRAM_TIMEZONE)
        covered = opened_on.year == year
        school: str | None = None
        for kind, data, _ in events[1:]:
            if kind == "AssessmentRecorded":
                categories |= set(data["categories"])
            elif kind == "RecognitionConfirmed":
                categories.add("de_facto_orphan")
                counted["recognitions_confirmed"] += _in_year(data["recognised_on"], year)
            elif kind == "AssistanceDelivered" and _in_year(data["delivered_on"], year):
                group = ASSISTANCE_GROUP[AssistanceKind(data["kind"])]
                counted.update(
                    [
                        "assistance.total",
                        f"assistance.kind.{data['kind']}",
                        f"assistance.group.{group}",
                    ]
                )
            elif kind == "GuardianChangeRegistered":
                counted["guardian_changes_registered"] += _in_year(data["registered_on"], year)
            elif kind == "ChildTransferred":
                counted["transfers_completed"] += _in_year(data["transferred_on"], year)
            elif kind == "SchoolStatusChecked":
                if data["status"] == "returned" and school == "dropped_out":
                    counted["dropouts_returned_to_school"] += _in_year(data["checked_on"], year)
                school = data["status"]
            elif kind == "EligibilityCheckAnswered":
                facts = data.get("facts") or {}
                if facts.get("kind") == "school_enrolment":
                    school = facts["status"]
        if covered:
            counted.update(f"children_covered.{category}" for category in categories)
    return {name: n for name, n in counted.items() if n}


def _in_year(day: str, year: int) -> bool:
    return date.fromisoformat(day[:10]).year == year


def test_simulate_drives_only_an_engine_on_this_machine() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--cases", "1", "--api-url", "http://10.20.30.40:8000"]
    )
    assert result.exit_code == 2
    assert "loopback" in result.output
    year = CliRunner().invoke(app, ["simulate", "--year", "1999", "--api-url", "http://[::1]:9"])
    assert year.exit_code == 2
    assert "the year must be" in year.output
    county = CliRunner().invoke(app, ["simulate", "--counties", "Atlantis"])
    assert county.exit_code == 2
    assert "pilot county" in county.output
