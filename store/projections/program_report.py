"""The program report: the yearly figures per county that foundations and civil affairs publish,
each traceable to the events behind it.

Figures (names as `report_facts` takes them):
- `children_covered.<category>`: children whose case was open, with that category, at some point
  of the year; each child counted once per category and year. Counted from coverage periods:
  from the event that made the case open with the category (CaseOpened, CaseReopened, an
  AssessmentRecorded or RecognitionConfirmed adding it) until the one that ended it (CaseClosed,
  or an assessment dropping it); a period not ended yet runs to today.
- `assistance.total`, `assistance.kind.<kind>`, `assistance.group.<group>`: person-times of
  assistance, one per AssistanceDelivered, in the year of its `delivered_on`; groups are
  ASSISTANCE_GROUP's (e.g. survival: food packs, hygiene kits, winter clothes, quilts).
- `guardian_changes_registered`: GuardianChangeRegistered, in the year of `registered_on`.
- `transfers_completed`: ChildTransferred, in the year of `transferred_on`.
- `dropouts_returned_to_school`: SchoolStatusChecked `returned` of a child whose school status
  was `dropped_out`, in the year of `checked_on`.
- `recognitions_confirmed`: RecognitionConfirmed, in the year of `recognised_on`.

Days are the program's (China Standard Time), as everywhere in the domain; a case's county is
its village's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final
from uuid import UUID

import asyncpg

from domain.child import Category
from domain.commands.recording import today
from domain.events import (
    AssistanceDelivered,
    ChildTransferred,
    GuardianChangeRegistered,
    RecognitionConfirmed,
    SchoolStatus,
    SchoolStatusChecked,
)
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from domain.state import CaseState
from store.projections.arguments import check_county
from store.projections.base import Connection, ProjectedEvent, Projection, ProjectionError

CHILDREN_COVERED: Final = "children_covered"
ASSISTANCE_TOTAL: Final = "assistance.total"
GUARDIAN_CHANGES_REGISTERED: Final = "guardian_changes_registered"
TRANSFERS_COMPLETED: Final = "transfers_completed"
DROPOUTS_RETURNED_TO_SCHOOL: Final = "dropouts_returned_to_school"
RECOGNITIONS_CONFIRMED: Final = "recognitions_confirmed"
ASSISTANCE_GROUPS: Final = tuple(dict.fromkeys(ASSISTANCE_GROUP.values()))


def children_covered(category: Category) -> str:
    return f"{CHILDREN_COVERED}.{category.value}"


def assistance_kind(kind: AssistanceKind) -> str:
    return f"assistance.kind.{kind.value}"


def assistance_group(group: str) -> str:
    return f"assistance.group.{group}"


COVERAGE_FIGURES: Final = {children_covered(category): category for category in Category}
FIGURES: Final = (
    *COVERAGE_FIGURES,
    ASSISTANCE_TOTAL,
    *(assistance_kind(kind) for kind in AssistanceKind),
    *(assistance_group(group) for group in ASSISTANCE_GROUPS),
    GUARDIAN_CHANGES_REGISTERED,
    TRANSFERS_COMPLETED,
    DROPOUTS_RETURNED_TO_SCHOOL,
    RECOGNITIONS_CONFIRMED,
)

INSERT_FACT: Final = """
INSERT INTO program_report_facts (year, county, figure, case_id, event_id, position, occurred_on)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
BEGIN_COVERAGE: Final = """
INSERT INTO program_report_coverage (case_id, category, county, from_on, event_id, position)
VALUES ($1, $2, $3, $4, $5, $6)
"""
END_COVERAGE: Final = """
UPDATE program_report_coverage
SET until_on = $3, ended_by_event_id = $4, ended_by_position = $5
WHERE case_id = $1 AND category = $2 AND ended_by_event_id IS NULL
"""
SELECT_POSITION: Final = "SELECT position FROM projection_positions WHERE name = $1"
COUNT_FACTS: Final = """
SELECT figure, count(*) AS n FROM program_report_facts
WHERE year = $1 AND county = $2
GROUP BY figure
"""
# A period is in the year when it began by the year's end and ended (or, still running, the
# present reached) no earlier than the year's first day. $2 and $3: the year's first and last
# day; $4: today.
_COVERED_IN_YEAR: Final = """
county = $1 AND from_on <= $3 AND (until_on >= $2 OR (until_on IS NULL AND $4 >= $2))
"""
COUNT_COVERAGE: Final = f"""
SELECT category, count(DISTINCT case_id) AS n FROM program_report_coverage
WHERE {_COVERED_IN_YEAR}
GROUP BY category
"""  # noqa: S608 (a constant condition; every value is a parameter)
SELECT_COVERAGE_FACTS: Final = f"""
SELECT case_id, event_id, position, from_on FROM (
    SELECT DISTINCT ON (case_id) case_id, event_id, position, from_on
    FROM program_report_coverage
    WHERE {_COVERED_IN_YEAR} AND category = $5
    ORDER BY case_id, position
) AS first_period
ORDER BY position
"""  # noqa: S608 (a constant condition; every value is a parameter)
SELECT_FACTS: Final = """
SELECT case_id, event_id, position, occurred_on FROM program_report_facts
WHERE year = $1 AND county = $2 AND figure = $3
ORDER BY position
"""


@dataclass(frozen=True, slots=True)
class ProgramReport:
    year: int
    county: str
    figures: dict[str, int]  # every name of FIGURES, zeros included
    as_of_position: int  # the last event of the log the figures include

    @property
    def children_covered(self) -> dict[Category, int]:
        return {category: self.figures[children_covered(category)] for category in Category}

    @property
    def assistance_person_times(self) -> int:
        return self.figures[ASSISTANCE_TOTAL]

    @property
    def assistance_by_kind(self) -> dict[AssistanceKind, int]:
        return {kind: self.figures[assistance_kind(kind)] for kind in AssistanceKind}

    @property
    def assistance_by_group(self) -> dict[str, int]:
        return {group: self.figures[assistance_group(group)] for group in ASSISTANCE_GROUPS}

    @property
    def guardian_changes_registered(self) -> int:
        return self.figures[GUARDIAN_CHANGES_REGISTERED]

    @property
    def transfers_completed(self) -> int:
        return self.figures[TRANSFERS_COMPLETED]

    @property
    def dropouts_returned_to_school(self) -> int:
        return self.figures[DROPOUTS_RETURNED_TO_SCHOOL]

    @property
    def recognitions_confirmed(self) -> int:
        return self.figures[RECOGNITIONS_CONFIRMED]


@dataclass(frozen=True, slots=True)
class ReportFact:
    """One count behind a figure: the case, and the event (id and log position) that made it.
    For children covered: the event that began the child's first coverage period of the year."""

    figure: str
    case_id: UUID
    event_id: UUID
    position: int
    occurred_on: date


@dataclass(frozen=True, slots=True)
class _Fact:
    figure: str
    day: date


class ProgramReportProjection(Projection):
    name = "program_report"
    tables = ("program_report_facts", "program_report_coverage")

    async def handle(self, connection: Connection, event: ProjectedEvent) -> None:
        state = event.after
        await self._follow_coverage(connection, event)
        facts = [
            (
                fact.day.year,
                state.county,
                fact.figure,
                state.case_id,
                event.event_id,
                event.position,
                fact.day,
            )
            for fact in _facts(event)
        ]
        if facts:
            await connection.executemany(INSERT_FACT, facts)

    async def _follow_coverage(self, connection: Connection, event: ProjectedEvent) -> None:
        before, after = _covered(event.before), _covered(event.after)
        if before == after:
            return
        day = today(event.event.occurred_at)
        state = event.after
        for category in sorted(before - after):
            ended = await connection.execute(
                END_COVERAGE, state.case_id, category.value, day, event.event_id, event.position
            )
            if ended != "UPDATE 1":
                raise ProjectionError(
                    f"projection {self.name}: event {event.event_id} at position "
                    f"{event.position} ends the coverage of case {state.case_id} as "
                    f"{category.value}, which has no coverage period open"
                )
        for category in sorted(after - before):
            await connection.execute(
                BEGIN_COVERAGE,
                state.case_id,
                category.value,
                state.county,
                day,
                event.event_id,
                event.position,
            )


def _covered(state: CaseState | None) -> frozenset[Category]:
    """The categories a case counts a child under right now: none while it is closed."""
    if state is None or not state.is_open:
        return frozenset()
    return state.categories


def _facts(projected: ProjectedEvent) -> Iterator[_Fact]:
    event = projected.event
    if isinstance(event, AssistanceDelivered):
        day = event.delivered_on
        yield _Fact(ASSISTANCE_TOTAL, day)
        yield _Fact(assistance_kind(event.kind), day)
        yield _Fact(assistance_group(ASSISTANCE_GROUP[event.kind]), day)
    elif isinstance(event, GuardianChangeRegistered):
        yield _Fact(GUARDIAN_CHANGES_REGISTERED, event.registered_on)
    elif isinstance(event, ChildTransferred):
        yield _Fact(TRANSFERS_COMPLETED, event.transferred_on)
    elif isinstance(event, RecognitionConfirmed):
        yield _Fact(RECOGNITIONS_CONFIRMED, event.recognised_on)
    elif (
        isinstance(event, SchoolStatusChecked)
        and event.status is SchoolStatus.returned
        and projected.before is not None
        and projected.before.school_status is SchoolStatus.dropped_out
    ):
        yield _Fact(DROPOUTS_RETURNED_TO_SCHOOL, event.checked_on)


async def program_report(
    pool: asyncpg.Pool, *, year: int, county: str, now: datetime | None = None
) -> ProgramReport:
    """The figures of `county` for `year`, all read from one snapshot. `now` (default: the
    present) is how far coverage periods not ended yet reach."""
    check_county(county)
    first, last = _year(year)
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        position = await connection.fetchval(SELECT_POSITION, ProgramReportProjection.name)
        counted = await connection.fetch(COUNT_FACTS, year, county)
        covered = await connection.fetch(COUNT_COVERAGE, county, first, last, _today(now))
    figures = dict.fromkeys(FIGURES, 0)
    figures.update({row["figure"]: row["n"] for row in counted})
    figures.update({children_covered(Category(row["category"])): row["n"] for row in covered})
    return ProgramReport(year, county, figures, int(position or 0))


async def report_facts(
    pool: asyncpg.Pool, *, year: int, county: str, figure: str, now: datetime | None = None
) -> list[ReportFact]:
    """The facts a figure of `program_report` counts, one per unit counted, in log order."""
    check_county(county)
    if figure not in FIGURES:
        raise ValueError(f"there is no figure {figure!r}; the figures are: {', '.join(FIGURES)}")
    first, last = _year(year)
    category = COVERAGE_FIGURES.get(figure)
    if category is not None:
        rows = await pool.fetch(
            SELECT_COVERAGE_FACTS, county, first, last, _today(now), category.value
        )
        day = "from_on"
    else:
        rows = await pool.fetch(SELECT_FACTS, year, county, figure)
        day = "occurred_on"
    return [
        ReportFact(figure, row["case_id"], row["event_id"], row["position"], row[day])
        for row in rows
    ]


def _year(year: int) -> tuple[date, date]:
    if not 1 <= year <= 9999:
        raise ValueError(f"{year} is not a year")
    return date(year, 1, 1), date(year, 12, 31)


def _today(now: datetime | None) -> date:
    return today(now if now is not None else datetime.now(UTC))
