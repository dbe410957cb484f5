"""Every kind of event round-trips through its stored form, and a whole case replays exactly."""

from __future__ import annotations

import json
import typing
import uuid
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import timedelta
from functools import cache

import pytest
from pydantic import ValidationError

from domain import codec
from domain.child import ParentRelation, ParentSituationKind
from domain.commands import (
    ApplyForRecognition,
    ApprovalDecision,
    AssignCaseworker,
    ConfirmTransferPlace,
    CorrectFact,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecognitionDecision,
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
    assessment_overdue,
    escalate_approval,
    referral_unanswered,
    visit_missed,
)
from domain.events import (
    EVENT_ADAPTER,
    HEADER_FIELDS,
    AgencyKind,
    AssistanceRequested,
    CaseEvent,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    EventBase,
    ParentsStatusFacts,
    ReferralRequested,
    SchoolStatus,
    TransferProposed,
    VisitKind,
)
from domain.events.upcasting import upcast
from domain.rules.assistance import AssistanceKind
from domain.state import CaseState, CaseStatus, fold
from tests.domain.strategies import (
    COUNTY_OFFICER,
    ENGINE,
    OTHER_SUPERVISOR,
    PREFECTURE_OFFICER,
    SUPERVISOR,
    Driver,
)
from tests.domain.test_fold_properties import replay_through_store

ALL_EVENT_TYPES = typing.get_args(typing.get_args(CaseEvent)[0])
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@cache
def whole_life() -> Driver:
    """A case that goes through every kind of event there is."""
    d = Driver()
    d.do(AssignCaseworker(caseworker="cw-2"), SUPERVISOR)
    d.later(11 * DAY).record(assessment_overdue(d.state, d.now, d.new_id))
    d.do(RequestEligibilityCheck(check=EligibilityCheckKind.parents_status))
    (check_id,) = d.state.eligibility_checks
    d.do(
        RecordEligibilityAnswer(
            check_id=check_id, facts=ParentsStatusFacts(parents=tuple(d.report.parents))
        ),
        ENGINE,
    )
    d.do(RequestEligibilityCheck(check=EligibilityCheckKind.household_registration))
    household_check = list(d.state.eligibility_checks)[1]
    d.do(
        RecordEligibilityAnswer(check_id=household_check, failure=CheckFailure.unavailable),
        ENGINE,
    )
    d.assessed()
    # recognition: denied once, then applied again and granted
    d.do(ApplyForRecognition())
    application = d.state.recognition
    assert application is not None
    d.do(
        RecordRecognitionDecision(
            application_id=application.application_id,
            decision=RecognitionDecision.denied,
            reasons=("the father's sentence must be confirmed by the court",),
        ),
        ENGINE,
    )
    d.do(ApplyForRecognition())
    assert d.state.recognition is not None
    application_id = d.state.recognition.application_id
    d.do(
        RecordRecognitionDecision(
            application_id=application_id, decision=RecognitionDecision.verified
        ),
        ENGINE,
    )
    d.do(
        RecordRecognitionDecision(
            application_id=application_id,
            decision=RecognitionDecision.confirmed,
            monthly_allowance_yuan=950,
        ),
        ENGINE,
    )
    d.planned()
    # assistance: one approved and delivered, one rejected
    approved, _ = d.do(
        RequestAssistance(kind=AssistanceKind.medical_aid, quantity=1, unit="case", value_yuan=5000)
    )
    assert isinstance(approved, AssistanceRequested)
    d.do(
        DecideApproval(approval_id=d.pending_approval(), decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    d.do(RecordDelivery(request_id=approved.request_id, quantity=1, delivered_on=d.now.date()))
    d.do(RequestAssistance(kind=AssistanceKind.quilt, quantity=30, unit="quilt", value_yuan=3000))
    d.do(
        DecideApproval(
            approval_id=d.pending_approval(),
            decision=ApprovalDecision.reject,
            comment="ask for one quilt",
        ),
        OTHER_SUPERVISOR,
    )
    # referrals: one reminded, escalated, accepted and completed; one declined; one withdrawn
    (asked,) = d.do(
        MakeReferral(agency_kind=AgencyKind.hospital, agency="county hospital", service="eye test")
    )
    assert isinstance(asked, ReferralRequested)
    referral = d.state.referrals[asked.referral_id]
    d.now = referral.answer_due_at + HOUR
    d.record(referral_unanswered(d.state, referral.referral_id, d.now, d.new_id))
    d.do(
        RecordReferralAnswer(referral_id=referral.referral_id, answer=ReferralAnswer.accepted),
        ENGINE,
    )
    d.do(
        RecordReferralAnswer(
            referral_id=referral.referral_id, answer=ReferralAnswer.completed, note="glasses"
        ),
        ENGINE,
    )
    (declined,) = d.do(MakeReferral(agency_kind=AgencyKind.ngo, agency="ngo", service="tutoring"))
    assert isinstance(declined, ReferralRequested)
    d.do(
        RecordReferralAnswer(
            referral_id=declined.referral_id,
            answer=ReferralAnswer.declined,
            note="no volunteers this term",
        ),
        ENGINE,
    )
    (withdrawn,) = d.do(
        MakeReferral(agency_kind=AgencyKind.school, agency="school", service="waiver")
    )
    assert isinstance(withdrawn, ReferralRequested)
    d.do(WithdrawReferral(referral_id=withdrawn.referral_id, reason="fees paid by the plan"))
    # a guardian change nobody decides in time, until the prefecture does
    d.do(
        ProposeGuardianChange(
            new_guardian=d.report.guardians[0].model_copy(update={"name": "张桂兰"}),
            reason="the aunt can care",
        )
    )
    change_approval = d.pending_approval()
    for _ in range(3):
        d.later(49 * HOUR).record(escalate_approval(d.state, change_approval, d.now, d.new_id))
    d.do(
        DecideApproval(approval_id=change_approval, decision=ApprovalDecision.approve),
        PREFECTURE_OFFICER,
    )
    (change_id,) = d.state.guardian_changes
    d.do(RegisterGuardianChange(change_id=change_id, registered_on=d.now.date()), ENGINE)
    # transfers: one refused a place, then one that happens
    for refused in (True, False):
        (proposed, _) = d.do(
            ProposeTransfer(
                destination_kind=DestinationKind.boarding_school,
                destination="county boarding school",
                reason="closer to school",
            )
        )
        assert isinstance(proposed, TransferProposed)
        d.do(
            DecideApproval(approval_id=d.pending_approval(), decision=ApprovalDecision.approve),
            COUNTY_OFFICER,
        )
        transfer_id = proposed.transfer_id
        if refused:
            d.do(RefuseTransferPlace(transfer_id=transfer_id, refused_because="full"), ENGINE)
        else:
            d.do(ConfirmTransferPlace(transfer_id=transfer_id, place_reference="B-12"), ENGINE)
            d.do(RecordTransfer(transfer_id=transfer_id, transferred_on=d.now.date()))
    # monitoring
    d.do(RecordVisit(visited_at=d.now, visit_kind=VisitKind.school, observations="settled in"))
    assert d.state.next_visit_due is not None
    d.now = d.state.next_visit_due + HOUR
    d.record(visit_missed(d.state, d.now, d.new_id))
    d.do(RecordSchoolStatus(status=SchoolStatus.enrolled, checked_on=d.now.date()), ENGINE)
    d.do(
        CorrectFact(
            event_id=d.state.opened_event_id,
            field_path="report.guardians.0.phone",
            value="13900000000",
            reason="number changed",
        )
    )
    # an emergency placement still waiting for its approval when the case closes
    d.do(
        RequestAssistance(
            kind=AssistanceKind.temporary_shelter,
            quantity=3,
            unit="night",
            value_yuan=300,
            emergency=True,
        )
    )
    d.do(
        MakeReferral(agency_kind=AgencyKind.civil_affairs, agency="civil affairs", service="hukou")
    )
    d.do(ProposeClosure(closure_reason=ClosureReason.situation_resolved))
    closure = next(a for a in d.state.pending_approvals.values() if a.kind == "closure")
    d.do(
        DecideApproval(approval_id=closure.approval_id, decision=ApprovalDecision.approve),
        SUPERVISOR,
    )
    assert d.state.status is CaseStatus.closed
    d.later(DAY).do(ReopenCase(reason="the father was released early and left again"))
    return d


def test_the_whole_life_has_every_kind_of_event() -> None:
    produced = {type(event) for event in whole_life().events}
    assert produced == set(ALL_EVENT_TYPES)


def test_every_event_round_trips_through_the_codec() -> None:
    for event in whole_life().events:
        stored = codec.encode(event)
        decoded = codec.decode(
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            data=stored.data,
            metadata=stored.metadata,
        )
        assert decoded == event
        assert type(decoded) is type(event)


def merged_decode(
    *, event_id: uuid.UUID, type: str, schema_version: int, data: str, metadata: str
) -> CaseEvent:
    """How `codec.decode` decoded before it validated one JSON text, kept as the reference: both
    texts parsed, the metadata's header fields merged over the (upcast) facts, the Python objects
    validated."""
    facts, version = upcast(type, schema_version, json.loads(data))
    header = {key: value for key, value in json.loads(metadata).items() if key in HEADER_FIELDS}
    return EVENT_ADAPTER.validate_python(
        {**facts, **header, "event_id": event_id, "type": type, "schema_version": version}
    )


def decoded_as_before(stored: codec.EncodedEvent) -> CaseEvent:
    """`stored` decoded, after checking it decodes exactly as it did before."""
    decoded, before = codec.decode(**asdict(stored)), merged_decode(**asdict(stored))
    assert decoded == before
    assert type(decoded) is type(before)
    # the same fields given, down to the nested models
    assert decoded.model_dump(exclude_unset=True) == before.model_dump(exclude_unset=True)
    return decoded


WORKFLOW = {"workflow_id": f"case-{uuid.UUID(int=7)}"}


def spaced(text: str) -> str:
    """The same JSON as another writer could have stored it: spaced out, with blanks around."""
    return f" {json.dumps(json.loads(text), indent=1)}\n"


def with_workflow_id(event: CaseEvent) -> tuple[CaseEvent, codec.EncodedEvent]:
    return event, codec.encode(event, extra_metadata=WORKFLOW)


def with_other_metadata(event: CaseEvent) -> tuple[CaseEvent, codec.EncodedEvent]:
    # Sorted in among the header fields; one named like facts of some events, one like a header
    # field that the stored columns override.
    other = {"area": "530627", "quantity": "9", "priority": "urgent", "type": "Forged"}
    return event, codec.encode(event, extra_metadata=other)


def with_a_reason_to_escape(event: CaseEvent) -> tuple[CaseEvent, codec.EncodedEvent]:
    event = event.model_copy(update={"reason": 'the "aunt" said:\n\\ 她会来'})
    return event, codec.encode(event, extra_metadata=WORKFLOW)


def spaced_out(event: CaseEvent) -> tuple[CaseEvent, codec.EncodedEvent]:
    stored = codec.encode(event, extra_metadata=WORKFLOW)
    return event, replace(stored, data=spaced(stored.data), metadata=spaced(stored.metadata))


@pytest.mark.parametrize(
    "stored_form",
    [
        lambda event: (event, codec.encode(event)),
        with_workflow_id,
        with_other_metadata,
        with_a_reason_to_escape,
        spaced_out,
    ],
    ids=["as encoded", "workflow id", "other metadata", "reason to escape", "spaced out"],
)
def test_every_event_decodes_exactly_as_before(
    stored_form: Callable[[CaseEvent], tuple[CaseEvent, codec.EncodedEvent]],
) -> None:
    for event in whole_life().events:
        recorded, stored = stored_form(event)
        assert decoded_as_before(stored) == recorded


def test_facts_the_event_does_not_have_are_still_refused() -> None:
    # What the metadata may hold besides the header, the facts may not.
    stored = codec.encode(whole_life().events[-1], extra_metadata=WORKFLOW)
    with pytest.raises(ValidationError) as refused:
        codec.decode(**asdict(replace(stored, data=stored.data[:-1] + ',"workflow_id":"x"}')))
    assert [error["type"] for error in refused.value.errors()] == ["extra_forbidden"]


def test_an_event_stored_without_facts_is_refused_for_what_it_misses() -> None:
    stored = codec.encode(whole_life().events[-1], extra_metadata=WORKFLOW)
    with pytest.raises(ValidationError) as refused:
        codec.decode(**asdict(replace(stored, data="{ }")))
    assert {error["type"] for error in refused.value.errors()} == {"missing"}


def test_the_header_is_metadata_and_the_facts_are_data() -> None:
    for event in whole_life().events:
        stored = codec.encode(event)
        data, metadata = json.loads(stored.data), json.loads(stored.metadata)
        assert not set(data) & HEADER_FIELDS
        assert metadata["actor"]["user_id"] == event.actor.user_id
        assert "type" not in metadata
        assert stored.type == event.type


def test_the_replayed_stream_gives_exactly_the_state() -> None:
    life = whole_life()
    assert fold(replay_through_store(life.events)) == life.state
    assert (
        fold(EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(e)) for e in life.events)
        == life.state
    )


def test_the_state_round_trips_through_json_exactly() -> None:
    state = whole_life().state
    again = CaseState.model_validate_json(state.model_dump_json())
    assert again == state
    assert again.model_dump_json() == state.model_dump_json()


def test_every_event_is_named_and_versioned() -> None:
    names = set()
    for event_type in ALL_EVENT_TYPES:
        assert issubclass(event_type, EventBase)
        fields = event_type.model_fields
        assert fields["type"].default == event_type.__name__
        assert isinstance(fields["schema_version"].default, int)
        names.add(event_type.__name__)
    assert len(names) == len(ALL_EVENT_TYPES)


def test_facts_decide_what_the_case_knows() -> None:
    life = whole_life()
    state = life.state
    assert state.reopen_count == 1
    assert state.status is CaseStatus.reported
    assert state.recognition is not None
    assert state.recognition.monthly_allowance_yuan == 950
    assert state.recognition.allowance_first_month is not None
    assert state.recognition.allowance_first_month.day == 1
    assert "de_facto_orphan" in state.categories
    assert state.placement is not None
    assert state.placement.destination_kind == "boarding_school"
    assert [g.name for g in state.current_guardians] == ["张桂兰"]
    assert state.guardians[0].guardian.phone == "13900000000"
    assert state.guardians[0].until is not None
    assert state.missed_visits == 1
    assert state.school_status is SchoolStatus.enrolled
    assert len(state.deliveries) == 1
    assert state.parents == tuple(life.report.parents)
    assert ParentRelation.father in {p.relation for p in state.parents}
    assert state.parents[1].situation is ParentSituationKind.deceased
