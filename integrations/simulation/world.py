"""The simulators' world: villages of the pilot counties and the children registered there.

Everything is generated from a seed (and today's date, which sets ages), never taken from real
people: the same seed gives the same villages, names, identity numbers, parents' situations and
school records on every machine, so both simulators of one process, or of two processes started
with one seed, agree about every child.

A child the world does not hold (the engine's own children, reported by caseworkers) is generated
on first sight from its identity number or case reference, when the simulator is told to
(`derive_unknown`), and kept from then on, so every later answer about it agrees.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from domain.child import (
    ChildIdentity,
    DisabilityKind,
    ParentRelation,
    ParentSituation,
    ParentSituationKind,
    Sex,
    age_on,
)
from domain.events.eligibility import SchoolStatus

PILOT_COUNTIES = Path(__file__).with_name("pilot_counties.csv")
VILLAGES_PER_TOWNSHIP = 10
# Qingshen enrolled children, not villages: it gets a few villages so its children have homes.
VILLAGES_WHEN_NONE_ENROLLED = 4

_SYLLABLES = [
    "an",
    "bai",
    "chang",
    "de",
    "fu",
    "gao",
    "he",
    "jia",
    "lin",
    "ming",
    "ping",
    "qing",
    "shan",
    "tai",
    "xin",
    "yang",
    "yun",
    "zhong",
    "hua",
    "kang",
    "le",
    "mei",
    "ning",
    "rui",
    "song",
    "wen",
    "xiu",
    "ya",
    "yu",
    "zhi",
]
SURNAMES = [
    "Li",
    "Wang",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Zhao",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Luo",
    "Gao",
    "Lin",
]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    name: str
    township: str


@dataclass(frozen=True, slots=True)
class County:
    code: str
    name: str
    prefecture: str
    villages: tuple[Village, ...]


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    status: SchoolStatus
    school: str | None
    grade: int | None
    attendance_rate: float | None
    dropped_out_on: date | None


@dataclass(frozen=True, slots=True)
class SimulatedChild:
    case_reference: str
    identity: ChildIdentity
    village: str
    registration_area: str
    household_number: str
    household_members: int
    registered_since: date
    parents: tuple[ParentSituation, ...]
    school: SchoolRecord

    @property
    def county(self) -> str:
        return self.village[:6]

    @property
    def id_number(self) -> str:
        assert self.identity.id_number is not None  # every simulated child has one
        return self.identity.id_number


def id_number_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a resident identity number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


class World:
    def __init__(self, seed: str, *, today: date | None = None, children_per_village: int = 2):
        self.seed = seed
        self.today = today or date.today()
        self.counties = _counties(random.Random(f"{seed}:areas"))
        self.villages = {v.code: v for c in self.counties.values() for v in c.villages}
        self._by_id: dict[str, SimulatedChild] = {}
        self._by_case: dict[str, SimulatedChild] = {}
        self._used_ids: set[str] = set()
        rng = random.Random(f"{seed}:children")
        for county in self.counties.values():
            for village in county.villages:
                for _ in range(children_per_village):
                    case_reference = str(
                        uuid.uuid5(uuid.NAMESPACE_URL, f"caseflow-simulator:{seed}:{len(self)}")
                    )
                    self._add(self._generate(rng, village.code, case_reference, None))

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def children(self) -> list[SimulatedChild]:
        return list(self._by_id.values())

    def children_of(self, county: str) -> list[SimulatedChild]:
        return [child for child in self._by_id.values() if child.county == county]

    def find(
        self,
        *,
        village: str | None,
        id_number: str | None,
        case_reference: str | None,
        derive: bool,
    ) -> SimulatedChild | None:
        """The child with this identity number, else with this case reference.

        When both are given, the case reference is remembered for the child, so a later question
        by case reference alone is about the same child.
        """
        if id_number is not None:
            child = self._by_id.get(id_number.upper())
            if child is None and derive:
                child = self._derive(id_number.upper(), village, case_reference, id_number.upper())
            if child is not None and case_reference is not None:
                self._by_case.setdefault(case_reference, child)
            return child
        if case_reference is not None:
            child = self._by_case.get(case_reference)
            if child is None and derive:
                child = self._derive(f"case:{case_reference}", village, case_reference, None)
            return child
        return None

    def _derive(
        self, key: str, village: str | None, case_reference: str | None, id_number: str | None
    ) -> SimulatedChild:
        rng = random.Random(f"{self.seed}:derived:{key}")
        home = village or rng.choice(sorted(self.villages))
        reference = case_reference or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.seed}:{key}"))
        child = self._generate(rng, home, reference, id_number)
        self._add(child)
        return child

    def _add(self, child: SimulatedChild) -> None:
        self._by_id[child.id_number] = child
        self._by_case.setdefault(child.case_reference, child)
        self._used_ids.add(child.id_number)

    # --- generating one child ----------------------------------------------------------------

    def _generate(
        self, rng: random.Random, village: str, case_reference: str, id_number: str | None
    ) -> SimulatedChild:
        sex, born = _from_id_number(id_number) if id_number else (None, None)
        sex = sex or rng.choice([Sex.female, Sex.male])
        if born is None or not 0 <= age_on(born, self.today) < 18:
            born = self.today - timedelta(days=rng.randint(3 * 365, 17 * 365))
        id_number = id_number or self._new_id_number(rng, village[:6], born, sex)
        registration_area = village
        same_county = [v for v in self.villages if v[:6] == village[:6] and v != village]
        if same_county and rng.random() < 0.15:  # registered elsewhere in the county: migrant
            registration_area = rng.choice(sorted(same_county))
        return SimulatedChild(
            case_reference=case_reference,
            identity=ChildIdentity(
                name=f"{rng.choice(SURNAMES)} {given_name(rng)}",
                sex=sex,
                date_of_birth=born,
                id_number=id_number,
            ),
            village=village,
            registration_area=registration_area,
            household_number=f"H{registration_area[:6]}{rng.randint(0, 999_999):06d}",
            household_members=rng.randint(2, 7),
            registered_since=born + timedelta(days=rng.randint(10, 400)),
            parents=self._parents(rng),
            school=self._school(rng, village, born),
        )

    def _new_id_number(self, rng: random.Random, county: str, born: date, sex: Sex) -> str:
        for _ in range(1000):
            sequence = rng.randint(0, 499) * 2 + (1 if sex is Sex.male else 0)
            first17 = f"{county}{born:%Y%m%d}{sequence:03d}"
            candidate = first17 + id_number_check_digit(first17)
            if candidate not in self._used_ids:
                return candidate
        raise RuntimeError("no free identity number left for one county and birth date")

    def _parents(self, rng: random.Random) -> tuple[ParentSituation, ...]:
        today = self.today

        def ago(low_days: int, high_days: int) -> date:
            return today - timedelta(days=rng.randint(low_days, high_days))

        father, mother = ParentRelation.father, ParentRelation.mother
        kind = ParentSituationKind
        scenario = rng.random()
        if scenario < 0.3:  # a likely de facto orphan
            pick = rng.randrange(3)
            if pick == 0:
                since = ago(200, 1500)
                return (
                    ParentSituation(
                        relation=father,
                        situation=kind.imprisoned,
                        since=since,
                        expected_end=since + timedelta(days=rng.randint(3, 10) * 365),
                    ),
                    ParentSituation(relation=mother, situation=kind.missing, since=ago(200, 1500)),
                )
            if pick == 1:
                return (
                    ParentSituation(relation=father, situation=kind.deceased, since=ago(30, 3000)),
                    ParentSituation(
                        relation=mother,
                        situation=kind.severe_disability,
                        since=ago(400, 4000),
                        disability_grade=rng.choice([1, 2]),
                        disability_kind=rng.choice(list(DisabilityKind)),
                    ),
                )
            since = ago(30, 600)
            return (
                ParentSituation(
                    relation=father,
                    situation=kind.drug_rehabilitation,
                    since=since,
                    expected_end=since + timedelta(days=730),
                ),
                ParentSituation(relation=mother, situation=kind.missing, since=ago(200, 2000)),
            )
        if scenario < 0.7:  # left behind
            return (
                ParentSituation(relation=father, situation=kind.working_away),
                ParentSituation(relation=mother, situation=kind.working_away),
            )
        if scenario < 0.9:
            return (
                ParentSituation(relation=father, situation=kind.working_away),
                ParentSituation(relation=mother, situation=kind.present_and_able),
            )
        return (
            ParentSituation(relation=father, situation=kind.present_and_able),
            ParentSituation(relation=mother, situation=kind.present_and_able),
        )

    def _school(self, rng: random.Random, village_code: str, born: date) -> SchoolRecord:
        age = age_on(born, self.today)
        roll = rng.random()
        if age < 6 or (age >= 16 and roll < 0.3):
            return SchoolRecord(SchoolStatus.not_enrolled, None, None, None, None)
        grade = min(max(age - 5, 1), 12)
        village = self.villages.get(village_code)
        if grade <= 6:
            school = f"{village.name if village else 'Central'} Village Primary School"
        elif grade <= 9:
            school = f"{village.township if village else 'Central'} Township Middle School"
        else:
            county = self.counties.get(village_code[:6])
            school = f"{county.name if county else 'County'} No. 1 High School"
        if roll < 0.12 or (age >= 16 and roll < 0.45):
            return SchoolRecord(
                SchoolStatus.dropped_out,
                school,
                grade,
                round(rng.uniform(0, 0.3), 2),
                self.today - timedelta(days=rng.randint(5, 200)),
            )
        if roll < 0.2:
            return SchoolRecord(
                SchoolStatus.returned, school, grade, round(rng.uniform(0.6, 0.9), 2), None
            )
        return SchoolRecord(
            SchoolStatus.enrolled, school, grade, round(rng.uniform(0.82, 1.0), 2), None
        )


def current_term(day: date) -> str:
    """The school term `day` falls in: spring is February to July, autumn August to January."""
    if day.month == 1:
        return f"{day.year - 1}-autumn"
    return f"{day.year}-spring" if day.month < 8 else f"{day.year}-autumn"


def _counties(rng: random.Random) -> dict[str, County]:
    with PILOT_COUNTIES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counties = {}
    for row in rows:
        code = row["county_code"]
        wanted = int(row["pilot_villages"]) or VILLAGES_WHEN_NONE_ENROLLED
        villages = []
        townships: dict[int, str] = {}
        for index in range(wanted):
            township_number, village_number = divmod(index, VILLAGES_PER_TOWNSHIP)
            township_name = townships.setdefault(township_number, place_name(rng))
            villages.append(
                Village(
                    code=f"{code}{101 + township_number:03d}{201 + village_number:03d}",
                    name=place_name(rng),
                    township=township_name,
                )
            )
        counties[code] = County(code, row["county"], row["prefecture"], tuple(villages))
    return counties


def place_name(rng: random.Random) -> str:
    """A generated place name (never a real one)."""
    return "".join(rng.sample(_SYLLABLES, 2)).capitalize()


def given_name(rng: random.Random) -> str:
    """A generated given name (never a real person's)."""
    return "".join(rng.sample(_SYLLABLES, rng.choice([1, 2]))).capitalize()


def _from_id_number(id_number: str) -> tuple[Sex | None, date | None]:
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None, None
    return (Sex.male if int(id_number[16]) % 2 else Sex.female), born
