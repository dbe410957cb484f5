"""What a report says about a child: identity, household, guardians, parents, categories.

These values are sensitive personal information. They live in events and case state only; they
are never put in logs, ids, search attributes or error messages.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.areas import VillageCode

# No control characters (NUL above all: PostgreSQL's jsonb, which the read models use, cannot
# hold it); line breaks and tabs are fine in longer texts.
Text = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$"
    ),
]
LongText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=4000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
    ),
]


class Category(StrEnum):
    de_facto_orphan = "de_facto_orphan"
    orphan = "orphan"
    left_behind = "left_behind"
    in_difficulty = "in_difficulty"
    migrant = "migrant"


class Sex(StrEnum):
    female = "female"
    male = "male"


class ParentRelation(StrEnum):
    father = "father"
    mother = "mother"


class ParentSituationKind(StrEnum):
    """What a parent's situation is, as the 2019 national opinion sorts them."""

    present_and_able = "present_and_able"
    working_away = "working_away"
    deceased = "deceased"
    missing = "missing"
    imprisoned = "imprisoned"
    drug_rehabilitation = "drug_rehabilitation"
    restricted_liberty = "restricted_liberty"
    severe_disability = "severe_disability"
    serious_illness = "serious_illness"
    guardianship_revoked = "guardianship_revoked"
    deported = "deported"
    unknown = "unknown"


class DisabilityKind(StrEnum):
    physical = "physical"
    visual = "visual"
    hearing = "hearing"
    speech = "speech"
    intellectual = "intellectual"
    mental = "mental"
    multiple = "multiple"


class Concern(StrEnum):
    """What was seen that makes reporting mandatory and the response immediate."""

    living_alone = "living_alone"
    missing = "missing"
    neglected = "neglected"
    suspected_violence = "suspected_violence"


class IntakeSource(StrEnum):
    caseworker = "caseworker"
    teacher = "teacher"
    village_committee = "village_committee"
    hotline = "hotline"
    outside_system = "outside_system"


class ParentSituation(BaseModel):
    model_config = ConfigDict(frozen=True)

    relation: ParentRelation
    situation: ParentSituationKind
    since: date | None = Field(
        default=None,
        description="When the situation began (for a missing parent: the day police accepted "
        "the report).",
    )
    expected_end: date | None = Field(
        default=None, description="For a sentence or restriction of liberty: its expected end."
    )
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    disability_kind: DisabilityKind | None = None
    on_serious_illness_list: bool | None = None

    @model_validator(mode="after")
    def _disability_needs_grade(self) -> ParentSituation:
        if self.situation is ParentSituationKind.severe_disability and (
            self.disability_grade is None or self.disability_kind is None
        ):
            raise ValueError("a severe disability needs its certificate grade and kind")
        if (
            self.expected_end is not None
            and self.since is not None
            and self.expected_end < self.since
        ):
            raise ValueError("expected_end must not be before since")
        return self


class Guardian(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Text
    relation: Text
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{5,20}$")] | None = None
    able_to_care: bool = True


class Household(BaseModel):
    model_config = ConfigDict(frozen=True)

    registration_area: VillageCode | None = Field(
        default=None, description="Household registration (hukou) place, when known."
    )
    address: Text
    members: int = Field(default=1, ge=1, le=50)


class ChildIdentity(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Text
    sex: Sex
    date_of_birth: date
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{17}[\dXx]$")] | None = None


class ChildReport(BaseModel):
    """A caseworker's report of a child: what the program needs to open a case."""

    model_config = ConfigDict(frozen=True)

    child: ChildIdentity
    village: VillageCode
    household: Household
    guardians: list[Guardian] = Field(default_factory=list, max_length=10)
    parents: list[ParentSituation] = Field(default_factory=list, max_length=2)
    categories: frozenset[Category] = Field(default_factory=frozenset)
    concerns: frozenset[Concern] = Field(default_factory=frozenset)
    source: IntakeSource = IntakeSource.caseworker
    observations: LongText = ""

    @model_validator(mode="after")
    def _one_situation_per_parent(self) -> ChildReport:
        relations = [parent.relation for parent in self.parents]
        if len(relations) != len(set(relations)):
            raise ValueError("each parent (father, mother) may be described once")
        return self


def age_on(date_of_birth: date, day: date) -> int:
    """Completed years of age on `day`."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def eighteenth_birthday(date_of_birth: date) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:  # born on 29 February: of age on 1 March
        return date(date_of_birth.year + 18, 3, 1)
