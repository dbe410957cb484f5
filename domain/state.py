"""The case as it stands: the fold of its events.

`apply` is the one function that turns an event into the next state. The workflow, the projections
and the auditor's replay all call it, so replaying a case's stream gives exactly the state the
workflow reports.

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

from collections.abc import Callable, Iterable, Mapping
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
    if state.status is CaseStatus.closed and not isinstance(event, CaseReopened):
        raise FoldError(f"case {state.case_id} is closed; only CaseReopened may follow")
    rule = _RULES.get(type(event))
    if rule is None:
        rule = _RULES[type(event)] = _changes.dispatch(type(event))
    changes = {**rule(event, state), "version": state.version + 1, "updated_at": event.occurred_at}
    return state.model_copy(update=changes)


def fold(events: Iterable[CaseEvent], state: CaseState | None = None) -> CaseState | None:
    for event in events:
        state = apply(state, event)
    return state


def as_of(events: Iterable[CaseEvent], moment: datetime) -> CaseState | None:
    """The case as it stood at `moment`: the fold of the events that had occurred by then."""
    return fold(event for event in events if event.occurred_at <= moment)


def working_status(state: CaseState) -> CaseStatus:
    """The open status a case returns to when a closure is not (or no longer) pending."""
    if state.plan is not None:
        return CaseStatus.active
    if state.need_scores is not None:
        return CaseStatus.assessed
    return CaseStatus.reported


Changes = dict[str, object]
_Key = TypeVar("_Key")
_Model = TypeVar("_Model", bound=BaseModel)


def _with(mapping: Mapping[_Key, _Model], key: _Key, **changes: Any) -> dict[_Key, _Model]:
    """`mapping` with the entry at `key` changed (mappings in the state are never mutated)."""
    return {**mapping, key: mapping[key].model_copy(update=changes)}


def _added(
    mapping: Mapping[_Key, _Model], key: _Key, value: _Model, what: str
) -> dict[_Key, _Model]:
    if key in mapping:
        raise FoldError(f"{what} {key} was already recorded")
    return {**mapping, key: value}


def _get(mapping: Mapping[UUID, _Model], key: UUID, what: str) -> _Model:
    try:
        return mapping[key]
    except KeyError:
        raise FoldError(f"there is no {what} {key} in this case") from None


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise FoldError(message)


@singledispatch
def _changes(event: object, state: CaseState) -> Changes:
    raise FoldError(f"no fold rule for {type(event).__name__}")


# The fold rule of each event type, looked up once through `_changes.dispatch` (a plain dict
# lookup per event is cheaper than singledispatch's own call path).
_RULES: dict[type, Callable[[Any, CaseState], Changes]] = {}


# discovery and screening


@_changes.register
def _(event: CaseOpened, state: CaseState) -> Changes:
    raise FoldError(f"case {state.case_id} is already open")


@_changes.register
def _(event: CaseworkerAssigned, state: CaseState) -> Changes:
    return {"assigned_to": event.caseworker}


@_changes.register
def _(event: PriorityAssigned, state: CaseState) -> Changes:
    return {
        "priority": event.priority,
        "assessment_due_at": event.assessment_due_at,
        "assessment_overdue": False,
    }


@_changes.register
def _(event: AssessmentOverdue, state: CaseState) -> Changes:
    _expect(state.need_scores is None, "an assessed case cannot be overdue for its assessment")
    return {"assessment_overdue": True}


# assessment and eligibility


@_changes.register
def _(event: AssessmentRecorded, state: CaseState) -> Changes:
    status = CaseStatus.assessed if state.status is CaseStatus.reported else state.status
    return {
        "status": status,
        "need_scores": event.scores,
        "risk_level": event.risk_level,
        "categories": event.categories,
        "assessed_at": event.occurred_at,
        "assessment_overdue": False,
    }


@_changes.register
def _(event: EligibilityCheckRequested, state: CaseState) -> Changes:
    check = EligibilityCheck(
        check_id=event.check_id,
        check=event.check,
        status=CheckStatus.requested,
        requested_at=event.occurred_at,
    )
    return {
        "eligibility_checks": _added(
            state.eligibility_checks, event.check_id, check, "eligibility check"
        )
    }


@_changes.register
def _(event: EligibilityCheckAnswered, state: CaseState) -> Changes:
    check = _get(state.eligibility_checks, event.check_id, "eligibility check")
    _expect(check.status is CheckStatus.requested, f"check {check.check_id} was already answered")
    _expect(check.check is event.check, f"check {check.check_id} is a {check.check} check")
    changes: Changes = {
        "eligibility_checks": _with(
            state.eligibility_checks,
            event.check_id,
            status=CheckStatus.failed if event.failure else CheckStatus.answered,
            answered_at=event.occurred_at,
            facts=event.facts,
            failure=event.failure,
        )
    }
    facts = event.facts
    if isinstance(facts, HouseholdRegistrationFacts):
        household = state.report.household.model_copy(
            update={"registration_area": facts.registration_area, "members": facts.members}
        )
        changes["report"] = state.report.model_copy(update={"household": household})
    elif isinstance(facts, ParentsStatusFacts):
        changes["parents"] = facts.parents
    elif isinstance(facts, SchoolEnrolmentFacts):
        changes["school_status"] = facts.status
        changes["school_checked_on"] = event.occurred_at.date()
    return changes


# recognition


def _recognition(state: CaseState, application_id: UUID) -> Recognition:
    recognition = state.recognition
    if recognition is None or recognition.application_id != application_id:
        raise FoldError(f"there is no recognition application {application_id} in this case")
    return recognition


@_changes.register
def _(event: RecognitionApplied, state: CaseState) -> Changes:
    _expect(
        state.recognition is None or state.recognition.status is RecognitionStatus.denied,
        "a recognition application is already pending or granted",
    )
    return {
        "recognition": Recognition(
            application_id=event.application_id,
            status=RecognitionStatus.applied,
            applied_at=event.occurred_at,
            qualifying=event.qualifying,
            verification_due_at=event.verification_due_at,
        )
    }


@_changes.register
def _(event: RecognitionVerified, state: CaseState) -> Changes:
    recognition = _recognition(state, event.application_id)
    _expect(recognition.status is RecognitionStatus.applied, "only an application is verified")
    return {
        "recognition": recognition.model_copy(
            update={
                "status": RecognitionStatus.verified,
                "confirmation_due_at": event.confirmation_due_at,
            }
        )
    }


@_changes.register
def _(event: RecognitionConfirmed, state: CaseState) -> Changes:
    recognition = _recognition(state, event.application_id)
    _expect(recognition.status is RecognitionStatus.verified, "only a verified one is confirmed")
    return {
        "recognition": recognition.model_copy(
            update={"status": RecognitionStatus.confirmed, "recognised_on": event.recognised_on}
        ),
        "categories": state.categories | {Category.de_facto_orphan},
    }


@_changes.register
def _(event: RecognitionDenied, state: CaseState) -> Changes:
    recognition = _recognition(state, event.application_id)
    _expect(
        recognition.status in {RecognitionStatus.applied, RecognitionStatus.verified},
        "only a pending application is denied",
    )
    return {
        "recognition": recognition.model_copy(
            update={"status": RecognitionStatus.denied, "denial_reasons": event.reasons}
        )
    }


@_changes.register
def _(event: AllowanceStarted, state: CaseState) -> Changes:
    recognition = _recognition(state, event.application_id)
    _expect(recognition.status is RecognitionStatus.confirmed, "the allowance needs recognition")
    return {
        "recognition": recognition.model_copy(
            update={
                "monthly_allowance_yuan": event.monthly_amount_yuan,
                "allowance_first_month": event.first_month,
            }
        )
    }


# case plan and assistance


@_changes.register
def _(event: CasePlanRecorded, state: CaseState) -> Changes:
    _expect(state.need_scores is not None, "a case plan needs an assessment first")
    plan = CasePlan(
        goals=event.goals,
        planned_assistance=event.planned_assistance,
        review_by=event.review_by,
        recorded_at=event.occurred_at,
        recorded_by=event.actor.user_id,
    )
    status = CaseStatus.active if state.status is CaseStatus.assessed else state.status
    return {"plan": plan, "status": status}


@_changes.register
def _(event: AssistanceRequested, state: CaseState) -> Changes:
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
    return {"assistance": _added(state.assistance, event.request_id, request, "assistance request")}


def _decided_approval(
    state: CaseState, approval_id: UUID, subject_id: UUID, status: ApprovalStatus
) -> None:
    approval = _get(state.approvals, approval_id, "approval")
    _expect(
        approval.subject_id == subject_id and approval.status is status,
        f"approval {approval_id} is not a {status} approval of {subject_id}",
    )


@_changes.register
def _(event: AssistanceApproved, state: CaseState) -> Changes:
    request = _get(state.assistance, event.request_id, "assistance request")
    _expect(request.status is AssistanceStatus.awaiting_approval, "request not awaiting approval")
    _decided_approval(state, event.approval_id, event.request_id, ApprovalStatus.granted)
    return {
        "assistance": _with(
            state.assistance,
            event.request_id,
            status=AssistanceStatus.to_deliver,
            approved=True,
        )
    }


@_changes.register
def _(event: AssistanceRejected, state: CaseState) -> Changes:
    request = _get(state.assistance, event.request_id, "assistance request")
    _expect(request.status is AssistanceStatus.awaiting_approval, "request not awaiting approval")
    _decided_approval(state, event.approval_id, event.request_id, ApprovalStatus.rejected)
    return {
        "assistance": _with(state.assistance, event.request_id, status=AssistanceStatus.rejected)
    }


@_changes.register
def _(event: AssistanceDelivered, state: CaseState) -> Changes:
    request = _get(state.assistance, event.request_id, "assistance request")
    _expect(
        request.status is AssistanceStatus.to_deliver,
        f"request {request.request_id} is {request.status}, not to deliver",
    )
    _expect(request.kind is event.kind, "a delivery is of the kind requested")
    _expect(event.quantity <= request.remaining_quantity, "more delivered than requested")
    _expect(event.value_yuan <= request.remaining_value_yuan, "more value than requested")
    quantity = request.delivered_quantity + event.quantity
    delivery = Delivery(
        delivery_id=event.delivery_id,
        request_id=event.request_id,
        kind=event.kind,
        quantity=event.quantity,
        unit=event.unit,
        value_yuan=event.value_yuan,
        delivered_on=event.delivered_on,
        recorded_by=event.actor.user_id,
    )
    return {
        "assistance": _with(
            state.assistance,
            event.request_id,
            delivered_quantity=quantity,
            delivered_value_yuan=request.delivered_value_yuan + event.value_yuan,
            status=(
                AssistanceStatus.delivered
                if quantity == request.quantity
                else AssistanceStatus.to_deliver
            ),
        ),
        "deliveries": (*state.deliveries, delivery),
    }


# service referrals


@_changes.register
def _(event: ReferralRequested, state: CaseState) -> Changes:
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
    return {"referrals": _added(state.referrals, event.referral_id, referral, "referral")}


def _referral_moves(
    state: CaseState,
    referral_id: UUID,
    allowed: Iterable[ReferralStatus],
    to: ReferralStatus,
    **changes: Any,
) -> Changes:
    referral = _get(state.referrals, referral_id, "referral")
    _expect(referral.status in set(allowed), f"referral {referral_id} is {referral.status}")
    return {"referrals": _with(state.referrals, referral_id, status=to, **changes)}


@_changes.register
def _(event: ReferralAccepted, state: CaseState) -> Changes:
    return _referral_moves(
        state,
        event.referral_id,
        {ReferralStatus.requested},
        ReferralStatus.accepted,
        answered_at=event.occurred_at,
    )


@_changes.register
def _(event: ReferralDeclined, state: CaseState) -> Changes:
    return _referral_moves(
        state,
        event.referral_id,
        {ReferralStatus.requested},
        ReferralStatus.declined,
        answered_at=event.occurred_at,
    )


@_changes.register
def _(event: ReferralCompleted, state: CaseState) -> Changes:
    return _referral_moves(
        state, event.referral_id, {ReferralStatus.accepted}, ReferralStatus.completed
    )


@_changes.register
def _(event: ReferralWithdrawn, state: CaseState) -> Changes:
    return _referral_moves(
        state, event.referral_id, OPEN_REFERRAL_STATUSES, ReferralStatus.withdrawn
    )


@_changes.register
def _(event: ReferralReminded, state: CaseState) -> Changes:
    referral = _get(state.referrals, event.referral_id, "referral")
    _expect(referral.status is ReferralStatus.requested, "only an unanswered referral is reminded")
    return {
        "referrals": _with(
            state.referrals, event.referral_id, reminded=True, answer_due_at=event.answer_due_at
        )
    }


# approvals and escalations


def _check_subject(state: CaseState, kind: ApprovalKind, subject_id: UUID) -> None:
    """The proposal an approval request is about must be in the case, waiting for it."""
    if kind in {ApprovalKind.assistance, ApprovalKind.emergency_placement}:
        request = _get(state.assistance, subject_id, "assistance request")
        _expect(
            request.emergency == (kind is ApprovalKind.emergency_placement),
            "an emergency placement is approved as one, other assistance as assistance",
        )
        _expect(request.approval_id is None, f"request {subject_id} already has an approval")
    elif kind is ApprovalKind.guardian_change:
        change = _get(state.guardian_changes, subject_id, "guardian change")
        _expect(change.approval_id is None, f"change {subject_id} already has an approval")
    elif kind is ApprovalKind.transfer:
        transfer = _get(state.transfers, subject_id, "transfer")
        _expect(transfer.approval_id is None, f"transfer {subject_id} already has an approval")
    else:
        _expect(
            state.closure is not None and state.closure.closure_id == subject_id,
            f"there is no pending closure {subject_id}",
        )


def _tie(state: CaseState, approval: Approval) -> Changes:
    subject = approval.subject_id
    approval_id = approval.approval_id
    if approval.kind in {ApprovalKind.assistance, ApprovalKind.emergency_placement}:
        return {"assistance": _with(state.assistance, subject, approval_id=approval_id)}
    if approval.kind is ApprovalKind.guardian_change:
        return {"guardian_changes": _with(state.guardian_changes, subject, approval_id=approval_id)}
    if approval.kind is ApprovalKind.transfer:
        return {"transfers": _with(state.transfers, subject, approval_id=approval_id)}
    assert state.closure is not None
    return {"closure": state.closure.model_copy(update={"approval_id": approval_id})}


@_changes.register
def _(event: ApprovalRequested, state: CaseState) -> Changes:
    _check_subject(state, event.kind, event.subject_id)
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
    return {
        "approvals": _added(state.approvals, event.approval_id, approval, "approval"),
        **_tie(state, approval),
    }


def _pending(state: CaseState, approval_id: UUID, level: EscalationLevel) -> Approval:
    approval = _get(state.approvals, approval_id, "approval")
    _expect(approval.status is ApprovalStatus.pending, f"approval {approval_id} is not pending")
    _expect(approval.level is level, f"approval {approval_id} rests with the {approval.level}")
    return approval


@_changes.register
def _(event: ApprovalEscalated, state: CaseState) -> Changes:
    _pending(state, event.approval_id, event.from_level)
    return {
        "approvals": _with(
            state.approvals,
            event.approval_id,
            level=event.to_level,
            area=event.area,
            due_at=event.due_at,
        )
    }


@_changes.register
def _(event: ApprovalTimedOut, state: CaseState) -> Changes:
    _pending(state, event.approval_id, event.level)
    return {"approvals": _with(state.approvals, event.approval_id, timed_out=True)}


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
    state: CaseState,
    approval_id: UUID,
    level: EscalationLevel | None,
    status: ApprovalStatus,
    event: CaseEvent,
) -> Changes:
    approval = _get(state.approvals, approval_id, "approval")
    _expect(approval.status is ApprovalStatus.pending, f"approval {approval_id} is not pending")
    if level is not None:
        _expect(approval.level is level, f"approval {approval_id} rests with the {approval.level}")
    decided = status is not ApprovalStatus.withdrawn
    changes: Changes = {
        "approvals": _with(
            state.approvals,
            approval_id,
            status=status,
            decided_by=event.actor.user_id if decided else None,
            decided_at=event.occurred_at if decided else None,
        )
    }
    subject = approval.subject_id
    if approval.kind is ApprovalKind.guardian_change:
        changes["guardian_changes"] = _with(
            state.guardian_changes, subject, status=_PROPOSAL_AFTER[status]
        )
    elif approval.kind is ApprovalKind.transfer:
        changes["transfers"] = _with(state.transfers, subject, status=_TRANSFER_AFTER[status])
    elif approval.kind is ApprovalKind.closure and status is not ApprovalStatus.granted:
        changes["closure"] = None
        changes["status"] = working_status(state)
    elif approval.kind is ApprovalKind.assistance and status is ApprovalStatus.withdrawn:
        changes["assistance"] = _with(state.assistance, subject, status=AssistanceStatus.withdrawn)
    return changes


@_changes.register
def _(event: ApprovalGranted, state: CaseState) -> Changes:
    return _approval_ends(state, event.approval_id, event.level, ApprovalStatus.granted, event)


@_changes.register
def _(event: ApprovalRejected, state: CaseState) -> Changes:
    return _approval_ends(state, event.approval_id, event.level, ApprovalStatus.rejected, event)


@_changes.register
def _(event: ApprovalWithdrawn, state: CaseState) -> Changes:
    return _approval_ends(state, event.approval_id, None, ApprovalStatus.withdrawn, event)


@_changes.register
def _(event: EscalationRaised, state: CaseState) -> Changes:
    escalation = Escalation(
        breach=event.breach,
        subject_id=event.subject_id,
        deadline=event.deadline,
        level=event.level,
        area=event.area,
        raised_at=event.occurred_at,
    )
    changes: Changes = {"escalations": (*state.escalations, escalation)}
    if event.breach is Breach.referral_unanswered:
        if event.subject_id is None:
            raise FoldError("an unanswered referral's escalation names the referral")
        _get(state.referrals, event.subject_id, "referral")
        changes["referrals"] = _with(state.referrals, event.subject_id, escalated=True)
    return changes


# guardian change and transfer


@_changes.register
def _(event: GuardianChangeProposed, state: CaseState) -> Changes:
    change = GuardianChange(
        change_id=event.change_id,
        proposal_event_id=event.event_id,
        new_guardian=event.new_guardian,
        status=ProposalStatus.proposed,
        proposed_by=event.actor.user_id,
    )
    return {
        "guardian_changes": _added(
            state.guardian_changes, event.change_id, change, "guardian change"
        )
    }


@_changes.register
def _(event: GuardianChangeRegistered, state: CaseState) -> Changes:
    change = _get(state.guardian_changes, event.change_id, "guardian change")
    _expect(change.status is ProposalStatus.approved, "only an approved change is registered")
    ended = tuple(
        record
        if record.until is not None
        else record.model_copy(update={"until": event.occurred_at})
        for record in state.guardians
    )
    new = GuardianRecord(
        guardian=change.new_guardian,
        source_event_id=change.proposal_event_id,
        index=0,
        since=event.occurred_at,
    )
    return {
        "guardian_changes": _with(
            state.guardian_changes, event.change_id, status=ProposalStatus.registered
        ),
        "guardians": (*ended, new),
    }


@_changes.register
def _(event: TransferProposed, state: CaseState) -> Changes:
    transfer = Transfer(
        transfer_id=event.transfer_id,
        destination_kind=event.destination_kind,
        destination=event.destination,
        status=TransferStatus.proposed,
        proposed_by=event.actor.user_id,
    )
    return {"transfers": _added(state.transfers, event.transfer_id, transfer, "transfer")}


def _transfer_moves(
    state: CaseState, transfer_id: UUID, allowed: TransferStatus, to: TransferStatus, **more: Any
) -> Changes:
    transfer = _get(state.transfers, transfer_id, "transfer")
    _expect(transfer.status is allowed, f"transfer {transfer_id} is {transfer.status}")
    return {"transfers": _with(state.transfers, transfer_id, status=to, **more)}


@_changes.register
def _(event: TransferPlaceConfirmed, state: CaseState) -> Changes:
    return _transfer_moves(
        state,
        event.transfer_id,
        TransferStatus.approved,
        TransferStatus.place_confirmed,
        place_reference=event.place_reference,
    )


@_changes.register
def _(event: TransferPlaceRefused, state: CaseState) -> Changes:
    return _transfer_moves(
        state, event.transfer_id, TransferStatus.approved, TransferStatus.place_refused
    )


@_changes.register
def _(event: ChildTransferred, state: CaseState) -> Changes:
    changes = _transfer_moves(
        state,
        event.transfer_id,
        TransferStatus.place_confirmed,
        TransferStatus.transferred,
        transferred_on=event.transferred_on,
    )
    transfer = state.transfers[event.transfer_id]
    changes["placement"] = Placement(
        transfer_id=transfer.transfer_id,
        destination_kind=transfer.destination_kind,
        destination=transfer.destination,
        since=event.transferred_on,
    )
    return changes


# monitoring


@_changes.register
def _(event: VisitScheduled, state: CaseState) -> Changes:
    return {"next_visit_due": event.due_at}


@_changes.register
def _(event: VisitRecorded, state: CaseState) -> Changes:
    latest = state.last_visit_at
    changes: Changes = {
        "visits": state.visits + 1,
        "last_visit_at": event.visited_at if latest is None else max(latest, event.visited_at),
    }
    if event.updated_scores is not None:
        _expect(state.need_scores is not None, "a visit rescores only an assessed case")
        changes["need_scores"] = event.updated_scores
        changes["risk_level"] = event.risk_level
    return changes


@_changes.register
def _(event: VisitMissed, state: CaseState) -> Changes:
    _expect(state.next_visit_due == event.due_at, "only the scheduled visit can be missed")
    return {"missed_visits": state.missed_visits + 1}


@_changes.register
def _(event: SchoolStatusChecked, state: CaseState) -> Changes:
    return {
        "school_status": event.status,
        "school_checked_on": event.checked_on,
        "next_school_check_on": event.next_check_on,
    }


# closure


@_changes.register
def _(event: ClosureProposed, state: CaseState) -> Changes:
    _expect(state.status is not CaseStatus.pending_closure, "a closure is already pending")
    closure = PendingClosure(
        closure_id=event.closure_id,
        closure_reason=event.closure_reason,
        proposed_by=event.actor.user_id,
        proposed_at=event.occurred_at,
        handover_to=event.handover_to,
    )
    return {"status": CaseStatus.pending_closure, "closure": closure}


@_changes.register
def _(event: CaseClosed, state: CaseState) -> Changes:
    if event.closure_id is not None:
        _expect(
            state.closure is not None and state.closure.closure_id == event.closure_id,
            f"there is no pending closure {event.closure_id}",
        )
    _expect(not state.pending_approvals, "approvals still pending must be withdrawn first")
    _expect(not state.open_referrals, "open referrals must be withdrawn first")
    return {
        "status": CaseStatus.closed,
        "closure_reason": event.closure_reason,
        "closed_at": event.occurred_at,
        "closure": None,
        "next_visit_due": None,
    }


@_changes.register
def _(event: CaseReopened, state: CaseState) -> Changes:
    _expect(state.status is CaseStatus.closed, f"case {state.case_id} is not closed")
    return {
        "status": CaseStatus.reported,
        "reopen_count": state.reopen_count + 1,
        "closure_reason": None,
        "closed_at": None,
        "plan": None,
        "need_scores": None,
        "risk_level": None,
        "assessed_at": None,
        "assessment_overdue": False,
        "next_visit_due": None,
    }


# corrections

CORRECTABLE_REPORT_FIELDS = frozenset(
    {"child", "household", "guardians", "parents", "observations"}
)


@_changes.register
def _(event: FactCorrected, state: CaseState) -> Changes:
    record = Correction(
        event_id=event.event_id,
        corrected_event_id=event.corrected_event_id,
        field_path=event.field_path,
        corrected_at=event.occurred_at,
    )
    changes = _corrected(state, event.corrected_event_id, event.field_path.split("."), event.value)
    return {**changes, "corrections": (*state.corrections, record)}


def _corrected(state: CaseState, event_id: UUID, path: list[str], value: object) -> Changes:
    """Where the state holds the corrected fact, the state with it corrected."""
    if event_id == state.opened_event_id:
        return _corrected_report(state, path, value)
    for change in state.guardian_changes.values():
        if change.proposal_event_id == event_id:
            return _corrected_new_guardian(state, change, path, value)
    raise FoldError(f"event {event_id} holds no fact this case can correct")


def _corrected_report(state: CaseState, path: list[str], value: object) -> Changes:
    _expect(
        len(path) >= 3 and path[0] == "report" and path[1] in CORRECTABLE_REPORT_FIELDS,
        "a report correction names a field of report.child, household, guardians, parents "
        "or observations",
    )
    _expect(path[1] not in {"guardians", "parents"} or len(path) >= 4, "name one field")
    report = _validated(ChildReport, _set(state.report.model_dump(mode="json"), path[1:], value))
    changes: Changes = {"report": report}
    if path[1] == "parents" and state.parents == tuple(state.report.parents):
        changes["parents"] = tuple(report.parents)  # no outside answer has replaced them yet
    if path[1] == "guardians":
        index = int(path[2])
        changes["guardians"] = tuple(
            record.model_copy(update={"guardian": report.guardians[index]})
            if (record.source_event_id, record.index) == (state.opened_event_id, index)
            else record
            for record in state.guardians
        )
    return changes


def _corrected_new_guardian(
    state: CaseState, change: GuardianChange, path: list[str], value: object
) -> Changes:
    _expect(len(path) == 2 and path[0] == "new_guardian", "name one field of new_guardian")
    guardian = _validated(
        Guardian, _set(change.new_guardian.model_dump(mode="json"), path[1:], value)
    )
    return {
        "guardian_changes": _with(state.guardian_changes, change.change_id, new_guardian=guardian),
        "guardians": tuple(
            record.model_copy(update={"guardian": guardian})
            if record.source_event_id == change.proposal_event_id
            else record
            for record in state.guardians
        ),
    }


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
