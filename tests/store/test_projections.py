"""Projections on a real PostgreSQL, fed by case streams made with the domain's own decisions.

Every test takes a database of its own (`fresh_db`), runs the projector as the application role,
and builds its cases with `open_case`/`decide` and the engine's timer decisions, appended as the
workflow appends them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import asyncpg
import pytest
from pydantic import BaseModel

from domain.actors import Actor, Role, system_actor
from domain.child import (
    Category,
    ChildIdentity,
    ChildReport,
    Concern,
    Guardian,
    Household,
    ParentRelation,
    ParentSituation,
    ParentSituationKind,
    Sex,
)
from domain.codec import case_stream_id, decode, encode
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    CaseCommand,
    ConfirmTransferPlace,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecognitionDecision,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordRecognitionDecision,
    RecordSchoolStatus,
    RecordTransfer,
    RecordVisit,
    RegisterGuardianChange,
    ReopenCase,
    RequestAssistance,
    assessment_overdue,
    decide,
    escalate_approval,
    open_case,
    referral_unanswered,
    visit_missed,
)
from domain.commands.recording import today
from domain.errors import CommandRefused
from domain.events import (
    AgencyKind,
    ApprovalRequested,
    AssessmentRecorded,
    AssistanceDelivered,
    AssistanceRequested,
    CaseClosed,
    CaseEvent,
    CaseOpened,
    CaseReopened,
    ChildTransferred,
    ClosureReason,
    DestinationKind,
    EligibilityCheckAnswered,
    EventBase,
    GuardianChangeProposed,
    GuardianChangeRegistered,
    RecognitionApplied,
    RecognitionConfirmed,
    ReferralRequested,
    SchoolEnrolmentFacts,
    SchoolStatus,
    SchoolStatusChecked,
    TransferProposed,
    VisitKind,
)
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from domain.rules.escalation import EscalationLevel
from domain.rules.priority import Priority
from domain.rules.risk import NeedScores
from domain.state import ApprovalStatus, CaseState, CaseStatus, fold
from store.events import EventStore, NewEvent, StoredEvent
from store.projections import (
    FIGURES,
    PROJECTIONS,
    Changes,
    Progress,
    ProjectedEvent,
    Projection,
    ProjectionError,
    Projector,
    approvals_inbox,
    assistance_ledger,
    caseload,
    caseload_count,
    log_head,
    positions,
    program_report,
    projection_named,
    rebuild,
    rebuild_together,
    report_facts,
)
from store.projections.approvals_inbox import COLUMNS as APPROVAL_COLUMNS
from store.projections.approvals_inbox import UPDATED_COLUMNS, UPSERT_APPROVALS
from store.projections.base import Connection
from store.projections.caseload import CaseloadRow, caseload_row
from store.projections.projector import _state_json
from tests.store.support import Db

# -- places and people ------------------------------------------------------------------------

COUNTY_A = "530627"
VILLAGE_A1 = "530627101201"
VILLAGE_A2 = "530627102202"
COUNTY_B = "360731"
VILLAGE_B = "360731100201"
VILLAGES = (VILLAGE_A1, VILLAGE_A2, VILLAGE_B)

CHILD_NAME = "李小明"
GUARDIAN_NAME = "王秀英"

START = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)  # 09:00 in China, a Monday
NEW_YEAR = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
REPORT_NOW = datetime(2026, 12, 31, 4, 0, tzinfo=UTC)

MODERATE = NeedScores(survival=2, education=1, health=0, guardianship=1, safety=1, psychosocial=1)
HIGH = NeedScores(survival=3, education=1, health=0, guardianship=1, safety=1, psychosocial=1)

WAIT_SECONDS = 20.0  # the bound on every wait for the projector in these tests


def caseworker(village: str) -> Actor:
    return Actor(user_id=f"cw-{village}", role=Role.caseworker, area=village)


def supervisor(village: str) -> Actor:
    return Actor(user_id=f"sup-{village[:9]}", role=Role.supervisor, area=village[:9])


def county_officer(village: str) -> Actor:
    return Actor(user_id=f"sup-{village[:6]}", role=Role.supervisor, area=village[:6])


def new_id() -> UUID:
    return uuid.uuid4()


_Event = TypeVar("_Event", bound=EventBase)


def first(kind: type[_Event], events: list[CaseEvent]) -> _Event:
    return next(event for event in events if isinstance(event, kind))


# -- cases driven through the domain's decisions ----------------------------------------------


class Case:
    """One case: each decision's events appended to its stream as one batch, as the workflow
    does, and folded into the state the next decision is made on."""

    def __init__(self, store: EventStore, village: str, now: datetime) -> None:
        self.store = store
        self.village = village
        self.now = now
        self._state: CaseState | None = None

    @classmethod
    async def open(
        cls,
        store: EventStore,
        village: str,
        now: datetime,
        *,
        categories: frozenset[Category] = frozenset(),
        concerns: frozenset[Concern] = frozenset(),
        parents: list[ParentSituation] | None = None,
    ) -> Case:
        case = cls(store, village, now)
        report = ChildReport(
            child=ChildIdentity(name=CHILD_NAME, sex=Sex.male, date_of_birth=date(2015, 5, 1)),
            village=village,
            household=Household(address="云南省某县某村"),
            guardians=[Guardian(name=GUARDIAN_NAME, relation="grandmother")],
            parents=parents or [],
            categories=categories,
            concerns=concerns,
        )
        await case.record(
            open_case(uuid.uuid4(), report, actor=caseworker(village), now=now, new_id=new_id)
        )
        return case

    @property
    def state(self) -> CaseState:
        assert self._state is not None
        return self._state

    @property
    def id(self) -> UUID:
        return self.state.case_id

    @property
    def today(self) -> date:
        return today(self.now)

    def later(self, **delta: float) -> Case:
        self.now += timedelta(**delta)
        return self

    async def do(self, command: CaseCommand, actor: Actor | None = None) -> list[CaseEvent]:
        by = actor or caseworker(self.village)
        return await self.record(decide(self.state, command, actor=by, now=self.now, new_id=new_id))

    async def approve(self, events: list[CaseEvent], actor: Actor | None = None) -> None:
        approval = first(ApprovalRequested, events)
        await self.do(
            DecideApproval(approval_id=approval.approval_id, decision=ApprovalDecision.approve),
            actor or supervisor(self.village),
        )

    async def record(self, events: list[CaseEvent]) -> list[CaseEvent]:
        if not events:
            return []
        opened = events[0]
        case_id = opened.case_id if isinstance(opened, CaseOpened) else self.id
        version = 0 if self._state is None else self._state.version
        await self.store.append(
            case_stream_id(case_id),
            [
                NewEvent(e.event_id, e.type, e.schema_version, e.data, e.metadata)
                for e in map(encode, events)
            ],
            expected_version=version,
        )
        self._state = fold(events, self._state)
        return events


@dataclass
class World:
    """Cases across two counties and two years, each kind of fact a report counts among them."""

    store: EventStore
    cases: dict[str, Case] = field(default_factory=dict)

    async def build(self, *, busy_cases: int = 10, busy_steps: int = 8) -> None:
        await self.full_life()
        await self.recognised()
        await self.overdue_assessment()
        await self.missed_visit()
        await self.timed_out_approval()
        await self.closed_with_approvals_pending()
        await self.busy(busy_cases, busy_steps)

    async def full_life(self) -> None:
        """Assessed, planned, helped (with an escalated approval), dropped out and returned,
        a new guardian, a transfer, closed and reopened."""
        c = self.cases["full_life"] = await Case.open(
            self.store, VILLAGE_A1, START, categories=frozenset({Category.left_behind})
        )
        await c.later(days=1).do(
            RecordAssessment(
                scores=MODERATE,
                categories=frozenset({Category.left_behind, Category.in_difficulty}),
            )
        )
        await c.later(days=1).do(RecordCasePlan(goals=("regular meals", "stay in school")))
        food = first(
            AssistanceRequested,
            await c.do(
                RequestAssistance(
                    kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300
                )
            ),
        )
        await c.later(days=5).do(
            RecordDelivery(request_id=food.request_id, quantity=1, delivered_on=c.today)
        )
        await c.do(RecordSchoolStatus(status=SchoolStatus.dropped_out, checked_on=c.today))
        tuition_events = await c.do(
            RequestAssistance(
                kind=AssistanceKind.tuition_and_fees, quantity=1, unit="term", value_yuan=3000
            )
        )
        tuition = first(AssistanceRequested, tuition_events)
        approval = first(ApprovalRequested, tuition_events)
        await c.later(hours=49).record(
            escalate_approval(c.state, approval.approval_id, c.now, new_id)
        )
        await c.later(hours=1).approve(tuition_events, county_officer(c.village))
        await c.do(RecordDelivery(request_id=tuition.request_id, quantity=1, delivered_on=c.today))
        c.now = NEW_YEAR
        await c.do(RecordDelivery(request_id=food.request_id, quantity=1, delivered_on=c.today))
        await c.do(RecordVisit(visited_at=c.now, visit_kind=VisitKind.home, observations="ok"))
        await c.later(days=30).do(
            RecordSchoolStatus(status=SchoolStatus.returned, checked_on=c.today)
        )
        change = await c.do(
            ProposeGuardianChange(
                new_guardian=Guardian(name="李大伯", relation="uncle"), reason="grandmother ill"
            )
        )
        await c.later(hours=3).approve(change)
        await c.later(days=2).do(
            RegisterGuardianChange(
                change_id=first(GuardianChangeProposed, change).change_id, registered_on=c.today
            )
        )
        transfer = await c.do(
            ProposeTransfer(
                destination_kind=DestinationKind.boarding_school,
                destination="county boarding school",
                reason="closer to school",
            )
        )
        transfer_id = first(TransferProposed, transfer).transfer_id
        await c.approve(transfer)
        await c.do(ConfirmTransferPlace(transfer_id=transfer_id), system_actor(c.village))
        await c.later(days=3).do(RecordTransfer(transfer_id=transfer_id, transferred_on=c.today))
        closure = await c.later(days=30).do(
            ProposeClosure(closure_reason=ClosureReason.situation_resolved)
        )
        await c.later(hours=2).approve(closure)
        assert c.state.status is CaseStatus.closed
        await c.later(days=20).do(ReopenCase(reason="reported again by the school"))

    async def recognised(self) -> None:
        """A de facto orphan, recognised by civil affairs, paid the monthly allowance."""
        o = self.cases["recognised"] = await Case.open(
            self.store,
            VILLAGE_A2,
            START + timedelta(days=2),
            parents=[
                ParentSituation(
                    relation=ParentRelation.father,
                    situation=ParentSituationKind.imprisoned,
                    since=date(2024, 1, 1),
                    expected_end=date(2031, 1, 1),
                ),
                ParentSituation(
                    relation=ParentRelation.mother, situation=ParentSituationKind.deceased
                ),
            ],
        )
        await o.later(days=1).do(RecordAssessment(scores=HIGH))
        applied = first(RecognitionApplied, await o.do(ApplyForRecognition()))
        engine = system_actor(o.village)
        await o.later(days=8).do(
            RecordRecognitionDecision(
                application_id=applied.application_id, decision=RecognitionDecision.verified
            ),
            engine,
        )
        await o.later(days=4).do(
            RecordRecognitionDecision(
                application_id=applied.application_id,
                decision=RecognitionDecision.confirmed,
                monthly_allowance_yuan=950,
            ),
            engine,
        )
        await o.do(RecordCasePlan(goals=("allowance paid",)))
        allowance = first(
            AssistanceRequested,
            await o.do(
                RequestAssistance(
                    kind=AssistanceKind.living_allowance,
                    quantity=12,
                    unit="month",
                    value_yuan=11400,
                )
            ),
        )
        for month in (date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)):
            o.now = datetime(month.year, month.month, month.day, 2, tzinfo=UTC)
            await o.do(
                RecordDelivery(request_id=allowance.request_id, quantity=1, delivered_on=o.today)
            )

    async def overdue_assessment(self) -> None:
        c = self.cases["overdue_assessment"] = await Case.open(self.store, VILLAGE_A1, START)
        due = c.state.assessment_due_at
        assert due is not None
        c.now = due + timedelta(hours=1)
        await c.record(assessment_overdue(c.state, c.now, new_id))
        assert c.state.assessment_overdue

    async def missed_visit(self) -> None:
        c = self.cases["missed_visit"] = await Case.open(
            self.store, VILLAGE_A2, START + timedelta(days=1)
        )
        await c.later(days=1).do(RecordAssessment(scores=MODERATE))
        await c.do(RecordCasePlan(goals=("visits",)))
        due = c.state.next_visit_due
        assert due is not None
        c.now = due + timedelta(minutes=1)
        await c.record(visit_missed(c.state, c.now, new_id))
        assert c.state.missed_visits == 1

    async def timed_out_approval(self) -> None:
        """An approval nobody decides: up to the county, the prefecture, then timed out; and a
        referral nobody answers."""
        c = self.cases["timed_out"] = await Case.open(
            self.store, VILLAGE_B, START + timedelta(days=3)
        )
        await c.later(hours=1).do(RecordAssessment(scores=HIGH))
        events = await c.do(
            RequestAssistance(
                kind=AssistanceKind.medical_aid, quantity=1, unit="treatment", value_yuan=5000
            )
        )
        approval_id = first(ApprovalRequested, events).approval_id
        for _ in range(3):
            c.now = c.state.approvals[approval_id].due_at + timedelta(minutes=1)
            await c.record(escalate_approval(c.state, approval_id, c.now, new_id))
        assert c.state.approvals[approval_id].timed_out
        referral = first(
            ReferralRequested,
            await c.do(MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="tutor")),
        )
        for _ in range(2):
            open_referral = c.state.referrals[referral.referral_id]
            c.now = (
                open_referral.remind_at
                if not open_referral.reminded
                else open_referral.answer_due_at
            ) + timedelta(minutes=1)
            await c.record(referral_unanswered(c.state, referral.referral_id, c.now, new_id))
        assert c.state.referrals[referral.referral_id].escalated

    async def closed_with_approvals_pending(self) -> None:
        """An emergency placement delivered at once, more help waiting for approval, and the
        case closed: what still waited is withdrawn."""
        c = self.cases["withdrawn"] = await Case.open(
            self.store,
            VILLAGE_B,
            START + timedelta(days=4),
            categories=frozenset({Category.in_difficulty}),
            concerns=frozenset({Concern.living_alone}),
        )
        shelter = await c.do(
            RequestAssistance(
                kind=AssistanceKind.temporary_shelter,
                quantity=7,
                unit="night",
                value_yuan=700,
                emergency=True,
            )
        )
        await c.do(
            RecordDelivery(
                request_id=first(AssistanceRequested, shelter).request_id,
                quantity=7,
                delivered_on=c.today,
            )
        )
        await c.later(hours=2).do(RecordAssessment(scores=HIGH))
        await c.do(
            RequestAssistance(
                kind=AssistanceKind.winter_clothes, quantity=1, unit="set", value_yuan=2500
            )
        )
        closure = await c.later(hours=1).do(
            ProposeClosure(closure_reason=ClosureReason.moved_out_of_area, handover_to="360732")
        )
        await c.later(hours=1).approve(closure)
        assert c.state.status is CaseStatus.closed
        assert not c.state.pending_approvals

    async def busy(self, cases: int, steps: int) -> None:
        """Many small cases taking turns, so batches hold several cases' events at once."""
        chance = random.Random(1949)
        busy = [
            await Case.open(
                self.store,
                VILLAGES[n % len(VILLAGES)],
                START + timedelta(hours=n),
                categories=frozenset(chance.sample(list(Category), chance.randint(0, 2))),
            )
            for n in range(cases)
        ]
        for n, case in enumerate(busy):
            self.cases[f"busy-{n}"] = case
            await case.later(days=1).do(RecordAssessment(scores=MODERATE))
            await case.do(RecordCasePlan(goals=("help",)))
        for step in range(steps):
            for case in busy:
                case.now = START + timedelta(days=7 + step * 12, hours=chance.randint(0, 12))
                await self._busy_step(case, chance)

    async def _busy_step(self, case: Case, chance: random.Random) -> None:
        choice = chance.randint(0, 3)
        try:
            if choice <= 1:
                kind = chance.choice(
                    [kind for kind in AssistanceKind if kind is not AssistanceKind.living_allowance]
                )
                requested = first(
                    AssistanceRequested,
                    await case.do(
                        RequestAssistance(
                            kind=kind, quantity=2, unit="unit", value_yuan=chance.randint(0, 2000)
                        )
                    ),
                )
                await case.do(
                    RecordDelivery(
                        request_id=requested.request_id, quantity=2, delivered_on=case.today
                    )
                )
            elif choice == 2:
                status = chance.choice(list(SchoolStatus))
                await case.do(RecordSchoolStatus(status=status, checked_on=case.today))
            else:
                await case.do(
                    RecordVisit(visited_at=case.now, visit_kind=VisitKind.phone, observations="ok")
                )
        except CommandRefused:
            pass  # not every step fits every case


_Row = TypeVar("_Row")


async def everywhere(
    query: Callable[..., Awaitable[list[_Row]]], pool: asyncpg.Pool, **filters: object
) -> list[_Row]:
    """`query` over both provinces of the world."""
    return [
        row
        for province in ("53", "36")
        for row in await query(pool, area=province, limit=1000, **filters)
    ]


async def built_world(db: Db, **sizes: int) -> World:
    world = World(db.store)
    await world.build(**sizes)
    return world


# -- reading the tables -----------------------------------------------------------------------

NAMES = [projection.name for projection in PROJECTIONS]

TABLES = {
    "projection_positions": ("name, position", "name"),
    "projected_cases": ("*", "projection, case_id"),
    "caseload": ("*", "case_id"),
    "approvals_inbox": ("*", "approval_id"),
    "assistance_ledger": ("*", "delivery_id"),
    "program_report_facts": ("*", "year, county, figure, event_id"),
    "program_report_coverage": ("*", "case_id, category, position"),
}

Dump = dict[str, list[tuple[object, ...]]]


async def dump(pool: asyncpg.Pool) -> Dump:
    """Every row of every projection table, in key order."""
    return {
        table: [
            tuple(row.values())
            for row in await pool.fetch(f"SELECT {columns} FROM {table} ORDER BY {key}")  # noqa: S608
        ]
        for table, (columns, key) in TABLES.items()
    }


async def rebuilt(pool: asyncpg.Pool) -> Dump:
    for projection in PROJECTIONS:
        await rebuild(pool, projection.name, batch_size=64)
    return await dump(pool)


async def until(
    condition: Callable[[], Awaitable[bool]], *, seconds: float = WAIT_SECONDS
) -> float:
    """Wait (bounded) until `condition` holds; how long it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await condition():
        if loop.time() - started > seconds:
            raise AssertionError(f"not reached within {seconds} s")
        await asyncio.sleep(0.02)
    return loop.time() - started


async def caught_up(pool: asyncpg.Pool) -> bool:
    head = await log_head(pool)
    return all(position == head for position in (await positions(pool)).values())


async def decoded_log(store: EventStore) -> list[tuple[StoredEvent, CaseEvent]]:
    stored = await store.read_all(limit=1_000_000)
    return [
        (
            event,
            decode(
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=event.metadata,
            ),
        )
        for event in stored
    ]


class Interrupted(Projection):
    """`inner`, except that at its `nth` event (counted over its whole life), or at the event at
    `at_position` each time, `on_add` runs as the event is taken in, and `on_write` as the batch
    holding it is written, inside the batch's transaction."""

    def __init__(
        self,
        inner: Projection,
        nth: int = 0,
        *,
        at_position: int | None = None,
        on_add: Callable[[], None] | None = None,
        on_write: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.name = inner.name
        self.tables = inner.tables
        self.inner = inner
        self.nth = nth
        self.at_position = at_position  # instead of the nth: the event at this log position
        self.on_add = on_add
        self.on_write = on_write
        self.handled = 0

    def changes(self) -> Changes:
        return _InterruptedChanges(self, self.inner.changes())


class _InterruptedChanges(Changes):
    def __init__(self, owner: Interrupted, inner: Changes) -> None:
        self.owner = owner
        self.inner = inner
        self.holds_nth = False

    def add(self, event: ProjectedEvent) -> None:
        self.owner.handled += 1
        if self.owner.handled == self.owner.nth or event.position == self.owner.at_position:
            self.holds_nth = True
            if self.owner.on_add is not None:
                self.owner.on_add()
        self.inner.add(event)

    async def write(self, connection: Connection) -> None:
        if self.holds_nth and self.owner.on_write is not None:
            await self.owner.on_write()
        await self.inner.write(connection)


class Killed(BaseException):
    """The process dying mid-batch: nothing in the projector handles it."""


def die() -> None:
    raise Killed


def fail() -> None:
    raise RuntimeError("this event cannot be applied")


# -- exactly once -----------------------------------------------------------------------------


async def test_a_rebuild_from_zero_gives_the_tables_built_incrementally(fresh_db: Db) -> None:
    # Incrementally: the projector runs while the cases are recorded, in small batches.
    projector = Projector(fresh_db.app, batch_size=7, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    await built_world(fresh_db)
    await until(lambda: caught_up(fresh_db.app))
    stop.set()
    await asyncio.wait_for(running, WAIT_SECONDS)
    incremental = await dump(fresh_db.app)

    assert all(incremental[table] for table in TABLES), "every table has rows"
    assert await rebuilt(fresh_db.app) == incremental
    # and in one batch per projection
    for projection in PROJECTIONS:
        await rebuild(fresh_db.app, projection.name, batch_size=100_000)
    assert await dump(fresh_db.app) == incremental
    # and all of them together, in small batches and in one
    for batch_size in (7, 100_000):
        await rebuild_together(fresh_db.app, NAMES, batch_size=batch_size)
        assert await dump(fresh_db.app) == incremental


async def test_rebuilding_every_projection_reads_the_log_once_for_all_of_them(
    fresh_db: Db,
) -> None:
    await built_world(fresh_db, busy_cases=3, busy_steps=2)
    await Projector(fresh_db.app).catch_up()
    before = await dump(fresh_db.app)
    head = await log_head(fresh_db.app)

    together: list[Progress] = []
    reached = await rebuild_together(
        fresh_db.app, NAMES, batch_size=16, on_progress=together.append
    )

    assert reached == dict.fromkeys(NAMES, head)
    # A batch (one read of the log, one fold) for each 16 events, moving all four on at once.
    assert [progress.position for progress in together] == [
        min(end, head) for end in range(16, head + 16, 16)
    ]
    assert {frozenset(progress.projections) for progress in together} == {frozenset(NAMES)}
    # Their positions were stored in one transaction (`now()` is the transaction's start).
    saved = await fresh_db.app.fetch("SELECT updated_at FROM projection_positions")
    assert len({row["updated_at"] for row in saved}) == 1
    assert await dump(fresh_db.app) == before
    # One after another, they would read it four times.
    alone: list[Progress] = []
    for name in NAMES:
        await rebuild(fresh_db.app, name, batch_size=16, on_progress=alone.append)
    assert len(alone) == len(NAMES) * len(together)
    assert await dump(fresh_db.app) == before


async def test_rebuilding_every_projection_while_the_projector_runs_applies_each_event_once(
    fresh_db: Db,
) -> None:
    world = World(fresh_db.store)
    await world.busy(3, 2)
    projector = Projector(fresh_db.app, batch_size=5, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    try:
        await until(lambda: caught_up(fresh_db.app))
        head = await log_head(fresh_db.app)
        rebuilding = asyncio.create_task(rebuild_together(fresh_db.app, NAMES, batch_size=8))
        await world.busy(3, 2)  # cases go on meanwhile
        reached = await asyncio.wait_for(rebuilding, WAIT_SECONDS)
        assert all(position >= head for position in reached.values())
        await until(lambda: caught_up(fresh_db.app))
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_SECONDS)
    side_by_side = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == side_by_side


async def test_a_projector_dying_mid_batch_neither_skips_nor_double_counts(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    for projection in PROJECTIONS:
        dying = Interrupted(projection, nth=23, on_add=die)
        with pytest.raises(Killed):
            await Projector(fresh_db.app, (dying,), batch_size=10).catch_up()
        # Two batches of ten committed; the third rolled back with its position.
        assert (await positions(fresh_db.app))[projection.name] == 20

    restarted = Projector(fresh_db.app, batch_size=10)
    assert not await restarted.catch_up()
    assert await caught_up(fresh_db.app)
    after_restart = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_restart


async def test_a_failing_event_stops_its_projection_right_before_it(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    for projection in PROJECTIONS:
        failing = Interrupted(projection, nth=23, on_add=fail)
        with pytest.raises(RuntimeError, match="cannot be applied") as raised:
            await Projector(fresh_db.app, (failing,), batch_size=10).catch_up()
        assert f"projection {projection.name}" in "".join(raised.value.__notes__)
        assert "at position 23" in "".join(raised.value.__notes__)
        # The third batch rolled back; the two events before the failing one were applied
        # again in a batch of their own.
        assert (await positions(fresh_db.app))[projection.name] == 22

    await Projector(fresh_db.app, batch_size=10).catch_up()
    assert await caught_up(fresh_db.app)
    after_restart = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_restart


async def test_a_projector_cancelled_inside_a_batch_neither_skips_nor_double_counts(
    fresh_db: Db,
) -> None:
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    inside = asyncio.Event()

    async def hang() -> None:
        inside.set()
        await asyncio.Event().wait()  # until cancelled

    for projection in PROJECTIONS:
        inside.clear()
        hanging = Interrupted(projection, nth=15, on_write=hang)
        task = asyncio.create_task(Projector(fresh_db.app, (hanging,), batch_size=6).catch_up())
        await asyncio.wait_for(inside.wait(), WAIT_SECONDS)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await positions(fresh_db.app))[projection.name] == 12

    await Projector(fresh_db.app, batch_size=5).catch_up()
    assert await caught_up(fresh_db.app)
    after_restart = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_restart


async def test_projections_at_one_position_take_each_batch_together(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    dying = [
        Interrupted(projection, nth=23, on_add=die)
        if projection.name == "program_report"
        else projection
        for projection in PROJECTIONS
    ]
    with pytest.raises(Killed):
        await Projector(fresh_db.app, dying, batch_size=10).catch_up()
    # All four took each batch in one transaction: the third rolled back for every one.
    assert set((await positions(fresh_db.app)).values()) == {20}

    restarted = Projector(fresh_db.app, batch_size=10)
    assert not await restarted.catch_up()
    assert await caught_up(fresh_db.app)
    after_restart = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_restart


async def test_a_failing_event_stops_only_its_projection_of_those_going_together(
    fresh_db: Db,
) -> None:
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    head = await log_head(fresh_db.app)
    failing = [
        Interrupted(projection, at_position=23, on_add=fail)
        if projection.name == "caseload"
        else projection
        for projection in PROJECTIONS
    ]
    with pytest.raises(RuntimeError, match="cannot be applied") as raised:
        await Projector(fresh_db.app, failing, batch_size=10).catch_up()
    assert "projection caseload" in "".join(raised.value.__notes__)
    at = await positions(fresh_db.app)
    assert at.pop("caseload") == 22
    assert set(at.values()) == {head}  # the others went on to the end of the log

    await Projector(fresh_db.app, batch_size=10).catch_up()
    assert await caught_up(fresh_db.app)
    after_restart = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_restart


async def test_a_write_that_fails_at_one_event_stops_its_projection_right_before_it(
    fresh_db: Db,
) -> None:
    """The program report ends a coverage period that is not there (its tables damaged): the
    batch's writes name the event, and the projection stops right before it."""
    case = await Case.open(
        fresh_db.store, VILLAGE_A1, START, categories=frozenset({Category.left_behind})
    )
    await Projector(fresh_db.app).catch_up()
    await fresh_db.app.execute("DELETE FROM program_report_coverage WHERE case_id = $1", case.id)
    closure = await case.later(days=1).do(
        ProposeClosure(closure_reason=ClosureReason.situation_resolved)
    )
    await case.later(hours=2).approve(closure)
    assert case.state.status is CaseStatus.closed
    await built_world(fresh_db, busy_cases=2, busy_steps=1)  # more events after it
    closed = next(
        stored for stored in await fresh_db.store.read_all() if stored.type == "CaseClosed"
    )

    with pytest.raises(ProjectionError, match="no coverage period open") as raised:
        await Projector(fresh_db.app, batch_size=1000).catch_up()
    assert str(closed.event_id) in str(raised.value)
    assert CHILD_NAME not in str(raised.value)
    at = await positions(fresh_db.app)
    assert at.pop("program_report") == closed.position - 1
    assert set(at.values()) == {await log_head(fresh_db.app)}


async def test_a_write_that_fails_at_an_unnamed_event_stops_its_projection_right_before_it(
    fresh_db: Db,
) -> None:
    """A delivery already in the ledger (damaged) fails the batch's insert without saying which
    event: the batch is applied again one event at a time, up to that one."""
    await built_world(fresh_db, busy_cases=4, busy_steps=3)
    log = await decoded_log(fresh_db.store)
    stored, delivered = [(s, e) for s, e in log if isinstance(e, AssistanceDelivered)][1]
    assert stored.position % 50 > 1  # in the middle of its batch
    await fresh_db.owner.execute(
        "INSERT INTO assistance_ledger (delivery_id, case_id, request_id, kind, assistance_group,"
        " quantity, unit, value_yuan, delivered_on, village, county, event_id, position)"
        " VALUES ($1, $2, $2, 'food_pack', 'survival', 1, 'pack', 1, '2026-01-01', $3, $4, $2, -1)",
        delivered.delivery_id,
        uuid.uuid4(),
        VILLAGE_A1,
        COUNTY_A,
    )
    ledger = projection_named("assistance_ledger")
    with pytest.raises(asyncpg.UniqueViolationError):
        await Projector(fresh_db.app, (ledger,), batch_size=50).catch_up()
    assert (await positions(fresh_db.app))["assistance_ledger"] == stored.position - 1

    await fresh_db.owner.execute("DELETE FROM assistance_ledger WHERE position = -1")
    await Projector(fresh_db.app).catch_up()
    assert await caught_up(fresh_db.app)
    after_repair = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == after_repair


async def test_projectors_running_side_by_side_apply_each_event_once(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=6, busy_steps=4)
    await asyncio.gather(
        *(Projector(fresh_db.app, batch_size=size).catch_up() for size in (3, 4, 5))
    )
    assert await caught_up(fresh_db.app)
    side_by_side = await dump(fresh_db.app)
    assert await rebuilt(fresh_db.app) == side_by_side


async def test_rebuilding_one_projection_leaves_the_others_alone(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=3, busy_steps=2)
    await Projector(fresh_db.app).catch_up()
    before = await dump(fresh_db.app)
    await fresh_db.app.execute("UPDATE projection_positions SET updated_at = '-infinity'")

    seen: list[int] = []
    head = await log_head(fresh_db.app)
    position = await rebuild(
        fresh_db.app,
        "assistance_ledger",
        batch_size=16,
        on_progress=lambda p: seen.append(p.position),
    )

    assert position == head
    assert seen == sorted(seen)
    assert seen[-1] == head
    assert len(seen) == -(-head // 16)
    rows = await fresh_db.app.fetch(
        "SELECT name FROM projection_positions WHERE updated_at > '-infinity'"
    )
    assert [row["name"] for row in rows] == ["assistance_ledger"]
    assert await dump(fresh_db.app) == before
    with pytest.raises(ValueError, match="no projection 'ledger'"):
        await rebuild(fresh_db.app, "ledger")


async def test_each_projection_of_a_joint_batch_goes_on_from_its_own_folded_states(
    fresh_db: Db,
) -> None:
    """Projections at the same position hold the fold of the same events, but not always the
    same states: one rebuilt after the fold changed holds the new fold's. Taking a batch
    together, each goes on from its own states, as it would alone."""
    world = await built_world(fresh_db, busy_cases=2, busy_steps=1)
    await Projector(fresh_db.app).catch_up()
    case = world.cases["missed_visit"]
    # As if the fold had changed twice, assigning the case elsewhere each time, and caseload
    # had been rebuilt after the first change, program_report after the second; and as if the
    # ledger's state had been stored without a field at its default (it parses the same as the
    # inbox's). The inbox comes first by name: its states used to serve all four.
    for name, change in (
        ("caseload", "jsonb_set(state, '{assigned_to}', '\"cw-new-fold\"')"),
        ("program_report", "jsonb_set(state, '{assigned_to}', '\"cw-newer-fold\"')"),
        ("assistance_ledger", "state - 'reopen_count'"),
    ):
        await fresh_db.owner.execute(
            f"UPDATE projected_cases SET state = {change} WHERE projection = $1 AND case_id = $2",  # noqa: S608
            name,
            case.id,
        )
    own = await stored_states(fresh_db.app, case.id)
    assert own["caseload"].assigned_to == "cw-new-fold"
    assert own["assistance_ledger"] == own["approvals_inbox"] == case.state

    events = await case.later(days=1).do(
        RecordVisit(visited_at=case.now, visit_kind=VisitKind.home, observations="ok")
    )
    assert len(set((await positions(fresh_db.app)).values())) == 1
    await Projector(fresh_db.app).catch_up()

    # One batch for all four: their positions were stored in one transaction.
    saved = await fresh_db.app.fetch("SELECT updated_at FROM projection_positions")
    assert len({row["updated_at"] for row in saved}) == 1
    expected = {name: fold(events, state) for name, state in own.items()}
    assert await stored_states(fresh_db.app, case.id) == expected
    assert expected["approvals_inbox"] == case.state
    new_fold = expected["caseload"]
    assert new_fold is not None
    last = (await fresh_db.store.read_stream(case_stream_id(case.id)))[-1]
    assert await caseload_row_of(fresh_db.app, case) == caseload_row(
        new_fold, position=last.position
    )
    assert new_fold.assigned_to == "cw-new-fold"


async def stored_states(pool: asyncpg.Pool, case_id: UUID) -> dict[str, CaseState]:
    """Each projection's stored folded state of the case."""
    rows = await pool.fetch(
        "SELECT projection, state::text AS state FROM projected_cases WHERE case_id = $1", case_id
    )
    return {row["projection"]: CaseState.model_validate_json(row["state"]) for row in rows}


async def caseload_row_of(pool: asyncpg.Pool, case: Case) -> CaseloadRow:
    (row,) = [row for row in await caseload(pool, area=case.village) if row.case_id == case.id]
    return row


async def test_folded_states_are_stored_the_same_by_every_process(fresh_db: Db) -> None:
    case = await Case.open(
        fresh_db.store,
        VILLAGE_A1,
        START,
        categories=frozenset(Category),
        concerns=frozenset(Concern),
    )
    await Projector(fresh_db.app, PROJECTIONS[:1]).catch_up()
    stored = await fresh_db.app.fetchval(
        "SELECT state::text FROM projected_cases WHERE case_id = $1", case.id
    )
    assert CaseState.model_validate_json(stored) == case.state
    # Sets are written sorted, not in the order of this process's string hashes.
    state = json.loads(stored)
    for listed in (state["categories"], state["report"]["categories"], state["report"]["concerns"]):
        assert listed == sorted(listed)
        assert len(listed) > 1
    # Every set, wherever it is: the projector looks only where the types say a set may be.
    world = await built_world(fresh_db, busy_cases=2, busy_steps=2)
    for folded in [case.state, *(c.state for c in world.cases.values())]:
        assert json.loads(_state_json(folded)) == every_set_sorted(
            folded, folded.model_dump(mode="json")
        )


def every_set_sorted(value: object, dumped: object) -> object:
    """`dumped` (the JSON form of `value`) with every set of `value` sorted, found by walking
    all of it."""
    if isinstance(value, set | frozenset):
        assert isinstance(dumped, list)
        return sorted(dumped, key=json.dumps)
    if isinstance(value, BaseModel):
        assert isinstance(dumped, dict)
        return {
            name: every_set_sorted(getattr(value, name), dumped[name])
            for name in type(value).model_fields
        }
    if isinstance(value, dict):
        assert isinstance(dumped, dict)
        return {str(key): every_set_sorted(item, dumped[str(key)]) for key, item in value.items()}
    if isinstance(value, list | tuple):
        assert isinstance(dumped, list)
        return [every_set_sorted(item, out) for item, out in zip(value, dumped, strict=True)]
    return dumped


# -- waking up --------------------------------------------------------------------------------


async def test_a_notification_wakes_the_projector_at_once(fresh_db: Db) -> None:
    projector = Projector(fresh_db.app, poll_interval=3600)  # it would never poll in time
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    try:
        await asyncio.wait_for(projector.ready.wait(), WAIT_SECONDS)
        for _ in range(3):
            case = await Case.open(fresh_db.store, VILLAGE_A1, START)
            took = await until(lambda: caught_up(fresh_db.app), seconds=5)
            assert took < 5
            rows = await caseload(fresh_db.app, area=VILLAGE_A1)
            assert case.id in {row.case_id for row in rows}
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_SECONDS)


async def test_polling_alone_catches_up_without_notifications(fresh_db: Db) -> None:
    projector = Projector(fresh_db.app, poll_interval=0.2, listen=False)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    try:
        await asyncio.wait_for(projector.ready.wait(), WAIT_SECONDS)
        await built_world(fresh_db, busy_cases=2, busy_steps=1)
        assert await until(lambda: caught_up(fresh_db.app), seconds=5) < 5
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_SECONDS)


# -- what cannot be projected -----------------------------------------------------------------


async def test_an_event_that_does_not_decode_stops_its_projection_without_quoting_it(
    fresh_db: Db,
) -> None:
    case = await Case.open(fresh_db.store, VILLAGE_A1, START)
    broken = NewEvent(uuid.uuid4(), "AssessmentRecorded", 1, f'{{"summary": "{CHILD_NAME}"}}', "{}")
    await fresh_db.store.append(
        case_stream_id(case.id), [broken], expected_version=case.state.version
    )
    stopped_at = case.state.version  # the case's events are the log's first

    with pytest.raises(ProjectionError) as raised:
        await Projector(fresh_db.app).catch_up()
    message = str(raised.value)
    assert str(broken.event_id) in message
    assert "AssessmentRecorded" in message
    assert CHILD_NAME not in message
    assert raised.value.__cause__ is None
    assert (await positions(fresh_db.app))["caseload"] == stopped_at

    # The service loop logs it, leaves the projection where it is, and keeps going.
    projector = Projector(fresh_db.app, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(projector.run(stop))
    await asyncio.wait_for(projector.ready.wait(), WAIT_SECONDS)
    stop.set()
    await asyncio.wait_for(running, WAIT_SECONDS)
    assert set((await positions(fresh_db.app)).values()) == {stopped_at}


async def test_an_event_that_does_not_follow_its_case_stops_its_projection(fresh_db: Db) -> None:
    case = await Case.open(fresh_db.store, VILLAGE_A1, START)
    other = await Case.open(fresh_db.store, VILLAGE_A1, START)
    # A second CaseOpened in the first case's stream: it decodes, but the fold refuses it.
    (opened, _) = open_case(
        uuid.uuid4(),
        other.state.report,
        actor=caseworker(VILLAGE_A1),
        now=START,
        new_id=new_id,
    )
    again = encode(opened)
    await fresh_db.store.append(
        case_stream_id(case.id),
        [NewEvent(again.event_id, again.type, again.schema_version, again.data, again.metadata)],
        expected_version=case.state.version,
    )
    with pytest.raises(ProjectionError, match="does not follow the case's state"):
        await Projector(fresh_db.app).catch_up()


# -- the read models --------------------------------------------------------------------------


async def test_the_caseload_is_each_case_s_folded_state(fresh_db: Db) -> None:
    world = await built_world(fresh_db)
    await Projector(fresh_db.app).catch_up()
    rows = {row.case_id: row for row in await everywhere(caseload, fresh_db.app)}
    assert len(rows) == len(world.cases)
    for case in world.cases.values():
        last = (await fresh_db.store.read_stream(case_stream_id(case.id)))[-1]
        assert rows[case.id] == caseload_row(case.state, position=last.position)

    c = world.cases
    assert rows[c["overdue_assessment"].id].assessment_overdue
    assert rows[c["missed_visit"].id].visit_missed
    timed_out = rows[c["timed_out"].id]
    assert (timed_out.approvals_overdue, timed_out.referrals_overdue) == (1, 1)
    assert {case_id for case_id, row in rows.items() if row.overdue} == {
        c["overdue_assessment"].id,
        c["missed_visit"].id,
        c["timed_out"].id,
    }
    closed = rows[c["withdrawn"].id]
    assert closed.status is CaseStatus.closed
    assert closed.next_deadline is None
    reopened = rows[c["full_life"].id]
    assert (reopened.status, reopened.county) == (CaseStatus.reported, COUNTY_A)

    overdue = await caseload(fresh_db.app, area=COUNTY_A, overdue=True)
    assert [row.case_id for row in overdue] == sorted(
        (c["overdue_assessment"].id, c["missed_visit"].id),
        key=lambda case_id: (rows[case_id].next_deadline, rows[case_id].opened_at, case_id),
    )
    assert {row.case_id for row in await caseload(fresh_db.app, area=VILLAGE_B)} == {
        case.id for case in c.values() if case.village == VILLAGE_B
    }
    immediate = await caseload(fresh_db.app, area="36", priority=Priority.immediate)
    assert [row.case_id for row in immediate] == [c["withdrawn"].id]
    closed_rows = await caseload(fresh_db.app, area="36", status=CaseStatus.closed)
    assert [row.case_id for row in closed_rows] == [c["withdrawn"].id]
    page = await caseload(fresh_db.app, area="53", limit=5, offset=5)
    everything = await caseload(fresh_db.app, area="53", limit=1000)
    assert len(everything) > 10
    assert page == everything[5:10]
    assert await caseload_count(fresh_db.app, area="53") == len(everything)
    assert await caseload_count(fresh_db.app, area=COUNTY_A, overdue=True) == len(overdue)
    for bad in ("53%", "1234567", ""):
        with pytest.raises(ValueError, match="area"):
            await caseload(fresh_db.app, area=bad)


def test_an_approval_s_row_keeps_what_its_upsert_leaves_alone() -> None:
    """A batch merges an approval's events into one row: from the last event the columns the
    upsert updates, from the first the others. Both lists must be the statement's."""
    inserted = UPSERT_APPROVALS.split("INSERT INTO approvals_inbox (")[1].split(")")[0]
    assert [column.strip() for column in inserted.split(",")] == list(APPROVAL_COLUMNS)
    updated = UPSERT_APPROVALS.split("DO UPDATE SET")[1]
    assignments = [line.strip().rstrip(",") for line in updated.strip().splitlines()]
    assert assignments == [f"{column} = excluded.{column}" for column in UPDATED_COLUMNS]


async def test_the_approvals_inbox_follows_each_approval(fresh_db: Db) -> None:
    world = await built_world(fresh_db, busy_cases=0)
    await Projector(fresh_db.app).catch_up()
    every = await everywhere(approvals_inbox, fresh_db.app, status=None)
    expected = {
        approval.approval_id: approval
        for case in world.cases.values()
        for approval in case.state.approvals.values()
    }
    assert {item.approval_id: item.status for item in every} == {
        approval_id: approval.status for approval_id, approval in expected.items()
    }
    in_a = await approvals_inbox(fresh_db.app, area="53", status=None)
    assert [item.requested_at for item in in_a] == sorted(item.requested_at for item in in_a)

    pending = await everywhere(approvals_inbox, fresh_db.app)
    assert {item.approval_id for item in pending} == {
        approval_id
        for approval_id, approval in expected.items()
        if approval.status is ApprovalStatus.pending
    }
    (timed_out,) = pending  # the closure withdrew the others; the rest were decided
    assert (timed_out.level, timed_out.area) == (EscalationLevel.prefecture, VILLAGE_B[:4])
    assert timed_out.escalated
    assert timed_out.timed_out
    # Only the prefecture's supervisors (and those above) may decide it now.
    assert await approvals_inbox(fresh_db.app, area=VILLAGE_B[:6]) == []
    assert await approvals_inbox(fresh_db.app, area=VILLAGE_B[:4]) == [timed_out]

    withdrawn = [item for item in every if item.status is ApprovalStatus.withdrawn]
    assert len(withdrawn) == 2
    assert {item.kind.value for item in withdrawn} == {
        "emergency_placement",
        "assistance",
    }
    assert [item.emergency for item in withdrawn if item.kind.value == "emergency_placement"] == [
        True
    ]
    tuition = next(
        item
        for item in every
        if item.case_id == world.cases["full_life"].id and item.kind.value == "assistance"
    )
    assert tuition.escalated
    assert tuition.status is ApprovalStatus.granted
    assert (tuition.level, tuition.decided_by) == (
        EscalationLevel.county,
        county_officer(VILLAGE_A1).user_id,
    )


async def test_the_assistance_ledger_has_one_row_per_delivery(fresh_db: Db) -> None:
    world = await built_world(fresh_db)
    await Projector(fresh_db.app).catch_up()
    log = await decoded_log(fresh_db.store)
    deliveries = [(s, e) for s, e in log if isinstance(e, AssistanceDelivered)]
    ledger = sorted(
        await everywhere(assistance_ledger, fresh_db.app), key=lambda delivery: delivery.position
    )
    assert [(row.event_id, row.position) for row in ledger] == [
        (s.event_id, s.position) for s, _ in deliveries
    ]
    for row, (_, delivered) in zip(ledger, deliveries, strict=True):
        assert (row.delivery_id, row.kind, row.quantity, row.value_yuan) == (
            delivered.delivery_id,
            delivered.kind,
            delivered.quantity,
            delivered.value_yuan,
        )
        assert row.group == ASSISTANCE_GROUP[delivered.kind]
        assert row.delivered_on == delivered.delivered_on
        assert row.county == row.village[:6]
    recognised = world.cases["recognised"].id
    allowance = await assistance_ledger(fresh_db.app, area=COUNTY_A, case_id=recognised)
    assert [row.group for row in allowance] == ["living_allowance"] * 3


async def test_program_report_figures_equal_counts_made_from_the_raw_events(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=12, busy_steps=10)
    await Projector(fresh_db.app, batch_size=50).catch_up()
    log = await decoded_log(fresh_db.store)
    seen_nonzero: set[str] = set()
    for year in (2025, 2026, 2027):
        for county in (COUNTY_A, COUNTY_B):
            report = await program_report(fresh_db.app, year=year, county=county, now=REPORT_NOW)
            expected = expected_figures(log, year=year, county=county, now=REPORT_NOW)
            assert report.figures == expected, (year, county)
            assert report.as_of_position == len(log)
            seen_nonzero |= {figure for figure, count in report.figures.items() if count}
    # The world exercises every kind of figure.
    for figure in (
        "children_covered.left_behind",
        "children_covered.de_facto_orphan",
        "assistance.group.survival",
        "assistance.group.school",
        "assistance.kind.living_allowance",
        "guardian_changes_registered",
        "transfers_completed",
        "dropouts_returned_to_school",
        "recognitions_confirmed",
    ):
        assert figure in seen_nonzero
    report = await program_report(fresh_db.app, year=2026, county=COUNTY_A, now=REPORT_NOW)
    assert report.assistance_person_times == sum(report.assistance_by_group.values())
    assert report.assistance_person_times == sum(report.assistance_by_kind.values())
    with pytest.raises(ValueError, match="county"):
        await program_report(fresh_db.app, year=2026, county=VILLAGE_A1)


SOURCES = {
    "children_covered": {
        "CaseOpened",
        "CaseReopened",
        "AssessmentRecorded",
        "RecognitionConfirmed",
    },
    "assistance": {"AssistanceDelivered"},
    "guardian_changes_registered": {"GuardianChangeRegistered"},
    "transfers_completed": {"ChildTransferred"},
    "dropouts_returned_to_school": {"SchoolStatusChecked"},
    "recognitions_confirmed": {"RecognitionConfirmed"},
}


async def test_every_figure_links_to_the_events_it_counts(fresh_db: Db) -> None:
    await built_world(fresh_db)
    await Projector(fresh_db.app).catch_up()
    by_id = {
        stored.event_id: (stored, event) for stored, event in await decoded_log(fresh_db.store)
    }
    checked = 0
    for year in (2025, 2026):
        for county in (COUNTY_A, COUNTY_B):
            report = await program_report(fresh_db.app, year=year, county=county, now=REPORT_NOW)
            for figure in FIGURES:
                facts = await report_facts(
                    fresh_db.app, year=year, county=county, figure=figure, now=REPORT_NOW
                )
                assert len(facts) == report.figures[figure], (year, county, figure)
                if figure.startswith("children_covered"):  # each child once
                    assert len({fact.case_id for fact in facts}) == len(facts)
                for fact in facts:
                    stored, event = by_id[fact.event_id]
                    assert stored.position == fact.position
                    assert stored.stream_id == case_stream_id(fact.case_id)
                    assert stored.type in SOURCES[figure.split(".")[0]], figure
                    if figure.startswith("children_covered"):
                        assert fact.occurred_on == today(event.occurred_at)
                    else:
                        assert fact.occurred_on == _fact_day(event)
                        assert fact.occurred_on.year == year
                    checked += 1
    assert checked > 50
    with pytest.raises(ValueError, match="no figure"):
        await report_facts(fresh_db.app, year=2026, county=COUNTY_A, figure="children")


def _fact_day(event: CaseEvent) -> date:
    """The day an event counted by a figure happened on, as the event says."""
    if isinstance(event, AssistanceDelivered):
        return event.delivered_on
    if isinstance(event, GuardianChangeRegistered):
        return event.registered_on
    if isinstance(event, ChildTransferred):
        return event.transferred_on
    if isinstance(event, RecognitionConfirmed):
        return event.recognised_on
    assert isinstance(event, SchoolStatusChecked)
    return event.checked_on


def expected_figures(
    log: list[tuple[StoredEvent, CaseEvent]], *, year: int, county: str, now: datetime
) -> dict[str, int]:
    """The report's figures counted straight from the events, without the fold."""
    figures = dict.fromkeys(FIGURES, 0)
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    streams: dict[str, list[CaseEvent]] = defaultdict(list)
    for stored, event in log:
        streams[stored.stream_id].append(event)
    for events in streams.values():
        opened = events[0]
        assert isinstance(opened, CaseOpened)
        if opened.report.village[:6] != county:
            continue
        is_open, categories = False, frozenset[Category]()
        since: date | None = None
        school: SchoolStatus | None = None
        covered: set[Category] = set()
        for event in events:
            day = today(event.occurred_at)
            # The case stood as it was from the previous event's day through this one's.
            if since is not None and is_open and since <= last_day and day >= first_day:
                covered |= categories
            if isinstance(event, CaseOpened):
                is_open, categories = True, event.report.categories
            elif isinstance(event, CaseReopened):
                is_open = True
            elif isinstance(event, CaseClosed):
                is_open = False
            elif isinstance(event, AssessmentRecorded):
                categories = event.categories
            elif isinstance(event, RecognitionConfirmed):
                categories = categories | {Category.de_facto_orphan}
                if event.recognised_on.year == year:
                    figures["recognitions_confirmed"] += 1
            elif isinstance(event, AssistanceDelivered) and event.delivered_on.year == year:
                figures["assistance.total"] += 1
                figures[f"assistance.kind.{event.kind.value}"] += 1
                figures[f"assistance.group.{ASSISTANCE_GROUP[event.kind]}"] += 1
            elif isinstance(event, GuardianChangeRegistered) and event.registered_on.year == year:
                figures["guardian_changes_registered"] += 1
            elif isinstance(event, ChildTransferred) and event.transferred_on.year == year:
                figures["transfers_completed"] += 1
            elif isinstance(event, SchoolStatusChecked):
                returned = event.status is SchoolStatus.returned
                if (
                    returned
                    and school is SchoolStatus.dropped_out
                    and event.checked_on.year == year
                ):
                    figures["dropouts_returned_to_school"] += 1
                school = event.status
            elif isinstance(event, EligibilityCheckAnswered) and isinstance(
                event.facts, SchoolEnrolmentFacts
            ):
                school = event.facts.status
            since = day
        # As the last event left it, up to now.
        if since is not None and is_open and since <= last_day and today(now) >= first_day:
            covered |= categories
        for category in covered:
            figures[f"children_covered.{category.value}"] += 1
    return figures


# -- the commands -----------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def command_env(db: Db) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEFLOW_")}
    env.update({"DATABASE_URL": db.url, "CASEFLOW_LOG_FORMAT": "json"})
    return env


async def test_caseflow_projections_rebuild_replays_every_projection(fresh_db: Db) -> None:
    await built_world(fresh_db, busy_cases=2, busy_steps=2)
    await Projector(fresh_db.app).catch_up()
    before = await dump(fresh_db.app)
    await fresh_db.app.execute("TRUNCATE caseload")  # damaged: the rebuild repairs it

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", "projections", "rebuild",
        cwd=REPO, env=command_env(fresh_db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    head = await log_head(fresh_db.app)
    for projection in PROJECTIONS:
        assert f"{projection.name}: rebuilt up to position {head}" in out.decode()
    # One rebuild of all four together, not four one after another.
    started = [
        json.loads(line)
        for line in err.decode().splitlines()
        if '"projection_rebuild_started"' in line
    ]
    assert [sorted(entry["projections"]) for entry in started] == [sorted(NAMES)]
    # The same rows, folded states included, from a process with other string hashes.
    assert await dump(fresh_db.app) == before
    assert CHILD_NAME not in (out + err).decode()

    unknown = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", "projections", "rebuild", "ledger",
        cwd=REPO, env=command_env(fresh_db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(unknown.communicate(), 60)
    assert unknown.returncode == 2
    assert "no projection 'ledger'" in err.decode()


async def test_caseflow_projector_runs_until_sigterm(fresh_db: Db) -> None:
    await Case.open(fresh_db.store, VILLAGE_A1, START)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", "projector",
        cwd=REPO, env=command_env(fresh_db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await until(lambda: caught_up(fresh_db.app))
        await built_world(fresh_db, busy_cases=2, busy_steps=1)
        await until(lambda: caught_up(fresh_db.app))
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    log = err.decode()
    assert process.returncode == 0, log
    assert '"projector_started"' in log
    assert '"projector_stopped"' in log
    assert CHILD_NAME not in log
    assert GUARDIAN_NAME not in log
