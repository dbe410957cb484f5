"""Counties on the command line: a 6-digit division code, or the name of a pilot county
(integrations/simulation/pilot_counties.csv, the program's list)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

import typer


@dataclass(frozen=True, slots=True)
class PilotCounty:
    code: str
    name: str
    prefecture_code: str
    prefecture: str
    province_code: str
    province: str


@cache
def pilot_counties() -> tuple[PilotCounty, ...]:
    from integrations.simulation.world import PILOT_COUNTIES

    with PILOT_COUNTIES.open(encoding="utf-8") as handle:
        return tuple(
            PilotCounty(
                code=row["county_code"],
                name=row["county"],
                # Area codes are the significant prefixes of the division codes (domain/areas.py).
                prefecture_code=row["prefecture_code"][:4],
                prefecture=row["prefecture"],
                province_code=row["province_code"][:2],
                province=row["province"],
            )
            for row in csv.DictReader(handle)
        )


def county_code(text: str, option: str = "--county") -> str:
    """The county's code, from its code or a pilot county's name (any case)."""
    given = text.strip()
    if re.fullmatch(r"\d{6}", given):
        return given
    wanted = _plain(given)
    for county in pilot_counties():
        if _plain(county.name) == wanted:
            return county.code
    names = ", ".join(county.name for county in pilot_counties())
    raise typer.BadParameter(
        f"{text!r} is neither a 6-digit county code nor a pilot county ({names})",
        param_hint=option,
    )


def pilot_county(code: str) -> PilotCounty | None:
    return next((county for county in pilot_counties() if county.code == code), None)


def _plain(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())
