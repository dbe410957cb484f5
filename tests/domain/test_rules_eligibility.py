"""De facto orphan eligibility: every qualifying situation at its boundary, and the combinations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.child import DisabilityKind, ParentRelation, ParentSituation, ParentSituationKind
from domain.rules.calendar import add_months
from domain.rules.eligibility import (
    RULE,
    RULE_VERSION,
    de_facto_orphan_eligibility,
    orphan,
    qualifying_situation,
)

K = ParentSituationKind
ON = date(2026, 7, 15)
CHILD_BORN = date(2015, 3, 10)


def father(situation: ParentSituationKind, **details: Any) -> ParentSituation:
    return ParentSituation(relation=ParentRelation.father, situation=situation, **details)


def mother(situation: ParentSituationKind, **details: Any) -> ParentSituation:
    return ParentSituation(relation=ParentRelation.mother, situation=situation, **details)


def imprisoned_for_six_months() -> ParentSituation:
    return father(K.imprisoned, since=date(2026, 1, 15), expected_end=date(2026, 7, 14))


# -- severe disability ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "kind", "qualifies"),
    [
        (1, DisabilityKind.physical, True),
        (2, DisabilityKind.physical, True),
        (2, DisabilityKind.visual, True),
        (3, DisabilityKind.physical, False),
        (4, DisabilityKind.hearing, False),
        (3, DisabilityKind.multiple, False),
        (3, DisabilityKind.mental, True),
        (4, DisabilityKind.mental, True),
        (3, DisabilityKind.intellectual, True),
        (4, DisabilityKind.intellectual, True),
    ],
)
def test_severe_disability_grade(grade: int, kind: DisabilityKind, qualifies: bool) -> None:
    parent = father(K.severe_disability, disability_grade=grade, disability_kind=kind)
    assert qualifying_situation(parent, on=ON) is qualifies


# -- serious illness ------------------------------------------------------------------------------


@pytest.mark.parametrize(("listed", "qualifies"), [(True, True), (False, False), (None, False)])
def test_serious_illness_must_be_on_the_list(listed: bool | None, qualifies: bool) -> None:
    parent = mother(K.serious_illness, on_serious_illness_list=listed)
    assert qualifying_situation(parent, on=ON) is qualifies


# -- restriction of liberty -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.imprisoned, K.drug_rehabilitation, K.restricted_liberty])
@pytest.mark.parametrize(
    ("since", "expected_end", "qualifies"),
    [
        # 15 January through 14 July is exactly 6 months; through 13 July is one day less.
        (date(2026, 1, 15), date(2026, 7, 14), True),
        (date(2026, 1, 15), date(2026, 7, 13), False),
        (date(2026, 1, 15), date(2027, 1, 14), True),
        # From the last day of a month: through the day before the same-numbered day 6 months on.
        (date(2025, 8, 31), date(2026, 2, 27), True),
        (date(2025, 8, 31), date(2026, 2, 26), False),
    ],
)
def test_restriction_of_liberty_lasting_six_months(
    kind: ParentSituationKind, since: date, expected_end: date, qualifies: bool
) -> None:
    parent = father(kind, since=since, expected_end=expected_end)
    assert qualifying_situation(parent, on=since) is qualifies


def test_a_restriction_that_has_ended_no_longer_qualifies() -> None:
    parent = imprisoned_for_six_months()
    assert qualifying_situation(parent, on=date(2026, 7, 14))  # the last day of the term
    assert not qualifying_situation(parent, on=date(2026, 7, 15))


def test_a_restriction_not_yet_begun_does_not_qualify() -> None:
    parent = imprisoned_for_six_months()
    assert not qualifying_situation(parent, on=date(2026, 1, 14))
    assert qualifying_situation(parent, on=date(2026, 1, 15))


def test_a_restriction_with_no_expected_end_qualifies_once_it_has_lasted_six_months() -> None:
    parent = father(K.drug_rehabilitation, since=date(2026, 1, 15))
    assert not qualifying_situation(parent, on=date(2026, 7, 14))
    assert qualifying_situation(parent, on=date(2026, 7, 15))


def test_a_restriction_with_no_recorded_start_qualifies_when_six_months_remain() -> None:
    parent = father(K.imprisoned, expected_end=date(2027, 1, 14))
    assert qualifying_situation(parent, on=date(2026, 7, 15))
    assert not qualifying_situation(parent, on=date(2026, 7, 16))


def test_a_restriction_with_neither_start_nor_end_does_not_qualify() -> None:
    assert not qualifying_situation(father(K.imprisoned), on=ON)


@given(
    since=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    extra_days=st.integers(min_value=-200, max_value=400),
)
def test_a_term_qualifies_exactly_when_it_covers_six_calendar_months(
    since: date, extra_days: int
) -> None:
    # The day after the term ends must be at least 6 calendar months after it began.
    six_months_end = add_months(since, 6) - timedelta(days=1)
    expected_end = six_months_end + timedelta(days=extra_days)
    if expected_end < since:
        return
    parent = father(K.imprisoned, since=since, expected_end=expected_end)
    assert qualifying_situation(parent, on=since) is (extra_days >= 0)


# -- missing --------------------------------------------------------------------------------------


def test_missing_qualifies_from_six_months_after_police_accepted_the_report() -> None:
    parent = mother(K.missing, since=date(2026, 1, 15))
    assert not qualifying_situation(parent, on=date(2026, 7, 14))
    assert qualifying_situation(parent, on=date(2026, 7, 15))
    assert qualifying_situation(parent, on=date(2030, 1, 1))


def test_missing_since_the_end_of_august_counts_to_the_end_of_february() -> None:
    parent = mother(K.missing, since=date(2025, 8, 31))
    assert not qualifying_situation(parent, on=date(2026, 2, 27))
    assert qualifying_situation(parent, on=date(2026, 2, 28))


def test_missing_without_a_police_report_does_not_qualify() -> None:
    assert not qualifying_situation(mother(K.missing), on=ON)


# -- the rest -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "qualifies"),
    [
        (K.guardianship_revoked, True),
        (K.deported, True),
        (K.present_and_able, False),
        (K.working_away, False),
        (K.unknown, False),
        (K.deceased, False),  # counts only in combination, see below
    ],
)
def test_other_situations(kind: ParentSituationKind, qualifies: bool) -> None:
    assert qualifying_situation(father(kind), on=ON) is qualifies


# -- the combinations -----------------------------------------------------------------------------


def test_both_parents_qualifying() -> None:
    result = de_facto_orphan_eligibility(
        [imprisoned_for_six_months(), mother(K.missing, since=date(2025, 1, 1))],
        child_date_of_birth=CHILD_BORN,
        on=date(2026, 3, 1),
    )
    assert result.eligible
    assert result.qualifying == ("father:imprisoned", "mother:missing")
    assert result.reasons == ("both parents are in a qualifying situation",)
    assert (result.rule, result.rule_version) == (RULE, RULE_VERSION)


def test_one_parent_dead_and_the_other_qualifying() -> None:
    result = de_facto_orphan_eligibility(
        [mother(K.deceased), imprisoned_for_six_months()],
        child_date_of_birth=CHILD_BORN,
        on=date(2026, 3, 1),
    )
    assert result.eligible
    assert result.qualifying == ("father:imprisoned", "mother:deceased")
    assert result.reasons == ("the mother is deceased and the father is in a qualifying situation",)


def test_one_parent_dead_and_the_other_not_qualifying() -> None:
    result = de_facto_orphan_eligibility(
        [mother(K.deceased), father(K.working_away)],
        child_date_of_birth=CHILD_BORN,
        on=ON,
    )
    assert not result.eligible
    assert result.qualifying == ("mother:deceased",)
    assert result.reasons == (
        "the father's situation (working away) is not a qualifying situation",
    )


def test_one_parent_qualifying_and_the_other_able_is_not_enough() -> None:
    result = de_facto_orphan_eligibility(
        [imprisoned_for_six_months(), mother(K.present_and_able)],
        child_date_of_birth=CHILD_BORN,
        on=date(2026, 3, 1),
    )
    assert not result.eligible
    assert result.qualifying == ("father:imprisoned",)


def test_a_parent_missing_less_than_six_months_does_not_stand_for_dead() -> None:
    result = de_facto_orphan_eligibility(
        [imprisoned_for_six_months(), mother(K.missing, since=date(2026, 2, 1))],
        child_date_of_birth=CHILD_BORN,
        on=date(2026, 3, 1),
    )
    assert not result.eligible
    assert result.reasons == ("the mother has been missing for less than 6 months",)


def test_a_parent_not_described_counts_as_not_qualifying() -> None:
    result = de_facto_orphan_eligibility(
        [imprisoned_for_six_months()], child_date_of_birth=CHILD_BORN, on=date(2026, 3, 1)
    )
    assert not result.eligible
    assert result.reasons == ("the mother's situation is not described; describe both parents",)
    assert not de_facto_orphan_eligibility([], child_date_of_birth=CHILD_BORN, on=ON).eligible


def test_both_parents_dead_is_an_orphan_not_a_de_facto_orphan() -> None:
    parents = [father(K.deceased), mother(K.deceased)]
    result = de_facto_orphan_eligibility(parents, child_date_of_birth=CHILD_BORN, on=ON)
    assert not result.eligible
    assert result.reasons == (
        "both parents are deceased: the child is an orphan, not a de facto orphan",
    )
    assert orphan(parents)


@pytest.mark.parametrize(
    ("on", "eligible"),
    [
        (date(2033, 3, 9), True),  # the day before the 18th birthday
        (date(2033, 3, 10), False),  # the 18th birthday
    ],
)
def test_only_children_under_18(on: date, eligible: bool) -> None:
    parents = [father(K.deported), mother(K.guardianship_revoked)]
    result = de_facto_orphan_eligibility(parents, child_date_of_birth=CHILD_BORN, on=on)
    assert result.eligible is eligible
    assert ("the child has turned 18" in result.reasons) is not eligible


def test_born_on_29_february_is_under_18_until_1_march() -> None:
    parents = [father(K.deported), mother(K.deceased)]
    born = date(2012, 2, 29)
    assert de_facto_orphan_eligibility(
        parents, child_date_of_birth=born, on=date(2030, 2, 28)
    ).eligible
    assert not de_facto_orphan_eligibility(
        parents, child_date_of_birth=born, on=date(2030, 3, 1)
    ).eligible


def test_a_death_after_the_day_assessed_does_not_count() -> None:
    result = de_facto_orphan_eligibility(
        [mother(K.deceased, since=date(2026, 8, 1)), father(K.deported)],
        child_date_of_birth=CHILD_BORN,
        on=ON,
    )
    assert not result.eligible
    assert result.reasons == ("the mother's situation had not begun on the day assessed",)


def test_every_shortfall_is_reported() -> None:
    result = de_facto_orphan_eligibility(
        [father(K.working_away)], child_date_of_birth=date(2000, 1, 1), on=ON
    )
    assert len(result.reasons) == 3


def test_reasons_carry_no_dates_of_birth() -> None:
    result = de_facto_orphan_eligibility(
        [father(K.working_away)], child_date_of_birth=CHILD_BORN, on=ON
    )
    assert not any(CHILD_BORN.isoformat() in reason for reason in result.reasons)


def test_a_parent_described_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="described once"):
        de_facto_orphan_eligibility(
            [father(K.deported), father(K.deceased)], child_date_of_birth=CHILD_BORN, on=ON
        )


@pytest.mark.parametrize(
    ("parents", "is_orphan"),
    [
        ([father(K.deceased), mother(K.deceased)], True),
        ([father(K.deceased)], False),
        ([father(K.deceased), mother(K.missing, since=date(2000, 1, 1))], False),
        ([], False),
    ],
)
def test_orphan(parents: list[ParentSituation], is_orphan: bool) -> None:
    assert orphan(parents) is is_orphan


QUALIFYING_KINDS = st.sampled_from([K.deported, K.guardianship_revoked])
NOT_QUALIFYING_KINDS = st.sampled_from([K.present_and_able, K.working_away, K.unknown])


@given(
    father_kind=st.one_of(QUALIFYING_KINDS, NOT_QUALIFYING_KINDS, st.just(K.deceased)),
    mother_kind=st.one_of(QUALIFYING_KINDS, NOT_QUALIFYING_KINDS, st.just(K.deceased)),
)
def test_eligible_exactly_when_each_parent_is_dead_or_qualifying_but_not_both_dead(
    father_kind: ParentSituationKind, mother_kind: ParentSituationKind
) -> None:
    kinds = (father_kind, mother_kind)
    counts = [kind is K.deceased or kind in (K.deported, K.guardianship_revoked) for kind in kinds]
    expected = all(counts) and kinds != (K.deceased, K.deceased)
    result = de_facto_orphan_eligibility(
        [father(father_kind), mother(mother_kind)], child_date_of_birth=CHILD_BORN, on=ON
    )
    assert result.eligible is expected
