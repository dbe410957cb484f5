"""Every event of a case's life, as one discriminated union.

Grouped by life stage: discovery, screening, assessment, eligibility checks, recognition, case
plan, assistance, service referrals, approvals and escalations, guardian change, transfer,
monitoring, closure, and corrections.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from domain.events.approvals import (
    ApprovalEscalated,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalTimedOut,
    ApprovalWithdrawn,
)
from domain.events.assessment import AssessmentRecorded
from domain.events.assistance import (
    AssistanceApproved,
    AssistanceDelivered,
    AssistanceRejected,
    AssistanceRequested,
)
from domain.events.base import HEADER_FIELDS, EventBase
from domain.events.closure import CaseClosed, CaseReopened, ClosureProposed, ClosureReason
from domain.events.corrections import FactCorrected
from domain.events.discovery import CaseOpened, CaseworkerAssigned
from domain.events.eligibility import (
    CheckFailure,
    EligibilityCheckAnswered,
    EligibilityCheckKind,
    EligibilityCheckRequested,
    EligibilityFacts,
    HouseholdRegistrationFacts,
    ParentsStatusFacts,
    SchoolEnrolmentFacts,
    SchoolStatus,
)
from domain.events.escalations import Breach, EscalationRaised
from domain.events.guardianship import GuardianChangeProposed, GuardianChangeRegistered
from domain.events.monitoring import (
    SchoolStatusChecked,
    VisitKind,
    VisitMissed,
    VisitRecorded,
    VisitScheduled,
)
from domain.events.plan import CasePlanRecorded, PlannedAssistance
from domain.events.recognition import (
    AllowanceStarted,
    RecognitionApplied,
    RecognitionConfirmed,
    RecognitionDenied,
    RecognitionVerified,
)
from domain.events.referrals import (
    AgencyKind,
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralReminded,
    ReferralRequested,
    ReferralWithdrawn,
)
from domain.events.screening import AssessmentOverdue, PriorityAssigned
from domain.events.transfer import (
    ChildTransferred,
    DestinationKind,
    TransferPlaceConfirmed,
    TransferPlaceRefused,
    TransferProposed,
)

CaseEvent = Annotated[
    CaseOpened
    | CaseworkerAssigned
    | PriorityAssigned
    | AssessmentOverdue
    | AssessmentRecorded
    | EligibilityCheckRequested
    | EligibilityCheckAnswered
    | RecognitionApplied
    | RecognitionVerified
    | RecognitionConfirmed
    | RecognitionDenied
    | AllowanceStarted
    | CasePlanRecorded
    | AssistanceRequested
    | AssistanceApproved
    | AssistanceRejected
    | AssistanceDelivered
    | ReferralRequested
    | ReferralAccepted
    | ReferralDeclined
    | ReferralCompleted
    | ReferralWithdrawn
    | ReferralReminded
    | ApprovalRequested
    | ApprovalEscalated
    | ApprovalTimedOut
    | ApprovalGranted
    | ApprovalRejected
    | ApprovalWithdrawn
    | EscalationRaised
    | GuardianChangeProposed
    | GuardianChangeRegistered
    | TransferProposed
    | TransferPlaceConfirmed
    | TransferPlaceRefused
    | ChildTransferred
    | VisitScheduled
    | VisitRecorded
    | VisitMissed
    | SchoolStatusChecked
    | ClosureProposed
    | CaseClosed
    | CaseReopened
    | FactCorrected,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)

__all__ = [
    "EVENT_ADAPTER",
    "HEADER_FIELDS",
    "AgencyKind",
    "AllowanceStarted",
    "ApprovalEscalated",
    "ApprovalGranted",
    "ApprovalRejected",
    "ApprovalRequested",
    "ApprovalTimedOut",
    "ApprovalWithdrawn",
    "AssessmentOverdue",
    "AssessmentRecorded",
    "AssistanceApproved",
    "AssistanceDelivered",
    "AssistanceRejected",
    "AssistanceRequested",
    "Breach",
    "CaseClosed",
    "CaseEvent",
    "CaseOpened",
    "CasePlanRecorded",
    "CaseReopened",
    "CaseworkerAssigned",
    "CheckFailure",
    "ChildTransferred",
    "ClosureProposed",
    "ClosureReason",
    "DestinationKind",
    "EligibilityCheckAnswered",
    "EligibilityCheckKind",
    "EligibilityCheckRequested",
    "EligibilityFacts",
    "EscalationRaised",
    "EventBase",
    "FactCorrected",
    "GuardianChangeProposed",
    "GuardianChangeRegistered",
    "HouseholdRegistrationFacts",
    "ParentsStatusFacts",
    "PlannedAssistance",
    "PriorityAssigned",
    "RecognitionApplied",
    "RecognitionConfirmed",
    "RecognitionDenied",
    "RecognitionVerified",
    "ReferralAccepted",
    "ReferralCompleted",
    "ReferralDeclined",
    "ReferralReminded",
    "ReferralRequested",
    "ReferralWithdrawn",
    "SchoolEnrolmentFacts",
    "SchoolStatus",
    "SchoolStatusChecked",
    "TransferPlaceConfirmed",
    "TransferPlaceRefused",
    "TransferProposed",
    "VisitKind",
    "VisitMissed",
    "VisitRecorded",
    "VisitScheduled",
]
