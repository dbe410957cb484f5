"""The case as it stands: the fold of its events.

`apply` turns an event into the next state and `fold` a stream of events, by the same rules (one
per event type, at the end of this module). The workflow, the projections and the auditor's replay
all use them, so replaying a case's stream gives exactly the state the workflow reports.

A case's life (`CaseStatus`):

    reported ──AssessmentRecorded──▶ assessed ──CasePlanRecorded──▶ active
        │                               │                              │
        └───────────────ClosureProposed (any of the three)─────────────┘
                                        ▼
                                 pending_closure ──ApprovalRejected/Withdrawn──▶ back to
                                        │                              reported/assessed/active
                                   CaseClosed (approval granted, or at once on the 18th birthday,
                                        ▼         from any open status)
                                     closed ──CaseReopened──▶ reported (screened again)

- `reported`: opened and screened; the assessment is due by `assessment_due_at`.
- `assessed`: needs scored and a risk level set; no case plan yet.
- `active`: a case plan is in place; assistance, service referrals and monitoring visits run.
- `pending_closure`: a closure waits for a supervisor; the case is still served meanwhile.
- `closed`: nothing happens to a closed case but `CaseReopened`. Reopening starts a new round:
  the plan, the assessment and the visit schedule of the previous round stay in the history only.

Assessments, eligibility checks, recognition, assistance, referrals, guardian changes, transfers,
visits and corrections may happen in any open status (a plan needs an assessment first). Every
proposal that needs approval is tied to its `Approval` by `approval_id`; an approval's outcome
updates the proposal it was about, except where a dedicated event records the consequence
(`AssistanceApproved`/`AssistanceRejected`, `CaseClosed`).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from functools import singledispatch
from typing import Any, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from domain.areas import AreaCode, AreaLevel, ancestor
from domain.child import Category, ChildReport, Guardian, ParentSituation
from domain.events import (
    AgencyKind,
    AllowanceStarted,
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalTimedOut,
    ApprovalWithdrawn,
    AssessmentOverdue,
    AssessmentRecorded,
    AssistanceApproved,
    AssistanceDelivered,
    AssistanceRejected,
    AssistanceRequested,
    Breach,
    CaseClosed,
    CaseEvent,
    CaseOpened,
    CasePlanRecorded,
    CaseReopened,
    CaseworkerAssigned,
    CheckFailure,
    ChildTransferred,
    ClosureProposed,
    ClosureReason,
    DestinationKind,
    EligibilityCheckAnswered,
    EligibilityCheckKind,
    EligibilityCheckRequested,
    EligibilityFacts,
    EscalationRaised,
    FactCorrected,
    GuardianChangeProposed,
    GuardianChangeRegistered,
    HouseholdRegistrationFacts,
    ParentsStatusFacts,
    PlannedAssistance,
    PriorityAssigned,
    RecognitionApplied,
    RecognitionConfirmed,
    RecognitionDenied,
    RecognitionVerified,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralReminded,
    ReferralRequested,
    ReferralWithdrawn,
    SchoolEnrolmentFacts,
    SchoolStatus,
    SchoolStatusChecked,
    TransferPlaceConfirmed,
    TransferPlaceRefused,
    TransferProposed,
    VisitMissed,
    VisitRecorded,
    VisitScheduled,
)
from domain.rules.approvals import ApprovalKind
from domain.rules.assistance import AssistanceKind
from domain.rules.escalation import EscalationLevel
from domain.rules.priority import Priority
from domain.rules.risk import NeedScores, RiskLevel

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class CaseStatus(StrEnum):
    reported = "reported"
    assessed = "assessed"
    active = "active"
    pending_closure = "pending_closure"
    closed = "closed"


class CheckStatus(StrEnum):
    requested = "requested"
    answered = "answered"
    failed = "failed"


class EligibilityCheck(BaseModel):
    model_config = _FROZEN

    check_id: UUID
    check: EligibilityCheckKind
    status: CheckStatus
    requested_at: AwareDatetime
    answered_at: AwareDatetime | None = None
    facts: EligibilityFacts | None = None
    failure: CheckFailure | None = None


class RecognitionStatus(StrEnum):
    applied = "applied"
    verified = "verified"
    confirmed = "confirmed"
    denied = "denied"


class Recognition(BaseModel):
    """The latest de facto orphan recognition application and how far it got."""

    model_config = _FROZEN

    application_id: UUID
    status: RecognitionStatus
    applied_at: AwareDatetime
    qualifying: tuple[str, ...]
    verification_due_at: AwareDatetime
    confirmation_due_at: AwareDatetime | None = None
    recognised_on: date | None = None
    denial_reasons: tuple[str, ...] = ()
    monthly_allowance_yuan: int | None = None
    allowance_first_month: date | None = None


class CasePlan(BaseModel):
    model_config = _FROZEN

    goals: tuple[str, ...]
    planned_assistance: tuple[PlannedAssistance, ...]
    review_by: date | None
    recorded_at: AwareDatetime
    recorded_by: str


class AssistanceStatus(StrEnum):
    awaiting_approval = "awaiting_approval"
    to_deliver = "to_deliver"
    delivered = "delivered"
    rejected = "rejected"
    withdrawn = "withdrawn"


class AssistanceRequest(BaseModel):
    model_config = _FROZEN

    request_id: UUID
    kind: AssistanceKind
    quantity: int
    unit: str
    value_yuan: int
    needs_approval: bool
    emergency: bool
    status: AssistanceStatus
    requested_at: AwareDatetime
    requested_by: str
    approval_id: UUID | None = None
    approved: bool = False
    delivered_quantity: int = 0
    delivered_value_yuan: int = 0

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.delivered_quantity

    @property
    def remaining_value_yuan(self) -> int:
        return self.value_yuan - self.delivered_value_yuan


class Delivery(BaseModel):
    model_config = _FROZEN

    delivery_id: UUID
    request_id: UUID
    kind: AssistanceKind
    quantity: int
    unit: str
    value_yuan: int
    delivered_on: date
    recorded_by: str


class ReferralStatus(StrEnum):
    requested = "requested"
    accepted = "accepted"
    declined = "declined"
    completed = "completed"
    withdrawn = "withdrawn"


OPEN_REFERRAL_STATUSES = frozenset({ReferralStatus.requested, ReferralStatus.accepted})


class Referral(BaseModel):
    model_config = _FROZEN

    referral_id: UUID
    agency_kind: AgencyKind
    agency: str
    service: str
    status: ReferralStatus
    requested_at: AwareDatetime
    remind_at: AwareDatetime
    answer_due_at: AwareDatetime
    reminded: bool = False
    escalated: bool = False
    answered_at: AwareDatetime | None = None


class ApprovalStatus(StrEnum):
    pending = "pending"
    granted = "granted"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Approval(BaseModel):
    model_config = _FROZEN

    approval_id: UUID
    kind: ApprovalKind
    subject_id: UUID
    status: ApprovalStatus
    level: EscalationLevel
    area: AreaCode
    due_at: AwareDatetime
    emergency: bool
    requested_by: str
    requested_at: AwareDatetime
    timed_out: bool = False
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None


class Escalation(BaseModel):
    model_config = _FROZEN

    breach: Breach
    subject_id: UUID | None
    deadline: AwareDatetime
    level: EscalationLevel
    area: AreaCode
    raised_at: AwareDatetime


class GuardianRecord(BaseModel):
    """A guardian of the child and when they were one. `source_event_id` and `index` name where
    the guardian was first recorded (the report's list, or a guardian change proposal)."""

    model_config = _FROZEN

    guardian: Guardian
    source_event_id: UUID
    index: int
    since: AwareDatetime
    until: AwareDatetime | None = None


class ProposalStatus(StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    registered = "registered"


class GuardianChange(BaseModel):
    model_config = _FROZEN

    change_id: UUID
    proposal_event_id: UUID
    new_guardian: Guardian
    status: ProposalStatus
    proposed_by: str
    approval_id: UUID | None = None


class TransferStatus(StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    place_confirmed = "place_confirmed"
    place_refused = "place_refused"
    transferred = "transferred"


IN_PROGRESS_TRANSFER = frozenset(
    {TransferStatus.proposed, TransferStatus.approved, TransferStatus.place_confirmed}
)


class Transfer(BaseModel):
    model_config = _FROZEN

    transfer_id: UUID
    destination_kind: DestinationKind
    destination: str
    status: TransferStatus
    proposed_by: str
    approval_id: UUID | None = None
    place_reference: str | None = None
    transferred_on: date | None = None


class Placement(BaseModel):
    """Where the child lives when not at home: the institution or boarding school."""

    model_config = _FROZEN

    transfer_id: UUID
    destination_kind: DestinationKind
    destination: str
    since: date


class PendingClosure(BaseModel):
    model_config = _FROZEN

    closure_id: UUID
    closure_reason: ClosureReason
    proposed_by: str
    proposed_at: AwareDatetime
    handover_to: AreaCode | None = None
    approval_id: UUID | None = None


class Correction(BaseModel):
    model_config = _FROZEN

    event_id: UUID
    corrected_event_id: UUID
    field_path: str
    corrected_at: AwareDatetime


class CaseState(BaseModel):
    """Everything a case's events establish. Frozen, and exactly equal after a JSON round trip
    (the workflow carries it across continue-as-new)."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    version: int
    status: CaseStatus
    report: ChildReport = Field(description="The report, as corrected since.")
    opened_at: AwareDatetime
    opened_by: str
    opened_event_id: UUID
    updated_at: AwareDatetime
    assigned_to: str
    # screening
    priority: Priority | None = None
    assessment_due_at: AwareDatetime | None = None
    assessment_overdue: bool = False
    # assessment
    categories: frozenset[Category] = frozenset()
    parents: tuple[ParentSituation, ...] = ()
    need_scores: NeedScores | None = None
    risk_level: RiskLevel | None = None
    assessed_at: AwareDatetime | None = None
    eligibility_checks: dict[UUID, EligibilityCheck] = {}
    # recognition, plan, assistance
    recognition: Recognition | None = None
    plan: CasePlan | None = None
    assistance: dict[UUID, AssistanceRequest] = {}
    deliveries: tuple[Delivery, ...] = ()
    # referrals, approvals, escalations
    referrals: dict[UUID, Referral] = {}
    approvals: dict[UUID, Approval] = {}
    escalations: tuple[Escalation, ...] = ()
    # guardianship and placement
    guardians: tuple[GuardianRecord, ...] = ()
    guardian_changes: dict[UUID, GuardianChange] = {}
    transfers: dict[UUID, Transfer] = {}
    placement: Placement | None = None
    # monitoring
    next_visit_due: AwareDatetime | None = None
    last_visit_at: AwareDatetime | None = None
    visits: int = 0
    missed_visits: int = 0
    school_status: SchoolStatus | None = None
    school_checked_on: date | None = None
    next_school_check_on: date | None = None
    # closure
    closure: PendingClosure | None = None
    closure_reason: ClosureReason | None = None
    closed_at: AwareDatetime | None = None
    reopen_count: int = 0
    corrections: tuple[Correction, ...] = ()

    @property
    def village(self) -> str:
        return self.report.village

    @property
    def county(self) -> str:
        return ancestor(self.report.village, AreaLevel.county)

    @property
    def township(self) -> str:
        return ancestor(self.report.village, AreaLevel.township)

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.closed

    @property
    def pending_approvals(self) -> dict[UUID, Approval]:
        return {
            approval_id: approval
            for approval_id, approval in self.approvals.items()
            if approval.status is ApprovalStatus.pending
        }

    @property
    def open_referrals(self) -> dict[UUID, Referral]:
        return {
            referral_id: referral
            for referral_id, referral in self.referrals.items()
            if referral.status in OPEN_REFERRAL_STATUSES
        }

    @property
    def current_guardians(self) -> tuple[Guardian, ...]:
        return tuple(record.guardian for record in self.guardians if record.until is None)


class FoldError(ValueError):
    """An event that cannot follow the state it is applied to: the stream is not a valid case."""


def apply(state: CaseState | None, event: CaseEvent) -> CaseState:
    """The state after `event`. `None` is the state before the case was opened."""
    if state is None:
        return _opened(event)
    case = _WorkingCopy(state)
    case.apply((event,))
    return case.frozen()


def fold(events: Iterable[CaseEvent], state: CaseState | None = None) -> CaseState | None:
    """The state after `events`, in order, from `state` (`None`: before the case was opened).

    The events are applied to one working copy, frozen once at the end: a fold costs about the
    same per event however long the case is, where applying each event to a frozen state would
    copy the state and its growing collections every time.
    """
    events = iter(events)
    if state is None:
        first = next(events, None)
        if first is None:
            return None
        state = _opened(first)
    case = _WorkingCopy(state)
    case.apply(events)
    return case.frozen()


def as_of(events: Iterable[CaseEvent], moment: datetime) -> CaseState | None:
    """The case as it stood at `moment`: the fold of the events that had occurred by then."""
    return fold(event for event in events if event.occurred_at <= moment)


def working_status(state: CaseState | _WorkingCopy) -> CaseStatus:
    """The open status a case returns to when a closure is not (or no longer) pending."""
    if state.plan is not None:
        return CaseStatus.active
    if state.need_scores is not None:
        return CaseStatus.assessed
    return CaseStatus.reported


def _opened(event: CaseEvent) -> CaseState:
    if not isinstance(event, CaseOpened):
        raise FoldError(f"a case stream must start with CaseOpened, not {event.type}")
    report = event.report
    return CaseState(
        case_id=event.case_id,
        version=1,
        status=CaseStatus.reported,
        report=report,
        opened_at=event.occurred_at,
        opened_by=event.actor.user_id,
        opened_event_id=event.event_id,
        updated_at=event.occurred_at,
        assigned_to=event.actor.user_id,
        categories=report.categories,
        parents=tuple(report.parents),
        guardians=tuple(
            GuardianRecord(
                guardian=guardian,
                source_event_id=event.event_id,
                index=index,
                since=event.occurred_at,
            )
            for index, guardian in enumerate(report.guardians)
        ),
    )


# How the working copy copies each collection of the state the first time a rule uses it: the
# dicts as dicts, the tuples that rules append to as lists (frozen back into tuples).
_COPIES: dict[str, Callable[[Any], Any]] = {
    "eligibility_checks": dict,
    "assistance": dict,
    "deliveries": list,
    "referrals": dict,
    "approvals": dict,
    "escalations": list,
    "guardian_changes": dict,
    "transfers": dict,
    "corrections": list,
}
_LISTS = tuple(name for name, copy in _COPIES.items() if copy is list)


class _WorkingCopy:
    """A case while events are folded into it: `CaseState`'s fields, which the rules change in
    place.

    It starts from a state and takes each field from it the first time a rule uses it, copying
    the collections, so the state it started from (which others may hold) never changes.
    `frozen()` makes it an ordinary `CaseState` again.
    """

    # `_state` in a slot, so that `__dict__` holds nothing but the fields the rules used.
    __slots__ = ("__dict__", "_state")

    # CaseState's fields, as the rules see them here (each is a `_FromState` until first read).
    case_id: UUID
    version: int
    status: CaseStatus
    report: ChildReport
    opened_at: datetime
    opened_by: str
    opened_event_id: UUID
    updated_at: datetime
    assigned_to: str
    priority: Priority | None
    assessment_due_at: datetime | None
    assessment_overdue: bool
    categories: frozenset[Category]
    parents: tuple[ParentSituation, ...]
    need_scores: NeedScores | None
    risk_level: RiskLevel | None
    assessed_at: datetime | None
    eligibility_checks: dict[UUID, EligibilityCheck]
    recognition: Recognition | None
    plan: CasePlan | None
    assistance: dict[UUID, AssistanceRequest]
    deliveries: list[Delivery]
    referrals: dict[UUID, Referral]
    approvals: dict[UUID, Approval]
    escalations: list[Escalation]
    guardians: tuple[GuardianRecord, ...]
    guardian_changes: dict[UUID, GuardianChange]
    transfers: dict[UUID, Transfer]
    placement: Placement | None
    next_visit_due: datetime | None
    last_visit_at: datetime | None
    visits: int
    missed_visits: int
    school_status: SchoolStatus | None
    school_checked_on: date | None
    next_school_check_on: date | None
    closure: PendingClosure | None
    closure_reason: ClosureReason | None
    closed_at: datetime | None
    reopen_count: int
    corrections: list[Correction]

    def __init__(self, state: CaseState) -> None:
        self._state = state

    def apply(self, events: Iterable[CaseEvent]) -> None:
        """Apply `events` in order, each by its type's rule."""
        for event in events:
            if self.status is CaseStatus.closed and not isinstance(event, CaseReopened):
                raise FoldError(f"case {self.case_id} is closed; only CaseReopened may follow")
            rule = _RULES.get(type(event))
            if rule is None:
                rule = _RULES[type(event)] = _rule.dispatch(type(event))
            rule(event, self)
            self.version += 1
            self.updated_at = event.occurred_at

    def frozen(self) -> CaseState:
        """The state it started from with every field the rules used replaced; the working copy
        itself is done with (its lists become the state's tuples)."""
        used = self.__dict__
        if not used:
            return self._state
        for name in _LISTS:
            if name in used:
                used[name] = tuple(used[name])
        return self._state.model_copy(update=used)


class _FromState:
    """A field of the working copy, taken from its state the first time it is read (a collection
    copied) and kept as the working copy's own attribute, which is read from then on."""

    __slots__ = ("_copy", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._copy = _COPIES.get(name)

    def __get__(self, case: _WorkingCopy | None, owner: object = None) -> Any:
        if case is None:
            return self
        value = getattr(case._state, self._name)
        if self._copy is not None:
            value = self._copy(value)
        case.__dict__[self._name] = value
        return value


# A descriptor rather than `__getattr__`, which Python calls only after a failed lookup has raised
# and caught an AttributeError: that made `apply` of one event about 1.5 times as slow.
for _field in CaseState.model_fields:
    setattr(_WorkingCopy, _field, _FromState(_field))


_Key = TypeVar("_Key")
_Model = TypeVar("_Model", bound=BaseModel)


def _update(entries: dict[_Key, _Model], key: _Key, **changes: Any) -> None:
    """Change the entry at `key`: replace it by a changed copy (entries are frozen)."""
    entries[key] = entries[key].model_copy(update=changes)


def _add(entries: dict[_Key, _Model], key: _Key, value: _Model, what: str) -> None:
    if key in entries:
        raise FoldError(f"{what} {key} was already recorded")
    entries[key] = value


def _get(entries: Mapping[UUID, _Model], key: UUID, what: str) -> _Model:
    try:
        return entries[key]
    except KeyError:
        raise FoldError(f"there is no {what} {key} in this case") from None


def _expect(condition: bool, message: str) -> None:
    # For fixed messages only: a message to format is formatted where the condition fails, not
    # for every event that passes.
    if not condition:
        raise FoldError(message)


@singledispatch
def _rule(event: object, case: _WorkingCopy) -> None:
    """What `event` changes in the case: each event type's rule is registered below."""
    raise FoldError(f"no fold rule for {type(event).__name__}")


# The fold rule of each event type, looked up once through `_rule.dispatch` (a plain dict
# lookup per event is cheaper than singledispatch's own call path).
_RULES: dict[type, Callable[[Any, _WorkingCopy], None]] = {}


# discovery and screening


@_rule.register
def _(event: CaseOpened, case: _WorkingCopy) -> None:
    raise FoldError(f"case {case.case_id} is already open")


@_rule.register
def _(event: CaseworkerAssigned, case: _WorkingCopy) -> None:
    case.assigned_to = event.caseworker


@_rule.register
def _(event: PriorityAssigned, case: _WorkingCopy) -> None:
    case.priority = event.priority
    case.assessment_due_at = event.assessment_due_at
    case.assessment_overdue = False


@_rule.register
def _(event: AssessmentOverdue, case: _WorkingCopy) -> None:
    _expect(case.need_scores is None, "an assessed case cannot be overdue for its assessment")
    case.assessment_overdue = True


# assessment and eligibility


@_rule.register
def _(event: AssessmentRecorded, case: _WorkingCopy) -> None:
    if case.status is CaseStatus.reported:
        case.status = CaseStatus.assessed
    case.need_scores = event.scores
    case.risk_level = event.risk_level
    case.categories = event.categories
    case.assessed_at = event.occurred_at
    case.assessment_overdue = False


@_rule.register
def _(event: EligibilityCheckRequested, case: _WorkingCopy) -> None:
    check = EligibilityCheck(
        check_id=event.check_id,
        check=event.check,
        status=CheckStatus.requested,
        requested_at=event.occurred_at,
    )
    _add(case.eligibility_checks, event.check_id, check, "eligibility check")


@_rule.register
def _(event: EligibilityCheckAnswered, case: _WorkingCopy) -> None:
    check = _get(case.eligibility_checks, event.check_id, "eligibility check")
    if check.status is not CheckStatus.requested:
        raise FoldError(f"check {check.check_id} was already answered")
    if check.check is not event.check:
        raise FoldError(f"check {check.check_id} is a {check.check} check")
    _update(
        case.eligibility_checks,
        event.check_id,
        status=CheckStatus.failed if event.failure else CheckStatus.answered,
        answered_at=event.occurred_at,
        facts=event.facts,
        failure=event.failure,
    )
    facts = event.facts
    if isinstance(facts, HouseholdRegistrationFacts):
        household = case.report.household.model_copy(
            update={"registration_area": facts.registration_area, "members": facts.members}
        )
        case.report = case.report.model_copy(update={"household": household})
    elif isinstance(facts, ParentsStatusFacts):
        case.parents = facts.parents
    elif isinstance(facts, SchoolEnrolmentFacts):
        case.school_status = facts.status
        case.school_checked_on = event.occurred_at.date()


# recognition


def _recognition(case: _WorkingCopy, application_id: UUID) -> Recognition:
    recognition = case.recognition
    if recognition is None or recognition.application_id != application_id:
        raise FoldError(f"there is no recognition application {application_id} in this case")
    return recognition


@_rule.register
def _(event: RecognitionApplied, case: _WorkingCopy) -> None:
    _expect(
        case.recognition is None or case.recognition.status is RecognitionStatus.denied,
        "a recognition application is already pending or granted",
    )
    case.recognition = Recognition(
        application_id=event.application_id,
        status=RecognitionStatus.applied,
        applied_at=event.occurred_at,
        qualifying=event.qualifying,
        verification_due_at=event.verification_due_at,
    )


@_rule.register
def _(event: RecognitionVerified, case: _WorkingCopy) -> None:
    recognition = _recognition(case, event.application_id)
    _expect(recognition.status is RecognitionStatus.applied, "only an application is verified")
    case.recognition = recognition.model_copy(
        update={
            "status": RecognitionStatus.verified,
            "confirmation_due_at": event.confirmation_due_at,
        }
    )


@_rule.register
def _(event: RecognitionConfirmed, case: _WorkingCopy) -> None:
    recognition = _recognition(case, event.application_id)
    _expect(recognition.status is RecognitionStatus.verified, "only a verified one is confirmed")
    case.recognition = recognition.model_copy(
        update={"status": RecognitionStatus.confirmed, "recognised_on": event.recognised_on}
    )
    case.categories = case.categories | {Category.de_facto_orphan}


@_rule.register
def _(event: RecognitionDenied, case: _WorkingCopy) -> None:
    recognition = _recognition(case, event.application_id)
    _expect(
        recognition.status in {RecognitionStatus.applied, RecognitionStatus.verified},
        "only a pending application is denied",
    )
    case.recognition = recognition.model_copy(
        update={"status": RecognitionStatus.denied, "denial_reasons": event.reasons}
    )


@_rule.register
def _(event: AllowanceStarted, case: _WorkingCopy) -> None:
    recognition = _recognition(case, event.application_id)
    _expect(recognition.status is RecognitionStatus.confirmed, "the allowance needs recognition")
    case.recognition = recognition.model_copy(
        update={
            "monthly_allowance_yuan": event.monthly_amount_yuan,
            "allowance_first_month": event.first_month,
        }
    )


# case plan and assistance


@_rule.register
def _(event: CasePlanRecorded, case: _WorkingCopy) -> None:
    _expect(case.need_scores is not None, "a case plan needs an assessment first")
    case.plan = CasePlan(
        goals=event.goals,
        planned_assistance=event.planned_assistance,
        review_by=event.review_by,
        recorded_at=event.occurred_at,
        recorded_by=event.actor.user_id,
    )
    if case.status is CaseStatus.assessed:
        case.status = CaseStatus.active


@_rule.register
def _(event: AssistanceRequested, case: _WorkingCopy) -> None:
    request = AssistanceRequest(
        request_id=event.request_id,
        kind=event.kind,
        quantity=event.quantity,
        unit=event.unit,
        value_yuan=event.value_yuan,
        needs_approval=event.needs_approval,
        emergency=event.emergency,
        status=(
            AssistanceStatus.awaiting_approval
            if event.needs_approval
            else AssistanceStatus.to_deliver
        ),
        requested_at=event.occurred_at,
        requested_by=event.actor.user_id,
    )
    _add(case.assistance, event.request_id, request, "assistance request")


def _decided_approval(
    case: _WorkingCopy, approval_id: UUID, subject_id: UUID, status: ApprovalStatus
) -> None:
    approval = _get(case.approvals, approval_id, "approval")
    if approval.subject_id != subject_id or approval.status is not status:
        raise FoldError(f"approval {approval_id} is not a {status} approval of {subject_id}")


@_rule.register
def _(event: AssistanceApproved, case: _WorkingCopy) -> None:
    request = _get(case.assistance, event.request_id, "assistance request")
    _expect(request.status is AssistanceStatus.awaiting_approval, "request not awaiting approval")
    _decided_approval(case, event.approval_id, event.request_id, ApprovalStatus.granted)
    _update(case.assistance, event.request_id, status=AssistanceStatus.to_deliver, approved=True)


@_rule.register
def _(event: AssistanceRejected, case: _WorkingCopy) -> None:
    request = _get(case.assistance, event.request_id, "assistance request")
    _expect(request.status is AssistanceStatus.awaiting_approval, "request not awaiting approval")
    _decided_approval(case, event.approval_id, event.request_id, ApprovalStatus.rejected)
    _update(case.assistance, event.request_id, status=AssistanceStatus.rejected)


@_rule.register
def _(event: AssistanceDelivered, case: _WorkingCopy) -> None:
    request = _get(case.assistance, event.request_id, "assistance request")
    if request.status is not AssistanceStatus.to_deliver:
        raise FoldError(f"request {request.request_id} is {request.status}, not to deliver")
    _expect(request.kind is event.kind, "a delivery is of the kind requested")
    _expect(event.quantity <= request.remaining_quantity, "more delivered than requested")
    _expect(event.value_yuan <= request.remaining_value_yuan, "more value than requested")
    quantity = request.delivered_quantity + event.quantity
    _update(
        case.assistance,
        event.request_id,
        delivered_quantity=quantity,
        delivered_value_yuan=request.delivered_value_yuan + event.value_yuan,
        status=(
            AssistanceStatus.delivered
            if quantity == request.quantity
            else AssistanceStatus.to_deliver
        ),
    )
    case.deliveries.append(
        Delivery(
            delivery_id=event.delivery_id,
            request_id=event.request_id,
            kind=event.kind,
            quantity=event.quantity,
            unit=event.unit,
            value_yuan=event.value_yuan,
            delivered_on=event.delivered_on,
            recorded_by=event.actor.user_id,
        )
    )


# service referrals


@_rule.register
def _(event: ReferralRequested, case: _WorkingCopy) -> None:
    referral = Referral(
        referral_id=event.referral_id,
        agency_kind=event.agency_kind,
        agency=event.agency,
        service=event.service,
        status=ReferralStatus.requested,
        requested_at=event.occurred_at,
        remind_at=event.remind_at,
        answer_due_at=event.answer_due_at,
    )
    _add(case.referrals, event.referral_id, referral, "referral")


def _referral_moves(
    case: _WorkingCopy,
    referral_id: UUID,
    allowed: Container[ReferralStatus],
    to: ReferralStatus,
    **changes: Any,
) -> None:
    referral = _get(case.referrals, referral_id, "referral")
    if referral.status not in allowed:
        raise FoldError(f"referral {referral_id} is {referral.status}")
    _update(case.referrals, referral_id, status=to, **changes)


@_rule.register
def _(event: ReferralAccepted, case: _WorkingCopy) -> None:
    _referral_moves(
        case,
        event.referral_id,
        {ReferralStatus.requested},
        ReferralStatus.accepted,
        answered_at=event.occurred_at,
    )


@_rule.register
def _(event: ReferralDeclined, case: _WorkingCopy) -> None:
    _referral_moves(
        case,
        event.referral_id,
        {ReferralStatus.requested},
        ReferralStatus.declined,
        answered_at=event.occurred_at,
    )


@_rule.register
def _(event: ReferralCompleted, case: _WorkingCopy) -> None:
    _referral_moves(case, event.referral_id, {ReferralStatus.accepted}, ReferralStatus.completed)


@_rule.register
def _(event: ReferralWithdrawn, case: _WorkingCopy) -> None:
    _referral_moves(case, event.referral_id, OPEN_REFERRAL_STATUSES, ReferralStatus.withdrawn)


@_rule.register
def _(event: ReferralReminded, case: _WorkingCopy) -> None:
    referral = _get(case.referrals, event.referral_id, "referral")
    _expect(referral.status is ReferralStatus.requested, "only an unanswered referral is reminded")
    _update(case.referrals, event.referral_id, reminded=True, answer_due_at=event.answer_due_at)


# approvals and escalations


def _check_subject(case: _WorkingCopy, kind: ApprovalKind, subject_id: UUID) -> None:
    """The proposal an approval request is about must be in the case, waiting for it."""
    if kind in {ApprovalKind.assistance, ApprovalKind.emergency_placement}:
        request = _get(case.assistance, subject_id, "assistance request")
        _expect(
            request.emergency == (kind is ApprovalKind.emergency_placement),
            "an emergency placement is approved as one, other assistance as assistance",
        )
        if request.approval_id is not None:
            raise FoldError(f"request {subject_id} already has an approval")
    elif kind is ApprovalKind.guardian_change:
        change = _get(case.guardian_changes, subject_id, "guardian change")
        if change.approval_id is not None:
            raise FoldError(f"change {subject_id} already has an approval")
    elif kind is ApprovalKind.transfer:
        transfer = _get(case.transfers, subject_id, "transfer")
        if transfer.approval_id is not None:
            raise FoldError(f"transfer {subject_id} already has an approval")
    elif case.closure is None or case.closure.closure_id != subject_id:
        raise FoldError(f"there is no pending closure {subject_id}")


def _tie(case: _WorkingCopy, approval: Approval) -> None:
    subject = approval.subject_id
    approval_id = approval.approval_id
    if approval.kind in {ApprovalKind.assistance, ApprovalKind.emergency_placement}:
        _update(case.assistance, subject, approval_id=approval_id)
    elif approval.kind is ApprovalKind.guardian_change:
        _update(case.guardian_changes, subject, approval_id=approval_id)
    elif approval.kind is ApprovalKind.transfer:
        _update(case.transfers, subject, approval_id=approval_id)
    else:
        assert case.closure is not None
        case.closure = case.closure.model_copy(update={"approval_id": approval_id})


@_rule.register
def _(event: ApprovalRequested, case: _WorkingCopy) -> None:
    _check_subject(case, event.kind, event.subject_id)
    approval = Approval(
        approval_id=event.approval_id,
        kind=event.kind,
        subject_id=event.subject_id,
        status=ApprovalStatus.pending,
        level=event.level,
        area=event.area,
        due_at=event.due_at,
        emergency=event.emergency,
        requested_by=event.requested_by,
        requested_at=event.occurred_at,
    )
    _add(case.approvals, event.approval_id, approval, "approval")
    _tie(case, approval)


def _pending(case: _WorkingCopy, approval_id: UUID, level: EscalationLevel) -> Approval:
    approval = _get(case.approvals, approval_id, "approval")
    if approval.status is not ApprovalStatus.pending:
        raise FoldError(f"approval {approval_id} is not pending")
    if approval.level is not level:
        raise FoldError(f"approval {approval_id} rests with the {approval.level}")
    return approval


@_rule.register
def _(event: ApprovalEscalated, case: _WorkingCopy) -> None:
    _pending(case, event.approval_id, event.from_level)
    _update(
        case.approvals,
        event.approval_id,
        level=event.to_level,
        area=event.area,
        due_at=event.due_at,
    )


@_rule.register
def _(event: ApprovalTimedOut, case: _WorkingCopy) -> None:
    _pending(case, event.approval_id, event.level)
    _update(case.approvals, event.approval_id, timed_out=True)


_PROPOSAL_AFTER = {
    ApprovalStatus.granted: ProposalStatus.approved,
    ApprovalStatus.rejected: ProposalStatus.rejected,
    ApprovalStatus.withdrawn: ProposalStatus.withdrawn,
}
_TRANSFER_AFTER = {
    ApprovalStatus.granted: TransferStatus.approved,
    ApprovalStatus.rejected: TransferStatus.rejected,
    ApprovalStatus.withdrawn: TransferStatus.withdrawn,
}


def _approval_ends(
    case: _WorkingCopy,
    approval_id: UUID,
    level: EscalationLevel | None,
    status: ApprovalStatus,
    event: CaseEvent,
) -> None:
    approval = _get(case.approvals, approval_id, "approval")
    if approval.status is not ApprovalStatus.pending:
        raise FoldError(f"approval {approval_id} is not pending")
    if level is not None and approval.level is not level:
        raise FoldError(f"approval {approval_id} rests with the {approval.level}")
    decided = status is not ApprovalStatus.withdrawn
    _update(
        case.approvals,
        approval_id,
        status=status,
        decided_by=event.actor.user_id if decided else None,
        decided_at=event.occurred_at if decided else None,
    )
    subject = approval.subject_id
    if approval.kind is ApprovalKind.guardian_change:
        _update(case.guardian_changes, subject, status=_PROPOSAL_AFTER[status])
    elif approval.kind is ApprovalKind.transfer:
        _update(case.transfers, subject, status=_TRANSFER_AFTER[status])
    elif approval.kind is ApprovalKind.closure and status is not ApprovalStatus.granted:
        case.closure = None
        case.status = working_status(case)
    elif approval.kind is ApprovalKind.assistance and status is ApprovalStatus.withdrawn:
        _update(case.assistance, subject, status=AssistanceStatus.withdrawn)


@_rule.register
def _(event: ApprovalGranted, case: _WorkingCopy) -> None:
    _approval_ends(case, event.approval_id, event.level, ApprovalStatus.granted, event)


@_rule.register
def _(event: ApprovalRejected, case: _WorkingCopy) -> None:
    _approval_ends(case, event.approval_id, event.level, ApprovalStatus.rejected, event)


@_rule.register
def _(event: ApprovalWithdrawn, case: _WorkingCopy) -> None:
    _approval_ends(case, event.approval_id, None, ApprovalStatus.withdrawn, event)


@_rule.register
def _(event: EscalationRaised, case: _WorkingCopy) -> None:
    if event.breach is Breach.referral_unanswered:
        if event.subject_id is None:
            raise FoldError("an unanswered referral's escalation names the referral")
        _get(case.referrals, event.subject_id, "referral")
        _update(case.referrals, event.subject_id, escalated=True)
    case.escalations.append(
        Escalation(
            breach=event.breach,
            subject_id=event.subject_id,
            deadline=event.deadline,
            level=event.level,
            area=event.area,
            raised_at=event.occurred_at,
        )
    )


# guardian change and transfer


@_rule.register
def _(event: GuardianChangeProposed, case: _WorkingCopy) -> None:
    change = GuardianChange(
        change_id=event.change_id,
        proposal_event_id=event.event_id,
        new_guardian=event.new_guardian,
        status=ProposalStatus.proposed,
        proposed_by=event.actor.user_id,
    )
    _add(case.guardian_changes, event.change_id, change, "guardian change")


@_rule.register
def _(event: GuardianChangeRegistered, case: _WorkingCopy) -> None:
    change = _get(case.guardian_changes, event.change_id, "guardian change")
    _expect(change.status is ProposalStatus.approved, "only an approved change is registered")
    _update(case.guardian_changes, event.change_id, status=ProposalStatus.registered)
    ended = tuple(
        record
        if record.until is not None
        else record.model_copy(update={"until": event.occurred_at})
        for record in case.guardians
    )
    new = GuardianRecord(
        guardian=change.new_guardian,
        source_event_id=change.proposal_event_id,
        index=0,
        since=event.occurred_at,
    )
    case.guardians = (*ended, new)


@_rule.register
def _(event: TransferProposed, case: _WorkingCopy) -> None:
    transfer = Transfer(
        transfer_id=event.transfer_id,
        destination_kind=event.destination_kind,
        destination=event.destination,
        status=TransferStatus.proposed,
        proposed_by=event.actor.user_id,
    )
    _add(case.transfers, event.transfer_id, transfer, "transfer")


def _transfer_moves(
    case: _WorkingCopy, transfer_id: UUID, allowed: TransferStatus, to: TransferStatus, **more: Any
) -> Transfer:
    transfer = _get(case.transfers, transfer_id, "transfer")
    if transfer.status is not allowed:
        raise FoldError(f"transfer {transfer_id} is {transfer.status}")
    _update(case.transfers, transfer_id, status=to, **more)
    return transfer


@_rule.register
def _(event: TransferPlaceConfirmed, case: _WorkingCopy) -> None:
    _transfer_moves(
        case,
        event.transfer_id,
        TransferStatus.approved,
        TransferStatus.place_confirmed,
        place_reference=event.place_reference,
    )


@_rule.register
def _(event: TransferPlaceRefused, case: _WorkingCopy) -> None:
    _transfer_moves(case, event.transfer_id, TransferStatus.approved, TransferStatus.place_refused)


@_rule.register
def _(event: ChildTransferred, case: _WorkingCopy) -> None:
    transfer = _transfer_moves(
        case,
        event.transfer_id,
        TransferStatus.place_confirmed,
        TransferStatus.transferred,
        transferred_on=event.transferred_on,
    )
    case.placement = Placement(
        transfer_id=transfer.transfer_id,
        destination_kind=transfer.destination_kind,
        destination=transfer.destination,
        since=event.transferred_on,
    )


# monitoring


@_rule.register
def _(event: VisitScheduled, case: _WorkingCopy) -> None:
    case.next_visit_due = event.due_at


@_rule.register
def _(event: VisitRecorded, case: _WorkingCopy) -> None:
    if event.updated_scores is not None:
        _expect(case.need_scores is not None, "a visit rescores only an assessed case")
        case.need_scores = event.updated_scores
        case.risk_level = event.risk_level
    latest = case.last_visit_at
    case.last_visit_at = event.visited_at if latest is None else max(latest, event.visited_at)
    case.visits += 1


@_rule.register
def _(event: VisitMissed, case: _WorkingCopy) -> None:
    _expect(case.next_visit_due == event.due_at, "only the scheduled visit can be missed")
    case.missed_visits += 1


@_rule.register
def _(event: SchoolStatusChecked, case: _WorkingCopy) -> None:
    case.school_status = event.status
    case.school_checked_on = event.checked_on
    case.next_school_check_on = event.next_check_on


# closure


@_rule.register
def _(event: ClosureProposed, case: _WorkingCopy) -> None:
    _expect(case.status is not CaseStatus.pending_closure, "a closure is already pending")
    case.closure = PendingClosure(
        closure_id=event.closure_id,
        closure_reason=event.closure_reason,
        proposed_by=event.actor.user_id,
        proposed_at=event.occurred_at,
        handover_to=event.handover_to,
    )
    case.status = CaseStatus.pending_closure


@_rule.register
def _(event: CaseClosed, case: _WorkingCopy) -> None:
    if event.closure_id is not None and (
        case.closure is None or case.closure.closure_id != event.closure_id
    ):
        raise FoldError(f"there is no pending closure {event.closure_id}")
    _expect(
        all(approval.status is not ApprovalStatus.pending for approval in case.approvals.values()),
        "approvals still pending must be withdrawn first",
    )
    _expect(
        all(referral.status not in OPEN_REFERRAL_STATUSES for referral in case.referrals.values()),
        "open referrals must be withdrawn first",
    )
    case.status = CaseStatus.closed
    case.closure_reason = event.closure_reason
    case.closed_at = event.occurred_at
    case.closure = None
    case.next_visit_due = None


@_rule.register
def _(event: CaseReopened, case: _WorkingCopy) -> None:
    if case.status is not CaseStatus.closed:
        raise FoldError(f"case {case.case_id} is not closed")
    case.status = CaseStatus.reported
    case.reopen_count += 1
    case.closure_reason = None
    case.closed_at = None
    case.plan = None
    case.need_scores = None
    case.risk_level = None
    case.assessed_at = None
    case.assessment_overdue = False
    case.next_visit_due = None


# corrections

CORRECTABLE_REPORT_FIELDS = frozenset(
    {"child", "household", "guardians", "parents", "observations"}
)


@_rule.register
def _(event: FactCorrected, case: _WorkingCopy) -> None:
    _correct(case, event.corrected_event_id, event.field_path.split("."), event.value)
    case.corrections.append(
        Correction(
            event_id=event.event_id,
            corrected_event_id=event.corrected_event_id,
            field_path=event.field_path,
            corrected_at=event.occurred_at,
        )
    )


def _correct(case: _WorkingCopy, event_id: UUID, path: list[str], value: object) -> None:
    """Correct the fact where the case holds it."""
    if event_id == case.opened_event_id:
        _correct_report(case, path, value)
        return
    for change in case.guardian_changes.values():
        if change.proposal_event_id == event_id:
            _correct_new_guardian(case, change, path, value)
            return
    raise FoldError(f"event {event_id} holds no fact this case can correct")


def _correct_report(case: _WorkingCopy, path: list[str], value: object) -> None:
    _expect(
        len(path) >= 3 and path[0] == "report" and path[1] in CORRECTABLE_REPORT_FIELDS,
        "a report correction names a field of report.child, household, guardians, parents "
        "or observations",
    )
    _expect(path[1] not in {"guardians", "parents"} or len(path) >= 4, "name one field")
    report = _validated(ChildReport, _set(case.report.model_dump(mode="json"), path[1:], value))
    if path[1] == "parents" and case.parents == tuple(case.report.parents):
        case.parents = tuple(report.parents)  # no outside answer has replaced them yet
    if path[1] == "guardians":
        index = int(path[2])
        case.guardians = tuple(
            record.model_copy(update={"guardian": report.guardians[index]})
            if (record.source_event_id, record.index) == (case.opened_event_id, index)
            else record
            for record in case.guardians
        )
    case.report = report


def _correct_new_guardian(
    case: _WorkingCopy, change: GuardianChange, path: list[str], value: object
) -> None:
    _expect(len(path) == 2 and path[0] == "new_guardian", "name one field of new_guardian")
    guardian = _validated(
        Guardian, _set(change.new_guardian.model_dump(mode="json"), path[1:], value)
    )
    _update(case.guardian_changes, change.change_id, new_guardian=guardian)
    case.guardians = tuple(
        record.model_copy(update={"guardian": guardian})
        if record.source_event_id == change.proposal_event_id
        else record
        for record in case.guardians
    )


def _set(data: object, path: list[str], value: object) -> object:
    """`data` (JSON) with the existing leaf at `path` replaced by `value`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and head in data:
        return {**data, head: _set(data[head], rest, value)}
    if isinstance(data, list) and head.isdigit() and int(head) < len(data):
        index = int(head)
        return [*data[:index], _set(data[index], rest, value), *data[index + 1 :]]
    raise FoldError(f"there is no field {head} to correct")


def _validated(model: type[_Model], data: object) -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError:
        # The validation message quotes the value, which may be personal data: leave it out.
        raise FoldError("the corrected value is not valid for that field") from None
