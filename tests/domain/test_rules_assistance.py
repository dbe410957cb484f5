"""Kinds of assistance, their report groups, and which need approval."""

from __future__ import annotations

import pytest

from domain.rules.assistance import (
    APPROVAL_THRESHOLD_YUAN,
    ASSISTANCE_GROUP,
    AssistanceKind,
    assistance_needs_approval,
)


def test_every_kind_has_a_report_group() -> None:
    assert set(ASSISTANCE_GROUP) == set(AssistanceKind)
    assert set(ASSISTANCE_GROUP.values()) == {
        "survival",
        "school",
        "living_allowance",
        "medical",
        "psychosocial",
        "care",
    }


@pytest.mark.parametrize(
    ("group", "kinds"),
    [
        ("survival", {"food_pack", "hygiene_kit", "winter_clothes", "quilt"}),
        ("school", {"tuition_and_fees", "school_supplies", "tuition_waiver"}),
        ("living_allowance", {"living_allowance"}),
        ("medical", {"medical_aid"}),
    ],
)
def test_report_groups(group: str, kinds: set[str]) -> None:
    assert {kind for kind, named in ASSISTANCE_GROUP.items() if named == group} == kinds


def test_the_threshold_is_2000_yuan() -> None:
    assert APPROVAL_THRESHOLD_YUAN == 2000


@pytest.mark.parametrize(
    ("kind", "value", "needed"),
    [
        (AssistanceKind.food_pack, 200, False),
        (AssistanceKind.tuition_and_fees, 2000, False),
        (AssistanceKind.tuition_and_fees, 2001, True),
        (AssistanceKind.medical_aid, 15000, True),
        (AssistanceKind.living_allowance, 950, False),
        (AssistanceKind.living_allowance, 5000, False),  # follows recognition, never approved
    ],
)
def test_assistance_needs_approval(kind: AssistanceKind, value: int, needed: bool) -> None:
    assert assistance_needs_approval(kind, value) is needed


def test_a_county_may_set_its_own_threshold() -> None:
    assert assistance_needs_approval(AssistanceKind.quilt, 600, threshold_yuan=500)
    assert not assistance_needs_approval(AssistanceKind.quilt, 500, threshold_yuan=500)
