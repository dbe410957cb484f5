"""The demo data set: one pilot county, a few villages, users of each role, a handful of children.

Village names and people are generated, never real. The county and its administrative codes come
from the program's list of pilot counties (`integrations/simulation/pilot_counties.csv`, shared
with the simulators, whose name generators it uses too). Children are reported through the API
like any caseworker would, with fixed idempotency keys, so loading twice reports each child once.
"""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from integrations.simulation.world import PILOT_COUNTIES, SURNAMES, given_name, place_name
from store.directory import Area, Directory, User

DEMO_COUNTY = "Zhenxiong"
TOWNSHIPS = ["Wumeng", "Yunfeng"]
VILLAGES_PER_TOWNSHIP = 3


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_id: str
    display_name: str
    role: str
    area: str
    token: str


def demo_areas() -> list[Area]:
    with PILOT_COUNTIES.open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["county"] == DEMO_COUNTY)
    province, prefecture, county = (
        row["province_code"][:2],
        row["prefecture_code"][:4],
        row["county_code"],
    )
    areas = [
        Area(province, row["province"], "province", None),
        Area(prefecture, row["prefecture"], "prefecture", province),
        Area(county, row["county"], "county", prefecture),
    ]
    rng = random.Random(county)  # the same generated names on every machine
    for t, township_name in enumerate(TOWNSHIPS, start=1):
        township = f"{county}{100 + t:03d}"
        areas.append(Area(township, f"{township_name} Township", "township", county))
        for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
            name = place_name(rng)
            areas.append(Area(f"{township}{200 + v:03d}", f"{name} Village", "village", township))
    return areas


def demo_people(areas: list[Area]) -> list[tuple[str, str, str, str]]:
    """(user id, display name, role, area) for one user of each role and a second caseworker."""
    county = next(a.code for a in areas if a.level == "county")
    townships = [a.code for a in areas if a.level == "township"]
    first_village = next(a.code for a in areas if a.level == "village" and a.parent == townships[0])
    return [
        ("demo-caseworker", "Village child welfare director (demo)", "caseworker", first_village),
        ("demo-social-worker", "Partner social worker (demo)", "caseworker", townships[1]),
        ("demo-supervisor", "Township child welfare supervisor (demo)", "supervisor", townships[0]),
        ("demo-county-officer", "County civil affairs officer (demo)", "supervisor", county),
        ("demo-auditor", "Foundation monitoring officer (demo)", "auditor", county),
        ("demo-admin", "System operator (demo)", "admin", county[:2]),
    ]


async def load_directory(directory: Directory, tokens_file: Path) -> list[DemoUser]:
    """Add the demo areas and users once; their tokens are kept in `tokens_file` (mode 0600)."""
    if tokens_file.exists():
        return read_demo_users(tokens_file)
    areas = demo_areas()
    await directory.add_areas(areas)
    users = []
    for user_id, display_name, role, area in demo_people(areas):
        token = await directory.add_user(User(user_id, display_name, role, area))
        users.append(DemoUser(user_id, display_name, role, area, token))
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(tokens_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump([asdict(user) for user in users], handle, indent=2)
    return users


def read_demo_users(tokens_file: Path) -> list[DemoUser]:
    return [DemoUser(**user) for user in json.loads(tokens_file.read_text(encoding="utf-8"))]


def demo_reports(villages: list[str]) -> list[dict[str, Any]]:
    """A handful of generated children, as the bodies of `POST /cases`."""
    rng = random.Random("caseflow-demo")
    situations: list[tuple[list[dict[str, Any]], list[str], list[str]]] = [
        (
            [
                {
                    "relation": "father",
                    "situation": "imprisoned",
                    "since": "2024-05-01",
                    "expected_end": "2030-05-01",
                },
                {"relation": "mother", "situation": "missing", "since": "2023-09-12"},
            ],
            ["de_facto_orphan"],
            [],
        ),
        (
            [
                {"relation": "father", "situation": "working_away"},
                {"relation": "mother", "situation": "working_away"},
            ],
            ["left_behind"],
            ["living_alone"],
        ),
        (
            [
                {"relation": "father", "situation": "deceased", "since": "2021-02-03"},
                {
                    "relation": "mother",
                    "situation": "severe_disability",
                    "disability_grade": 2,
                    "disability_kind": "physical",
                },
            ],
            ["de_facto_orphan"],
            [],
        ),
        (
            [
                {
                    "relation": "father",
                    "situation": "serious_illness",
                    "on_serious_illness_list": True,
                },
                {"relation": "mother", "situation": "present_and_able"},
            ],
            ["in_difficulty"],
            [],
        ),
        (
            [
                {"relation": "father", "situation": "working_away"},
                {"relation": "mother", "situation": "present_and_able"},
            ],
            ["left_behind"],
            [],
        ),
    ]
    reports = []
    for index, (parents, categories, concerns) in enumerate(situations):
        surname = rng.choice(SURNAMES)
        given = given_name(rng)
        reports.append(
            {
                "child": {
                    "name": f"{surname} {given}",
                    "sex": rng.choice(["female", "male"]),
                    "date_of_birth": date(
                        2010 + index * 2, rng.randint(1, 12), rng.randint(1, 28)
                    ).isoformat(),
                },
                "village": villages[index % len(villages)],
                "household": {
                    "address": f"Group {rng.randint(1, 9)}",
                    "members": rng.randint(1, 5),
                },
                "guardians": [
                    {
                        "name": f"{surname} {given_name(rng)}",
                        "relation": "grandparent",
                        "able_to_care": index % 2 == 0,
                    }
                ],
                "parents": parents,
                "categories": categories,
                "concerns": concerns,
                "observations": "Demo case: generated, not a real child.",
            }
        )
    return reports


async def report_demo_children(api_url: str, caseworker: DemoUser) -> int:
    """Report the demo children through the API; returns how many it answered for."""
    reports = demo_reports([caseworker.area])
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        for index, report in enumerate(reports):
            answer = await client.post(
                "/cases",
                json=report,
                headers={
                    "Authorization": f"Bearer {caseworker.token}",
                    "Idempotency-Key": f"demo-report-{index}",
                },
            )
            answer.raise_for_status()
    return len(reports)
