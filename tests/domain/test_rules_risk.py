"""The risk level that follows from the six needs scores, at every boundary."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.rules.risk import NeedScores, RiskLevel, risk_level

DOMAINS = ("survival", "education", "health", "guardianship", "safety", "psychosocial")
ORDER = [RiskLevel.low, RiskLevel.moderate, RiskLevel.high, RiskLevel.very_high]


def scores(**given_scores: int) -> NeedScores:
    return NeedScores(**{domain: given_scores.get(domain, 0) for domain in DOMAINS})


@pytest.mark.parametrize(
    ("given_scores", "expected"),
    [
        ({}, RiskLevel.low),
        # four 1s: total 4, no 2 — still low
        (dict(survival=1, education=1, health=1, psychosocial=1), RiskLevel.low),
        # five 1s: total 5 — moderate
        (dict(survival=1, education=1, health=1, psychosocial=1, safety=1), RiskLevel.moderate),
        ({"education": 2}, RiskLevel.moderate),  # one serious need
        # total 9 of 2s and 1s — moderate; total 10 — high
        (dict(survival=2, education=2, health=2, psychosocial=2, safety=1), RiskLevel.moderate),
        (dict(survival=2, education=2, health=2, psychosocial=2, safety=2), RiskLevel.high),
        ({"survival": 3}, RiskLevel.high),
        ({"education": 3}, RiskLevel.high),
        ({"health": 3}, RiskLevel.high),
        ({"psychosocial": 3}, RiskLevel.high),
        ({"safety": 2, "guardianship": 2}, RiskLevel.moderate),
        ({"safety": 3}, RiskLevel.very_high),
        ({"guardianship": 3}, RiskLevel.very_high),
        ({domain: 3 for domain in DOMAINS}, RiskLevel.very_high),
        (dict(survival=3, education=3, health=3, psychosocial=3, safety=2), RiskLevel.high),
    ],
)
def test_risk_level(given_scores: dict[str, int], expected: RiskLevel) -> None:
    assert risk_level(scores(**given_scores)) is expected


def test_total_and_highest() -> None:
    need = scores(survival=1, education=2, safety=3)
    assert need.total == 6
    assert need.highest == 3


@pytest.mark.parametrize("bad", [-1, 4])
def test_scores_are_0_to_3(bad: int) -> None:
    with pytest.raises(ValidationError):
        scores(health=bad)


def test_every_domain_must_be_scored() -> None:
    partial: dict[str, Any] = {domain: 0 for domain in DOMAINS[:-1]}
    with pytest.raises(ValidationError, match="psychosocial"):
        NeedScores(**partial)


def test_scores_are_frozen() -> None:
    need = scores()
    with pytest.raises(ValidationError):
        need.safety = 3  # type: ignore[misc]


score_values = st.integers(min_value=0, max_value=3)
all_scores = st.fixed_dictionaries({domain: score_values for domain in DOMAINS})


@given(before=all_scores, domain=st.sampled_from(DOMAINS), raise_by=st.integers(1, 3))
def test_raising_a_score_never_lowers_the_level(
    before: dict[str, int], domain: str, raise_by: int
) -> None:
    after = dict(before, **{domain: min(3, before[domain] + raise_by)})
    assert ORDER.index(risk_level(NeedScores(**after))) >= ORDER.index(
        risk_level(NeedScores(**before))
    )


@given(values=all_scores)
def test_the_level_matches_the_documented_rule(values: dict[str, int]) -> None:
    total = sum(values.values())
    top = max(values.values())
    if 3 in (values["safety"], values["guardianship"]):
        expected = RiskLevel.very_high
    elif top == 3 or total >= 10:
        expected = RiskLevel.high
    elif top == 2 or total >= 5:
        expected = RiskLevel.moderate
    else:
        expected = RiskLevel.low
    assert risk_level(NeedScores(**values)) is expected
