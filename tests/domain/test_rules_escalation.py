"""The escalation chain: township, county, prefecture, and the time each level has."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.rules.escalation import EscalationLevel, approval_sla, level_area, next_level

VILLAGE = "530627101201"  # a village of a township of Zhenxiong county, Zhaotong prefecture


def test_approval_sla() -> None:
    assert approval_sla(emergency=False) == timedelta(hours=48)
    assert approval_sla(emergency=True) == timedelta(hours=4)


def test_the_chain_runs_township_county_prefecture_and_stops() -> None:
    assert next_level(EscalationLevel.township) is EscalationLevel.county
    assert next_level(EscalationLevel.county) is EscalationLevel.prefecture
    assert next_level(EscalationLevel.prefecture) is None


def test_walking_the_chain_visits_every_level_once() -> None:
    seen: list[EscalationLevel] = []
    level: EscalationLevel | None = EscalationLevel.township
    while level is not None:
        seen.append(level)
        level = next_level(level)
    assert seen == list(EscalationLevel)


@pytest.mark.parametrize(
    ("level", "area"),
    [
        (EscalationLevel.township, "530627101"),
        (EscalationLevel.county, "530627"),
        (EscalationLevel.prefecture, "5306"),
    ],
)
def test_level_area(level: EscalationLevel, area: str) -> None:
    assert level_area(VILLAGE, level) == area


def test_level_area_needs_a_place_below_the_level() -> None:
    with pytest.raises(ValueError, match="above the township level"):
        level_area("530627", EscalationLevel.township)
