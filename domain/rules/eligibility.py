"""Eligibility: is a child a de facto orphan (事实无人抚养儿童), or an orphan?

A de facto orphan is under 18 and either both parents are in a qualifying situation, or one parent
is dead and the other is in a qualifying situation (2019 national opinion on de facto unsupported
children). A parent declared dead or missing by a court is recorded as deceased. A parent reported
missing to the police is not "dead or missing" in that sense until the 6 months below have
passed, and from then on is in a qualifying situation anyway. When both parents are deceased the
child is an orphan, not a de facto orphan.

Qualifying situations, as they stand on the day assessed:
- severe disability: certificate grade 1 or 2 of any kind, or grade 3 or 4 of a mental or
  intellectual disability (a multiple disability at grade 3 or 4 does not qualify by this rule);
- serious illness: confirmed to be on the local serious-illness list (unconfirmed does not
  qualify);
- imprisonment, compulsory isolation for drug rehabilitation, or another restriction of liberty
  whose term lasts 6 months or more and has not ended. The term runs from `since` through
  `expected_end`, both days included (as a judgment writes it: from 15 January to 14 July is
  6 months). A part not recorded is counted only as far as it is certain: an unknown start counts
  from the day assessed, an unknown end up to the day assessed; so a restriction with no expected
  end qualifies once it has lasted 6 months, and one with no recorded start when what remains of
  it is 6 months;
- missing (失联): 6 months or more since `since`, the day police accepted the missing report
  (accepted 15 January: qualifies from 15 July); with that day unrecorded it does not qualify;
- guardianship revoked by a court; deported.

Months are calendar months (see `add_months`). A situation that begins after the day assessed
does not count, and neither does a parent the report does not describe: the rule asks for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.child import DisabilityKind, ParentRelation, ParentSituation, ParentSituationKind
from domain.rules.age import ADULT_AGE, age_on
from domain.rules.calendar import add_months

RULE = "recognition.de_facto_orphan"
RULE_VERSION = "2019.1"

MINIMUM_MONTHS = 6

_ANY_KIND_GRADES = frozenset({1, 2})
_MENTAL_GRADES = frozenset({1, 2, 3, 4})
_MENTAL_KINDS = frozenset({DisabilityKind.mental, DisabilityKind.intellectual})
_RESTRICTIONS_OF_LIBERTY = frozenset(
    {
        ParentSituationKind.imprisoned,
        ParentSituationKind.drug_rehabilitation,
        ParentSituationKind.restricted_liberty,
    }
)
_QUALIFYING_OUTRIGHT = frozenset(
    {ParentSituationKind.guardianship_revoked, ParentSituationKind.deported}
)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The decision, with what it rests on: `qualifying` names each parent's counted situation
    (`"father:imprisoned"`, `"mother:deceased"`), `reasons` say why, in a supervisor's words.
    Neither holds personal data."""

    eligible: bool
    qualifying: tuple[str, ...]
    reasons: tuple[str, ...]
    rule: str = RULE
    rule_version: str = RULE_VERSION


def qualifying_situation(parent: ParentSituation, *, on: date) -> bool:
    """Whether the parent is, on `on`, in one of the qualifying situations."""
    return _shortfall(parent, on=on) is None


def orphan(parents: Sequence[ParentSituation]) -> bool:
    """Both parents deceased (which includes declared dead or missing by a court)."""
    by_relation = _by_relation(parents)
    return all(
        relation in by_relation and by_relation[relation].situation is ParentSituationKind.deceased
        for relation in ParentRelation
    )


def de_facto_orphan_eligibility(
    parents: Sequence[ParentSituation], *, child_date_of_birth: date, on: date
) -> Eligibility:
    """Whether the child is, on `on`, a de facto orphan; every shortfall is listed when not.

    `parents` may describe each of father and mother at most once (`ValueError` otherwise).
    """
    by_relation = _by_relation(parents)
    counted: list[str] = []
    deceased: list[ParentRelation] = []
    shortfalls: list[str] = []
    if age_on(child_date_of_birth, on) >= ADULT_AGE:
        shortfalls.append(f"the child has turned {ADULT_AGE}")
    for relation in ParentRelation:
        parent = by_relation.get(relation)
        if parent is None:
            shortfalls.append(f"the {relation}'s situation is not described; describe both parents")
        elif parent.situation is ParentSituationKind.deceased and _has_begun(parent, on):
            deceased.append(relation)
            counted.append(f"{relation}:{parent.situation}")
        elif (shortfall := _shortfall(parent, on=on)) is None:
            counted.append(f"{relation}:{parent.situation}")
        else:
            shortfalls.append(shortfall)
    if len(deceased) == len(ParentRelation):
        shortfalls.append(
            "both parents are deceased: the child is an orphan, not a de facto orphan"
        )
    if shortfalls:
        return Eligibility(eligible=False, qualifying=tuple(counted), reasons=tuple(shortfalls))
    if deceased:
        (dead,) = deceased
        other = next(relation for relation in ParentRelation if relation is not dead)
        why = f"the {dead} is deceased and the {other} is in a qualifying situation"
    else:
        why = "both parents are in a qualifying situation"
    return Eligibility(eligible=True, qualifying=tuple(counted), reasons=(why,))


def _by_relation(parents: Sequence[ParentSituation]) -> dict[ParentRelation, ParentSituation]:
    by_relation = {parent.relation: parent for parent in parents}
    if len(by_relation) != len(parents):
        raise ValueError("each parent (father, mother) may be described once")
    return by_relation


def _has_begun(parent: ParentSituation, on: date) -> bool:
    return parent.since is None or parent.since <= on


def _shortfall(parent: ParentSituation, *, on: date) -> str | None:
    """Why the parent's situation does not qualify on `on`; `None` when it does."""
    who = parent.relation
    kind = parent.situation
    if not _has_begun(parent, on):
        return f"the {who}'s situation had not begun on the day assessed"
    if kind is ParentSituationKind.severe_disability:
        return _disability_shortfall(parent)
    if kind is ParentSituationKind.serious_illness:
        if parent.on_serious_illness_list:
            return None
        return f"the {who}'s illness is not confirmed to be on the serious-illness list"
    if kind in _RESTRICTIONS_OF_LIBERTY:
        return _restriction_shortfall(parent, on)
    if kind is ParentSituationKind.missing:
        if parent.since is None:
            return (
                f"the day police accepted the {who}'s missing report is not recorded; "
                f"the {MINIMUM_MONTHS} months are counted from it"
            )
        if on < add_months(parent.since, MINIMUM_MONTHS):
            return f"the {who} has been missing for less than {MINIMUM_MONTHS} months"
        return None
    if kind in _QUALIFYING_OUTRIGHT:
        return None
    return f"the {who}'s situation ({kind.replace('_', ' ')}) is not a qualifying situation"


def _disability_shortfall(parent: ParentSituation) -> str | None:
    grade = parent.disability_grade
    if grade in _ANY_KIND_GRADES or (
        grade in _MENTAL_GRADES and parent.disability_kind in _MENTAL_KINDS
    ):
        return None
    return (
        f"the {parent.relation}'s disability is not severe under the rule: grade 1 or 2 of any "
        "kind, or grade 3 or 4 of a mental or intellectual disability, qualifies"
    )


def _restriction_shortfall(parent: ParentSituation, on: date) -> str | None:
    who = parent.relation
    if parent.expected_end is not None and parent.expected_end < on:
        return f"the {who}'s restriction of liberty was expected to have ended by the day assessed"
    # Count only what is certain: from the recorded start (else the day assessed) to the day after
    # the recorded end (else the day assessed).
    start = parent.since if parent.since is not None else on
    ends_before = parent.expected_end + timedelta(days=1) if parent.expected_end is not None else on
    if ends_before < add_months(start, MINIMUM_MONTHS):
        return (
            f"the {who}'s restriction of liberty is not known to last {MINIMUM_MONTHS} months "
            "or more; record when it began and when it is expected to end"
        )
    return None
