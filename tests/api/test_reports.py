"""The program report: figures computed from the recorded history, each traced to its events."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from domain.commands import PROGRAM_TIMEZONE
from tests.api.conftest import VILLAGE, World, project, report_child

SCORES = {
    "survival": 3,
    "education": 1,
    "health": 0,
    "guardianship": 2,
    "safety": 1,
    "psychosocial": 1,
}


async def test_a_delivery_counts_in_the_report_and_links_to_its_event(world: World) -> None:
    http = world.engine.http
    caseworker = world.auth("demo-caseworker")
    case_id = await report_child(world, "demo-caseworker", VILLAGE)
    assert (
        await http.post(f"/cases/{case_id}/assessment", json={"scores": SCORES}, headers=caseworker)
    ).status_code == 201
    requested = await http.post(
        f"/cases/{case_id}/assistance",
        json={"kind": "quilt", "quantity": 1, "unit": "quilt", "value_yuan": 150},
        headers=caseworker,
    )
    assert requested.status_code == 201, requested.text
    [request_id] = requested.json()["state"]["assistance"]
    today = datetime.now(PROGRAM_TIMEZONE).date()
    delivered = await http.post(
        f"/cases/{case_id}/assistance/{request_id}/deliveries",
        json={"quantity": 1, "delivered_on": today.isoformat()},
        headers=caseworker,
    )
    assert delivered.status_code == 201, delivered.text
    [delivery_event] = delivered.json()["event_ids"]
    await project(world.engine)

    auditor = world.auth("demo-auditor")
    params: dict[str, str | int] = {"year": today.year, "county": "530627"}
    report = await http.get("/reports/program", params=params, headers=auditor)
    assert report.status_code == 200, report.text
    figures = {figure["figure"]: figure for figure in report.json()["figures"]}
    assert figures["assistance.total"]["count"] >= 1
    assert figures["assistance.kind.quilt"]["count"] >= 1
    assert figures["children_covered.de_facto_orphan"]["count"] >= 1
    assert report.json()["as_of_position"] > 0

    facts = await http.get(figures["assistance.kind.quilt"]["facts"], headers=auditor)
    assert facts.status_code == 200, facts.text
    assert facts.json()["count"] == figures["assistance.kind.quilt"]["count"]
    linked = {(fact["case_id"], fact["event_id"]) for fact in facts.json()["facts"]}
    assert (str(case_id), delivery_event) in linked
    timeline = await http.get(f"/cases/{case_id}/timeline", headers=auditor)
    [entry] = [e for e in timeline.json() if e["event_id"] == delivery_event]
    assert entry["type"] == "AssistanceDelivered"
    [fact] = [f for f in facts.json()["facts"] if f["event_id"] == delivery_event]
    assert fact["position"] == entry["position"]

    as_csv = [({**params, "format": "csv"}, auditor), (params, {**auditor, "Accept": "text/csv"})]
    for query, headers in as_csv:
        answer = await http.get("/reports/program", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        by_figure = {row["figure"]: row for row in rows}
        assert int(by_figure["assistance.total"]["count"]) == figures["assistance.total"]["count"]
        assert by_figure["assistance.total"]["facts"] == figures["assistance.total"]["facts"]


async def test_an_unknown_figure_or_county_is_refused_clearly(world: World) -> None:
    auditor = world.auth("demo-auditor")
    unknown = await world.engine.http.get(
        "/reports/program/facts",
        params={"year": 2025, "county": "530627", "figure": "happiness"},
        headers=auditor,
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_figure"
    assert "assistance.total" in unknown.json()["detail"]
    not_a_county = await world.engine.http.get(
        "/reports/program", params={"year": 2025, "county": "5306"}, headers=auditor
    )
    assert not_a_county.status_code == 422
