"""Hypothesis strategies for the case domain: reports, actors, and commands that fit a case.

Names, addresses and guardians are drawn from CJK characters, so a test can tell for certain
whether any of them leaked into an English refusal reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import TypeVar
from uuid import UUID

from hypothesis import strategies as st

from domain.actors import Actor, Role, system_actor
from domain.child import (
    Category,
    ChildIdentity,
    ChildReport,
    Concern,
    DisabilityKind,
    Guardian,
    Household,
    IntakeSource,
    ParentRelation,
    ParentSituation,
    ParentSituationKind,
    Sex,
)
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    AssignCaseworker,
    CaseCommand,
    ConfirmTransferPlace,
    CorrectFact,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecognitionDecision,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordEligibilityAnswer,
    RecordRecognitionDecision,
    RecordReferralAnswer,
    RecordSchoolStatus,
    RecordTransfer,
    RecordVisit,
    ReferralAnswer,
    RefuseTransferPlace,
    RegisterGuardianChange,
    ReopenCase,
    RequestAssistance,
    RequestEligibilityCheck,
    WithdrawReferral,
    decide,
    open_case,
)
from domain.commands.recording import today
from domain.errors import CommandRefused
from domain.events import (
    AgencyKind,
    CaseEvent,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    EventBase,
    HouseholdRegistrationFacts,
    ParentsStatusFacts,
    PlannedAssistance,
    SchoolEnrolmentFacts,
    SchoolStatus,
    VisitKind,
)
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from domain.state import CaseState, CaseStatus, CheckStatus, fold

VILLAGE = "530627101201"
NEIGHBOUR_VILLAGE = "530627101202"
TOWNSHIP = "530627101"
OTHER_TOWNSHIP = "530627102"
COUNTY = "530627"
PREFECTURE = "5306"

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

REPORTER = Actor(user_id="cw-1", role=Role.caseworker, area=VILLAGE)
CASEWORKER = Actor(user_id="cw-2", role=Role.caseworker, area=VILLAGE)
FAR_CASEWORKER = Actor(user_id="cw-far", role=Role.caseworker, area=NEIGHBOUR_VILLAGE)
SUPERVISOR = Actor(user_id="sup-town-1", role=Role.supervisor, area=TOWNSHIP)
OTHER_SUPERVISOR = Actor(user_id="sup-town-2", role=Role.supervisor, area=TOWNSHIP)
COUNTY_OFFICER = Actor(user_id="sup-county", role=Role.supervisor, area=COUNTY)
PREFECTURE_OFFICER = Actor(user_id="sup-pref", role=Role.supervisor, area=PREFECTURE)
FAR_SUPERVISOR = Actor(user_id="sup-far", role=Role.supervisor, area=OTHER_TOWNSHIP)
AUDITOR = Actor(user_id="aud-1", role=Role.auditor, area=COUNTY)
ADMIN = Actor(user_id="adm-1", role=Role.admin, area="53")
ENGINE = system_actor(VILLAGE)

STAFF = (REPORTER, CASEWORKER, SUPERVISOR, OTHER_SUPERVISOR, COUNTY_OFFICER)
DECIDERS = (SUPERVISOR, OTHER_SUPERVISOR, COUNTY_OFFICER, PREFECTURE_OFFICER)
EVERYONE = (
    REPORTER,
    CASEWORKER,
    FAR_CASEWORKER,
    SUPERVISOR,
    OTHER_SUPERVISOR,
    COUNTY_OFFICER,
    PREFECTURE_OFFICER,
    FAR_SUPERVISOR,
    AUDITOR,
    ADMIN,
    ENGINE,
)

# CJK Unified Ideographs: never part of an English refusal reason.
personal_text = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=3, max_size=6
)
plain_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).map(
    lambda text: text.strip() or "note"
)
phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@cache
def guardians() -> st.SearchStrategy[Guardian]:
    return st.builds(
        Guardian,
        name=personal_text,
        relation=st.sampled_from(["grandmother", "grandfather", "aunt", "uncle", "neighbour"]),
        phone=st.none() | phones,
        able_to_care=st.booleans(),
    )


def parent_situations(relation: ParentRelation) -> st.SearchStrategy[ParentSituation]:
    simple = st.sampled_from(
        [
            ParentSituationKind.present_and_able,
            ParentSituationKind.working_away,
            ParentSituationKind.deceased,
            ParentSituationKind.guardianship_revoked,
            ParentSituationKind.deported,
            ParentSituationKind.unknown,
        ]
    ).map(lambda kind: ParentSituation(relation=relation, situation=kind))
    imprisoned = st.builds(
        ParentSituation,
        relation=st.just(relation),
        situation=st.just(ParentSituationKind.imprisoned),
        since=st.just(date(2024, 1, 1)),
        expected_end=st.sampled_from([date(2026, 4, 1), date(2031, 1, 1)]),
    )
    disabled = st.builds(
        ParentSituation,
        relation=st.just(relation),
        situation=st.just(ParentSituationKind.severe_disability),
        disability_grade=st.integers(1, 4),
        disability_kind=st.sampled_from(list(DisabilityKind)),
    )
    return st.one_of(simple, imprisoned, disabled)


@st.composite
def reports(draw: st.DrawFn) -> ChildReport:
    """A reported child under 18 on `START`; some turn 18 within a few months of it."""
    near_eighteen = draw(st.integers(0, 7)) == 0
    if near_eighteen:
        born = START.date().replace(year=START.year - 18) + timedelta(days=draw(st.integers(1, 90)))
    else:
        born = START.date() - timedelta(days=draw(st.integers(30, 17 * 365)))
    return ChildReport(
        child=ChildIdentity(
            name=draw(personal_text), sex=draw(st.sampled_from(list(Sex))), date_of_birth=born
        ),
        village=VILLAGE,
        household=Household(address=draw(personal_text), members=draw(st.integers(1, 8))),
        guardians=draw(st.lists(guardians(), max_size=2)),
        parents=[
            draw(parent_situations(ParentRelation.father)),
            draw(parent_situations(ParentRelation.mother)),
        ],
        categories=draw(st.frozensets(st.sampled_from(list(Category)), max_size=2)),
        concerns=draw(st.frozensets(st.sampled_from(list(Concern)), max_size=1)),
        source=draw(st.sampled_from(list(IntakeSource))),
    )


def example_report(*, born: date = date(2015, 5, 1)) -> ChildReport:
    """One fixed report: a boy whose father is in prison until 2031 and whose mother died."""
    return ChildReport(
        child=ChildIdentity(name="李小明", sex=Sex.male, date_of_birth=born),
        village=VILLAGE,
        household=Household(address="云南省镇雄县某村"),
        guardians=[Guardian(name="王秀英", relation="grandmother", phone="13800000000")],
        parents=[
            ParentSituation(
                relation=ParentRelation.father,
                situation=ParentSituationKind.imprisoned,
                since=date(2024, 1, 1),
                expected_end=date(2031, 1, 1),
            ),
            ParentSituation(relation=ParentRelation.mother, situation=ParentSituationKind.deceased),
        ],
    )


need_scores = st.builds(
    NeedScores,
    survival=st.integers(0, 3),
    education=st.integers(0, 3),
    health=st.integers(0, 3),
    guardianship=st.integers(0, 3),
    safety=st.integers(0, 3),
    psychosocial=st.integers(0, 3),
)

unknown_ids = st.uuids(version=4)


def _one_of_ids(ids: list[UUID]) -> st.SearchStrategy[UUID]:
    """Mostly an id the case knows; now and then one it does not."""
    if not ids:
        return unknown_ids
    return st.one_of(st.sampled_from(ids), st.sampled_from(ids), unknown_ids)


def _staff() -> st.SearchStrategy[Actor]:
    return st.sampled_from(STAFF)


def _answering() -> st.SearchStrategy[Actor]:
    return st.sampled_from((ENGINE, *STAFF))


def _anyone() -> st.SearchStrategy[Actor]:
    return st.sampled_from(EVERYONE)


Attempt = tuple[CaseCommand, Actor]
Build = Callable[[], st.SearchStrategy[Attempt]]
_Event = TypeVar("_Event", bound=EventBase)


def _by(
    command: st.SearchStrategy[CaseCommand], fitting: st.SearchStrategy[Actor]
) -> st.SearchStrategy[Attempt]:
    """The command from a fitting actor most of the time, from anyone now and then."""
    return st.tuples(command, st.one_of(fitting, fitting, fitting, _anyone()))


def attempts(state: CaseState, now: datetime) -> st.SearchStrategy[Attempt]:
    """A command (and who sends it) worth trying on `state`: most fit the case as it stands,
    some do not (and must be refused without a trace)."""
    day = today(now)
    past_moment = st.integers(0, 24 * 60).map(lambda minutes: now - timedelta(minutes=minutes))
    past_day = st.integers(0, 3).map(lambda days: day - timedelta(days=days))

    def assess() -> st.SearchStrategy[Attempt]:
        return _by(st.builds(RecordAssessment, scores=need_scores, summary=plain_text), _staff())

    def check() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(RequestEligibilityCheck, check=st.sampled_from(list(EligibilityCheckKind))),
            _staff(),
        )

    def plan() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                RecordCasePlan,
                goals=st.lists(plain_text, min_size=1, max_size=3).map(tuple),
                planned_assistance=st.just(
                    (
                        PlannedAssistance(
                            kind=AssistanceKind.food_pack, quantity=2, unit="pack", value_yuan=300
                        ),
                    )
                ),
            ),
            _staff(),
        )

    def assist() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                RequestAssistance,
                kind=st.sampled_from(list(AssistanceKind)),
                quantity=st.integers(1, 5),
                unit=st.just("unit"),
                value_yuan=st.sampled_from([0, 200, 2000, 2001, 6000]),
                emergency=st.integers(0, 4).map(lambda n: n == 0),
            ),
            _staff(),
        )

    def refer() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                MakeReferral,
                agency_kind=st.sampled_from(list(AgencyKind)),
                agency=plain_text,
                service=plain_text,
            ),
            _staff(),
        )

    def recognise() -> st.SearchStrategy[Attempt]:
        return _by(st.builds(ApplyForRecognition), _staff())

    def visit() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                RecordVisit,
                visited_at=past_moment,
                visit_kind=st.sampled_from(list(VisitKind)),
                observations=plain_text,
                updated_scores=st.none() | need_scores,
            ),
            _staff(),
        )

    def school() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                RecordSchoolStatus,
                status=st.sampled_from(list(SchoolStatus)),
                school=st.none() | plain_text,
                checked_on=past_day,
            ),
            _answering(),
        )

    def new_guardian() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(ProposeGuardianChange, new_guardian=guardians(), reason=plain_text), _staff()
        )

    def transfer() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                ProposeTransfer,
                destination_kind=st.sampled_from(list(DestinationKind)),
                destination=plain_text,
                reason=plain_text,
            ),
            _staff(),
        )

    def close() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(ProposeClosure, closure_reason=st.sampled_from(list(ClosureReason))), _staff()
        )

    def reopen() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                ReopenCase,
                reason=plain_text,
                concerns=st.frozensets(st.sampled_from(list(Concern)), max_size=1),
            ),
            _staff(),
        )

    def assign() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(AssignCaseworker, caseworker=st.sampled_from(["cw-1", "cw-2"])),
            st.just(SUPERVISOR),
        )

    def correct() -> st.SearchStrategy[Attempt]:
        return _by(
            st.builds(
                CorrectFact,
                event_id=st.just(state.opened_event_id),
                field_path=st.sampled_from(
                    ["report.child.date_of_birth", "report.household.members", "report.village"]
                ),
                value=st.sampled_from(["2014-05-01", 3, "530627101202", "not a date"]),
                reason=plain_text,
            ),
            _staff(),
        )

    weighted: list[tuple[int, Build]] = [
        (1, check),
        (3, assist),
        (2, refer),
        (1, recognise),
        (2, visit),
        (1, school),
        (1, new_guardian),
        (1, transfer),
        (1, close),
        (1, reopen),
        (1, assign),
        (1, correct),
        (5 if state.need_scores is None else 1, assess),
        (4 if state.need_scores is not None and state.plan is None else 1, plan),
        *_follow_ups(state, past_day),
    ]
    if state.status is CaseStatus.closed:
        weighted.append((15, reopen))
    builds = [build for weight, build in weighted for _ in range(weight)]
    return st.sampled_from(builds).flatmap(lambda build: build())


def _follow_ups(state: CaseState, past_day: st.SearchStrategy[date]) -> list[tuple[int, Build]]:
    """What moves an existing request, referral, approval, check or proposal on."""
    follow_ups: list[tuple[int, Build]] = []
    if state.assistance:
        follow_ups.append(
            (
                3,
                lambda: _by(
                    st.builds(
                        RecordDelivery,
                        request_id=_one_of_ids(list(state.assistance)),
                        quantity=st.integers(1, 3),
                        value_yuan=st.none() | st.sampled_from([0, 100, 5000]),
                        delivered_on=past_day,
                    ),
                    _staff(),
                ),
            )
        )
    if state.referrals:
        referrals = list(state.referrals)
        follow_ups += [
            (
                3,
                lambda: _by(
                    st.builds(
                        RecordReferralAnswer,
                        referral_id=_one_of_ids(referrals),
                        answer=st.sampled_from(list(ReferralAnswer)),
                        note=st.sampled_from(["", "no capacity"]),
                    ),
                    _answering(),
                ),
            ),
            (
                1,
                lambda: _by(
                    st.builds(
                        WithdrawReferral, referral_id=_one_of_ids(referrals), reason=plain_text
                    ),
                    _staff(),
                ),
            ),
        ]
    if state.approvals:
        pending = list(state.pending_approvals) or list(state.approvals)
        follow_ups.append((4, lambda: _one_of_ids(pending).flatmap(lambda a: _decide_as(state, a))))
    checks = [
        c.check_id for c in state.eligibility_checks.values() if c.status is CheckStatus.requested
    ]
    if checks:
        follow_ups.append(
            (
                2,
                lambda: _by(
                    st.sampled_from(checks).flatmap(lambda c: _answer(state, c)), _answering()
                ),
            )
        )
    if state.recognition is not None:
        application_id = state.recognition.application_id
        follow_ups.append(
            (
                3,
                lambda: _by(
                    st.builds(
                        RecordRecognitionDecision,
                        application_id=st.just(application_id),
                        decision=st.sampled_from(list(RecognitionDecision)),
                        reasons=st.sampled_from([(), ("parents can care",)]),
                        monthly_allowance_yuan=st.sampled_from([None, 950, 950]),
                    ),
                    _answering(),
                ),
            )
        )
    if state.guardian_changes:
        follow_ups.append(
            (
                2,
                lambda: _by(
                    st.builds(
                        RegisterGuardianChange,
                        change_id=_one_of_ids(list(state.guardian_changes)),
                        registered_on=past_day,
                    ),
                    _answering(),
                ),
            )
        )
    if state.transfers:
        transfers = list(state.transfers)
        follow_ups += [
            (
                2,
                lambda: _by(
                    st.builds(ConfirmTransferPlace, transfer_id=_one_of_ids(transfers)),
                    _answering(),
                ),
            ),
            (
                1,
                lambda: _by(
                    st.builds(
                        RefuseTransferPlace,
                        transfer_id=_one_of_ids(transfers),
                        refused_because=plain_text,
                    ),
                    _answering(),
                ),
            ),
            (
                2,
                lambda: _by(
                    st.builds(
                        RecordTransfer, transfer_id=_one_of_ids(transfers), transferred_on=past_day
                    ),
                    _staff(),
                ),
            ),
        ]
    return follow_ups


def _decide_as(state: CaseState, approval_id: UUID) -> st.SearchStrategy[Attempt]:
    """A decision on the approval, mostly by a supervisor other than the requester."""
    approval = state.approvals.get(approval_id)
    deciders = [a for a in DECIDERS if approval is None or a.user_id != approval.requested_by]
    return st.tuples(
        st.builds(
            DecideApproval,
            approval_id=st.just(approval_id),
            decision=st.sampled_from(list(ApprovalDecision)),
            comment=st.sampled_from(["", "fine", "not enough evidence"]),
        ),
        st.one_of(st.sampled_from(deciders), st.sampled_from(deciders), _anyone()),
    )


def _answer(state: CaseState, check_id: UUID) -> st.SearchStrategy[CaseCommand]:
    kind = state.eligibility_checks[check_id].check
    facts: st.SearchStrategy[object]
    if kind is EligibilityCheckKind.household_registration:
        facts = st.builds(
            HouseholdRegistrationFacts,
            registration_area=st.just(VILLAGE),
            members=st.integers(1, 6),
        )
    elif kind is EligibilityCheckKind.parents_status:
        facts = st.builds(
            ParentsStatusFacts,
            parents=st.tuples(
                parent_situations(ParentRelation.father), parent_situations(ParentRelation.mother)
            ),
        )
    else:
        facts = st.builds(SchoolEnrolmentFacts, status=st.sampled_from(list(SchoolStatus)))
    return st.one_of(
        facts.map(lambda answer: RecordEligibilityAnswer(check_id=check_id, facts=answer)),
        st.sampled_from(list(CheckFailure)).map(
            lambda failure: RecordEligibilityAnswer(check_id=check_id, failure=failure)
        ),
    )


class Driver:
    """One case driven step by step through `decide` and the engine's functions, the way the
    workflow drives it: each accepted decision's events are folded into the state."""

    def __init__(self, report: ChildReport | None = None, *, now: datetime = START) -> None:
        self.now = now
        self._ids = 0
        self.report = report or example_report()
        self.events: list[CaseEvent] = open_case(
            uuid.UUID(int=0xCA5E, version=4),
            self.report,
            actor=REPORTER,
            now=now,
            new_id=self.new_id,
        )
        state = fold(self.events)
        assert state is not None
        self.state: CaseState = state

    def new_id(self) -> UUID:
        self._ids += 1
        return uuid.UUID(int=self._ids, version=4)

    def later(self, delta: timedelta) -> Driver:
        self.now += delta
        return self

    def do(self, command: CaseCommand, actor: Actor = REPORTER) -> list[CaseEvent]:
        new = decide(self.state, command, actor=actor, now=self.now, new_id=self.new_id)
        return self.record(new)

    def record(self, new: list[CaseEvent]) -> list[CaseEvent]:
        self.state = apply_all(self.state, new)
        self.events += new
        return new

    def refusal(self, command: CaseCommand, actor: Actor = REPORTER) -> CommandRefused:
        """The refusal `command` meets; the case must be left exactly as it was."""
        before = self.state
        ids = self._ids
        try:
            new = decide(self.state, command, actor=actor, now=self.now, new_id=self.new_id)
        except CommandRefused as refusal:
            assert self.state is before
            self._ids = ids
            return refusal
        raise AssertionError(f"{command.command} was accepted: {[e.type for e in new]}")

    # shortcuts to the usual steps

    def assessed(self, scores: NeedScores | None = None) -> Driver:
        self.do(RecordAssessment(scores=scores or MODERATE_NEEDS))
        return self

    def planned(self) -> Driver:
        self.do(RecordCasePlan(goals=("regular meals", "stay in school")))
        return self

    def pending_approval(self) -> UUID:
        (approval_id,) = self.state.pending_approvals
        return approval_id


def apply_all(state: CaseState, events: list[CaseEvent]) -> CaseState:
    folded = fold(events, state)
    assert folded is not None
    return folded


MODERATE_NEEDS = NeedScores(
    survival=2, education=1, health=0, guardianship=1, safety=1, psychosocial=1
)
HIGH_NEEDS = NeedScores(survival=3, education=1, health=0, guardianship=1, safety=1, psychosocial=1)


def first(kind: type[_Event], events: list[CaseEvent]) -> _Event:
    """The first event of `kind` among `events` (there must be one)."""
    for event in events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} among {[e.type for e in events]}")
