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

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final
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
from store.projections.base import (
    Changes,
    Connection,
    ProjectedEvent,
    Projection,
    ProjectionError,
    columns,
)

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

# A batch writes its rows in three statements: the periods open before it that it ends, the
# periods it begins (ended already when the batch ends them too), and its facts.
INSERT_FACTS: Final = """
INSERT INTO program_report_facts (year, county, figure, case_id, event_id, position, occurred_on)
SELECT * FROM unnest(
    $1::integer[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::bigint[], $7::date[]
)
"""
INSERT_COVERAGE: Final = """
INSERT INTO program_report_coverage (
    case_id, category, county, from_on, until_on, event_id, position, ended_by_event_id,
    ended_by_position
)
SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::text[], $4::date[], $5::date[], $6::uuid[], $7::bigint[],
    $8::uuid[], $9::bigint[]
)
"""
# Every period of the case and category still open is ended; each must be exactly one.
END_COVERAGE: Final = """
UPDATE program_report_coverage AS period
SET until_on = ended.until_on, ended_by_event_id = ended.event_id,
    ended_by_position = ended.position
FROM unnest($1::uuid[], $2::text[], $3::date[], $4::uuid[], $5::bigint[])
    AS ended (case_id, category, until_on, event_id, position)
WHERE period.case_id = ended.case_id AND period.category = ended.category
  AND period.ended_by_event_id IS NULL
RETURNING period.case_id, period.category
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


@dataclass(slots=True)
class _Period:
    """A coverage period begun by an event of the batch (ended too, if the batch ends it)."""

    case_id: UUID
    category: Category
    county: str
    from_on: date
    event_id: UUID
    position: int
    until_on: date | None = None
    ended_by_event_id: UUID | None = None
    ended_by_position: int | None = None


@dataclass(frozen=True, slots=True)
class _End:
    """A period open before the batch, ended by an event of it."""

    until_on: date
    event_id: UUID
    position: int


class ProgramReportProjection(Projection):
    name = "program_report"
    tables = ("program_report_facts", "program_report_coverage")

    def changes(self) -> ProgramReportChanges:
        return ProgramReportChanges()


class ProgramReportChanges(Changes):
    """The batch's facts, the periods it begins, and the periods open before it that it ends."""

    def __init__(self) -> None:
        self._facts: list[tuple[Any, ...]] = []
        self._begun: list[_Period] = []
        self._open: dict[tuple[UUID, Category], _Period] = {}  # begun by the batch, still open
        self._ended: dict[tuple[UUID, Category], _End] = {}  # open before the batch

    def add(self, event: ProjectedEvent) -> None:
        before, state = event.before, event.after
        # Most events leave the coverage as it was: the same categories (the very object, which
        # the fold carries over unchanged), the case as open or closed as before.
        if (
            before is None
            or before.categories is not state.categories
            or before.is_open != state.is_open
        ):
            self._follow_coverage(event)
        if not isinstance(event.event, FACT_EVENTS):
            return
        self._facts.extend(
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
        )

    def _follow_coverage(self, event: ProjectedEvent) -> None:
        before, after = _covered(event.before), _covered(event.after)
        if before == after:
            return
        day = today(event.event.occurred_at)
        state = event.after
        for category in sorted(before - after):
            key = (state.case_id, category)
            period = self._open.pop(key, None)
            if period is not None:
                period.until_on = day
                period.ended_by_event_id = event.event_id
                period.ended_by_position = event.position
            elif key in self._ended:  # the one open before the batch is ended already
                raise _no_period_open(event.event_id, event.position, state.case_id, category)
            else:
                self._ended[key] = _End(day, event.event_id, event.position)
        for category in sorted(after - before):
            period = _Period(
                state.case_id, category, state.county, day, event.event_id, event.position
            )
            self._begun.append(period)
            self._open[(state.case_id, category)] = period

    async def write(self, connection: Connection) -> None:
        if self._ended:  # before the batch's own periods are inserted, which it must not end
            keys = list(self._ended)
            ends = list(self._ended.values())
            rows = await connection.fetch(
                END_COVERAGE,
                [case_id for case_id, _ in keys],
                [category.value for _, category in keys],
                [end.until_on for end in ends],
                [end.event_id for end in ends],
                [end.position for end in ends],
            )
            counts = Counter((row["case_id"], Category(row["category"])) for row in rows)
            wrong = [key for key in keys if counts[key] != 1]
            if wrong:
                case_id, category = min(wrong, key=lambda key: self._ended[key].position)
                end = self._ended[(case_id, category)]
                raise _no_period_open(end.event_id, end.position, case_id, category)
        if self._begun:
            periods = self._begun
            await connection.execute(
                INSERT_COVERAGE,
                [period.case_id for period in periods],
                [period.category.value for period in periods],
                [period.county for period in periods],
                [period.from_on for period in periods],
                [period.until_on for period in periods],
                [period.event_id for period in periods],
                [period.position for period in periods],
                [period.ended_by_event_id for period in periods],
                [period.ended_by_position for period in periods],
            )
        if self._facts:
            await connection.execute(INSERT_FACTS, *columns(self._facts))


def _no_period_open(
    event_id: UUID, position: int, case_id: UUID, category: Category
) -> ProjectionError:
    return ProjectionError(
        f"projection {ProgramReportProjection.name}: event {event_id} at position {position} "
        f"ends the coverage of case {case_id} as {category.value}, which has no coverage period "
        f"open",
        position=position,
    )


def _covered(state: CaseState | None) -> frozenset[Category]:
    """The categories a case counts a child under right now: none while it is closed."""
    if state is None or not state.is_open:
        return frozenset()
    return state.categories


# The events `_facts` may count.
FACT_EVENTS: Final = (
    AssistanceDelivered,
    GuardianChangeRegistered,
    ChildTransferred,
    RecognitionConfirmed,
    SchoolStatusChecked,
)


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
