"""The web UI's parts that need no server: which actions a case page offers, the session cookie,
the forms read into commands, the charts, and the two languages being complete."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import get_args

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from starlette.datastructures import FormData, UploadFile

from api.web import forms, i18n
from api.web.actions import Action, offered
from api.web.casework import DONE
from api.web.charts import bar_chart
from api.web.pages import _FORM_MESSAGES, MENUS, PageRoute, local_path
from api.web.session import (
    SESSION_LIFETIME,
    csrf_matches,
    csrf_token,
    decode_session,
    encode_session,
    new_session,
)
from domain.actors import Actor, Role
from domain.child import (
    Category,
    ChildReport,
    Concern,
    DisabilityKind,
    Guardian,
    IntakeSource,
    ParentSituationKind,
    Sex,
)
from domain.commands import (
    ApprovalDecision,
    CaseCommand,
    ConfirmTransferPlace,
    DecideApproval,
    MakeReferral,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordAssessment,
    RecordReferralAnswer,
    RefuseTransferPlace,
    RequestAssistance,
    RequestEligibilityCheck,
    decide,
    open_case,
)
from domain.events import (
    AgencyKind,
    Breach,
    CheckFailure,
    ClosureReason,
    DestinationKind,
    EligibilityCheckKind,
    SchoolStatus,
    VisitKind,
)
from domain.rules.approvals import ApprovalKind
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from domain.rules.escalation import EscalationLevel
from domain.rules.priority import Priority
from domain.rules.risk import NeedScores, RiskLevel
from domain.state import (
    ApprovalStatus,
    AssistanceStatus,
    CaseState,
    CaseStatus,
    CheckStatus,
    Recognition,
    RecognitionStatus,
    ReferralStatus,
    fold,
)
from store.projections import FIGURES

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
VILLAGE = "530627101201"
CASEWORKER = Actor(user_id="cw", role=Role.caseworker, area=VILLAGE)
SUPERVISOR = Actor(user_id="sv", role=Role.supervisor, area="530627101")
COUNTY_OFFICER = Actor(user_id="co", role=Role.supervisor, area="530627")
AUDITOR = Actor(user_id="au", role=Role.auditor, area="530627")
ELSEWHERE = Actor(user_id="ew", role=Role.caseworker, area="530627102201")
NOW = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)
SCORES = NeedScores(survival=2, education=3, health=1, guardianship=2, safety=1, psychosocial=2)


def _report() -> ChildReport:
    return ChildReport.model_validate(
        {
            "child": {"name": "Test", "sex": "female", "date_of_birth": "2016-04-09"},
            "village": VILLAGE,
            "household": {"address": "Group 3"},
            "guardians": [{"name": "Grandmother", "relation": "grandmother"}],
            "categories": ["de_facto_orphan"],
        }
    )


def _after(state: CaseState, command: CaseCommand, actor: Actor) -> CaseState:
    events = decide(state, command, actor=actor, now=NOW, new_id=uuid.uuid4)
    found = fold(events, state)
    assert found is not None
    return found


def _reported() -> CaseState:
    state = fold(open_case(uuid.uuid4(), _report(), actor=CASEWORKER, now=NOW, new_id=uuid.uuid4))
    assert state is not None
    return state


def _awaiting_approval(requester: Actor = CASEWORKER) -> CaseState:
    assessed = _after(_reported(), RecordAssessment(scores=SCORES), CASEWORKER)
    help_asked = RequestAssistance(kind=AssistanceKind.quilt, quantity=1, unit="p", value_yuan=2500)
    return _after(assessed, help_asked, requester)


# --- which actions a case page offers ---------------------------------------------------------


def test_a_reported_case_offers_the_assessment_and_no_assistance() -> None:
    offer = offered(_reported(), CASEWORKER)
    assert Action.assess in offer.actions
    assert not {Action.assistance, Action.plan, Action.decide, Action.reassess} & offer.actions


def test_an_assessed_case_offers_assistance_and_a_plan() -> None:
    offer = offered(_after(_reported(), RecordAssessment(scores=SCORES), CASEWORKER), CASEWORKER)
    assert {Action.assistance, Action.plan, Action.reassess} <= offer.actions
    assert Action.assess not in offer.actions


def test_only_a_supervisor_who_did_not_ask_is_offered_the_decision() -> None:
    state = _awaiting_approval()
    assert Action.decide not in offered(state, CASEWORKER).actions
    for supervisor in (SUPERVISOR, COUNTY_OFFICER):
        offer = offered(state, supervisor)
        assert Action.decide in offer.actions
        assert offer.decidable == tuple(state.pending_approvals)
    own = _awaiting_approval(requester=SUPERVISOR)
    assert Action.decide not in offered(own, SUPERVISOR).actions
    assert Action.decide in offered(own, COUNTY_OFFICER).actions


def test_auditors_and_other_areas_are_offered_nothing() -> None:
    state = _awaiting_approval()
    assert not offered(state, AUDITOR).actions
    assert not offered(state, ELSEWHERE).actions


def test_decided_help_can_be_delivered_and_a_closed_case_only_reopened() -> None:
    state = _awaiting_approval()
    approval_id = next(iter(state.pending_approvals))
    decision = DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve)
    approved = _after(state, decision, SUPERVISOR)
    offer = offered(approved, CASEWORKER)
    assert Action.deliver in offer.actions
    assert offer.deliverable == tuple(approved.assistance)
    closed = approved.model_copy(update={"status": CaseStatus.closed})
    assert offered(closed, CASEWORKER).actions == {Action.reopen}


def _approved(state: CaseState) -> CaseState:
    approval_id = next(iter(state.pending_approvals))
    decision = DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve)
    return _after(state, decision, SUPERVISOR)


def test_an_open_case_offers_proposals_school_status_recognition_and_corrections() -> None:
    offer = offered(_reported(), CASEWORKER)
    offers = {Action.guardian_change, Action.transfer, Action.recognition}
    assert offers | {Action.school_status, Action.correct} <= offer.actions
    answers = {Action.recognition_decision, Action.transfer_place, Action.arrival}
    answers |= {Action.referral_answer, Action.withdraw_referral, Action.eligibility_answer}
    assert not answers & offer.actions  # nothing waits for an answer yet
    assert offered(_reported(), SUPERVISOR).actions == offer.actions


def test_a_guardian_change_in_progress_is_not_proposed_again_and_waits_for_a_supervisor() -> None:
    change = ProposeGuardianChange(
        new_guardian=Guardian(name="Aunt", relation="aunt"), reason="Grandmother is ill"
    )
    state = _after(_reported(), change, CASEWORKER)
    assert Action.guardian_change not in offered(state, CASEWORKER).actions
    assert Action.decide not in offered(state, CASEWORKER).actions
    assert Action.decide in offered(state, SUPERVISOR).actions
    assert not offered(state, AUDITOR).actions


def test_a_transfer_is_offered_its_place_then_the_childs_arrival() -> None:
    proposal = ProposeTransfer(
        destination_kind=DestinationKind.boarding_school, destination="Town school", reason="r"
    )
    proposed = _after(_reported(), proposal, CASEWORKER)
    assert Action.transfer not in offered(proposed, CASEWORKER).actions
    assert Action.transfer_place not in offered(proposed, CASEWORKER).actions  # not approved
    approved = _approved(proposed)
    offer = offered(approved, CASEWORKER)
    assert Action.transfer_place in offer.actions
    assert offer.placeable == tuple(approved.transfers)
    assert Action.arrival not in offer.actions
    transfer_id = offer.placeable[0]
    placed = _after(approved, ConfirmTransferPlace(transfer_id=transfer_id), CASEWORKER)
    offer = offered(placed, CASEWORKER)
    assert Action.arrival in offer.actions
    assert offer.arriving == (transfer_id,)
    assert Action.transfer_place not in offer.actions
    no_place = RefuseTransferPlace(transfer_id=transfer_id, refused_because="full")
    refused = _after(approved, no_place, CASEWORKER)
    assert Action.transfer in offered(refused, CASEWORKER).actions  # a new proposal may follow
    assert not offered(placed, AUDITOR).actions


def test_open_referrals_and_checks_are_offered_their_answers() -> None:
    referral = MakeReferral(agency_kind=AgencyKind.hospital, agency="County hospital", service="x")
    state = _after(_reported(), referral, CASEWORKER)
    state = _after(
        state, RequestEligibilityCheck(check=EligibilityCheckKind.school_enrolment), CASEWORKER
    )
    offer = offered(state, CASEWORKER)
    assert {Action.referral_answer, Action.withdraw_referral, Action.eligibility_answer} <= (
        offer.actions
    )
    assert offer.referrals == tuple(state.referrals)
    assert offer.answerable_checks == tuple(state.eligibility_checks)
    referral_id = offer.referrals[0]
    answer = RecordReferralAnswer(referral_id=referral_id, answer="declined", note="No bed")
    declined = _after(state, answer, CASEWORKER)
    assert (
        not {Action.referral_answer, Action.withdraw_referral}
        & offered(declined, CASEWORKER).actions
    )


@pytest.mark.parametrize(
    ("status", "apply", "decide_it"),
    [
        (RecognitionStatus.applied, False, True),
        (RecognitionStatus.verified, False, True),
        (RecognitionStatus.confirmed, False, False),
        (RecognitionStatus.denied, True, False),
    ],
)
def test_recognition_is_applied_for_then_its_decision_recorded(
    status: RecognitionStatus, apply: bool, decide_it: bool
) -> None:
    recognition = Recognition(
        application_id=uuid.uuid4(),
        status=status,
        applied_at=NOW,
        qualifying=(),
        verification_due_at=NOW,
    )
    state = _reported().model_copy(update={"recognition": recognition})
    actions = offered(state, CASEWORKER).actions
    assert (Action.recognition in actions) is apply
    assert (Action.recognition_decision in actions) is decide_it


# --- the session cookie ---------------------------------------------------------------------


def test_a_session_cookie_reads_back_only_unaltered_with_its_key() -> None:
    key, other_key = b"k" * 32, b"o" * 32
    session = new_session("demo-caseworker")
    cookie = encode_session(key, session)
    assert decode_session(key, cookie) == session
    assert decode_session(other_key, cookie) is None
    version, payload, signature = cookie.split(".")
    assert decode_session(key, f"{version}.{payload}x.{signature}") is None
    assert decode_session(key, "garbage") is None
    assert "demo-caseworker" not in signature


def test_a_signed_in_session_expires_and_an_anonymous_one_does_not() -> None:
    key = b"k" * 32
    signed = new_session("demo-caseworker")
    anonymous = new_session(None)
    later = signed.issued_at + SESSION_LIFETIME + 1
    assert decode_session(key, encode_session(key, signed), now=later) is None
    assert decode_session(key, encode_session(key, anonymous), now=later) == anonymous


def test_a_csrf_token_belongs_to_its_session() -> None:
    key = b"k" * 32
    one, two = new_session("a"), new_session("a")
    assert csrf_matches(key, one, csrf_token(key, one))
    assert not csrf_matches(key, two, csrf_token(key, one))
    assert not csrf_matches(key, one, None)
    assert not csrf_matches(key, one, "")


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("/ui/cases", True),
        ("/ui/cases?view=overdue", True),
        ("//evil.test/ui/", False),
        ("/\\evil.test", False),
        ("https://evil.test/ui/", False),
        ("/cases", False),
        ("", False),
    ],
)
def test_only_the_uis_own_paths_are_followed(value: str, kept: bool) -> None:
    assert (local_path(value) == value) is kept


# --- forms ----------------------------------------------------------------------------------


def _form(**fields: str | list[str]) -> FormData:
    items: list[tuple[str, str | UploadFile]] = []
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        items += [(name.replace("__", "."), one) for one in values]
    return FormData(items)


def test_a_report_form_becomes_the_childs_report() -> None:
    report = forms.report_from(
        _form(
            child__name="Li Xiaomei",
            child__sex="female",
            child__date_of_birth="2015-03-02",
            village=VILLAGE,
            household__address="Group 3",
            household__members="2",
            **{
                "guardians__0__name": "Li Nainai",
                "guardians__0__relation": "grandmother",
                "guardians__0__able_to_care": "yes",
                "mother__situation": "severe_disability",
                "mother__disability_grade": "2",
                "mother__disability_kind": "physical",
            },
            categories=["de_facto_orphan", "left_behind"],
            concerns="neglected",
        )
    )
    assert report.child.name == "Li Xiaomei"
    assert len(report.guardians) == 1  # the empty second guardian is left out
    assert report.guardians[0].able_to_care
    assert [parent.relation.value for parent in report.parents] == ["mother"]
    assert report.categories == {Category.de_facto_orphan, Category.left_behind}
    assert report.concerns == {Concern.neglected}


def test_a_report_forms_mistakes_are_named_by_field() -> None:
    with pytest.raises(forms.FormInvalid) as raised:
        forms.report_from(
            _form(
                child__name="",
                child__sex="female",
                child__date_of_birth="not a date",
                village=VILLAGE,
                household__address="Group 3",
                **{"guardians__0__name": "x", "guardians__0__relation": "aunt"},
                **{"mother__situation": "severe_disability"},
            )
        )
    errors = raised.value.errors
    assert errors["child.name"] == "This field is required."
    assert errors["child.date_of_birth"] == "The value does not have the expected form."
    assert errors["mother.situation"] == "A severe disability needs its certificate grade and kind."
    assert "not a date" not in repr(errors)  # never the values sent


def test_a_visit_is_at_a_moment_of_program_time() -> None:
    visit = forms.visit_from(
        _form(visited_at="2025-05-01T09:30", visit_kind="home", observations="Well.")
    )
    assert visit.visited_at == datetime(2025, 5, 1, 1, 30, tzinfo=UTC)


def test_a_guardian_change_forms_mistakes_are_named_by_field() -> None:
    with pytest.raises(forms.FormInvalid) as raised:
        forms.guardian_change_from(
            _form(new_guardian__name="", new_guardian__relation="aunt", new_guardian__phone="x")
        )
    errors = raised.value.errors
    assert errors["new_guardian.name"] == "This field is required."
    assert errors["new_guardian.phone"] == "The value does not have the expected form."
    assert errors["reason"] == "This field is required."
    change = forms.guardian_change_from(
        _form(new_guardian__name="Li", new_guardian__relation="aunt", reason="Ill")
    )
    assert change.new_guardian.able_to_care is False  # the box was left unticked


def test_a_transfer_place_is_confirmed_or_refused_by_the_button_pressed() -> None:
    transfer_id = uuid.uuid4()
    confirmed = forms.transfer_place_from(_form(answer="confirmed", note="Bed 4"), transfer_id)
    assert isinstance(confirmed, ConfirmTransferPlace)
    assert confirmed.place_reference == "Bed 4"
    refused = forms.transfer_place_from(_form(answer="refused", note="Full"), transfer_id)
    assert isinstance(refused, RefuseTransferPlace)
    with pytest.raises(forms.FormInvalid) as raised:
        forms.transfer_place_from(_form(answer="refused"), transfer_id)
    assert raised.value.errors == {"note": "This field is required."}
    with pytest.raises(forms.FormInvalid) as raised:
        forms.transfer_from(_form(destination_kind="prison", destination="x", reason="y"))
    assert set(raised.value.errors) == {"destination_kind"}


def test_an_eligibility_answer_gives_facts_or_why_there_are_none() -> None:
    check_id = uuid.uuid4()
    failed = forms.eligibility_answer_from(_form(failure="unavailable"), check_id)
    assert failed.failure is CheckFailure.unavailable
    answered = forms.eligibility_answer_from(_form(facts__status="enrolled"), check_id)
    assert answered.facts is not None
    assert answered.facts.kind == "school_enrolment"
    with pytest.raises(forms.FormInvalid) as raised:
        forms.eligibility_answer_from(_form(), check_id)
    assert set(raised.value.errors) == {"failure"}


# --- charts ---------------------------------------------------------------------------------


def test_the_longest_bar_fills_the_chart_and_zero_draws_none() -> None:
    chart = bar_chart("t", [("a", 4, "/a"), ("b", 2, "/b"), ("c", 0, "/c")])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == 2 * widths[1] > 0
    assert widths[2] == 0
    assert [bar.y for bar in chart.bars] == [0, chart.row_height, 2 * chart.row_height]
    assert bar_chart("t", [("a", 0, "/a")]).bars[0].width == 0


# --- two languages --------------------------------------------------------------------------

_TEXT_IN_TEMPLATE = re.compile(r"""\bt\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _texts_in_templates() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        for double, single in _TEXT_IN_TEMPLATE.findall(template.read_text(encoding="utf-8")):
            found.add(double or single)
    return found


def test_every_text_of_the_pages_has_its_chinese() -> None:
    texts = _texts_in_templates()
    texts |= set(i18n.PLAIN_WORDS.values()) | set(i18n.PLAIN_BY_STATUS.values())
    texts |= set(_FORM_MESSAGES.values()) | set(DONE.values())
    texts |= {label for items in MENUS.values() for _, label in items}
    texts |= set(forms._MESSAGES.values())
    assert len(texts) > 150
    missing = sorted(text for text in texts if text not in i18n.ZH)
    assert not missing, f"no Chinese for: {missing}"


TERM_GROUPS: dict[str, type[StrEnum]] = {
    "role": Role,
    "status": CaseStatus,
    "priority": Priority,
    "priority_short": Priority,
    "risk": RiskLevel,
    "category": Category,
    "concern": Concern,
    "sex": Sex,
    "parent_situation": ParentSituationKind,
    "disability_kind": DisabilityKind,
    "source": IntakeSource,
    "assistance_kind": AssistanceKind,
    "assistance_status": AssistanceStatus,
    "approval_kind": ApprovalKind,
    "approval_status": ApprovalStatus,
    "level": EscalationLevel,
    "referral_status": ReferralStatus,
    "agency_kind": AgencyKind,
    "closure_reason": ClosureReason,
    "check_kind": EligibilityCheckKind,
    "check_status": CheckStatus,
    "check_failure": CheckFailure,
    "visit_kind": VisitKind,
    "school_status": SchoolStatus,
    "breach": Breach,
}


@pytest.mark.parametrize("group", sorted(TERM_GROUPS))
def test_every_term_of_the_domain_has_both_words(group: str) -> None:
    for value in TERM_GROUPS[group]:
        english, chinese = i18n.TERMS[group][value.value]
        assert english, f"{group}.{value.value}"
        assert chinese, f"{group}.{value.value}"


def test_the_domains_own_words_are_used() -> None:
    assert i18n.term("zh", "category", Category.de_facto_orphan) == "事实无人抚养儿童"
    assert i18n.term("zh", "role", Role.caseworker) == "儿童主任"
    assert i18n.term("zh", "role", Role.supervisor) == "督导员"
    assert i18n.term("en", "category", "de_facto_orphan") == "De facto orphan"


def test_every_figure_and_event_has_a_name_in_both_languages() -> None:
    from domain.events import CaseEvent

    for figure in FIGURES:
        assert i18n.figure_label("zh", figure) != i18n.figure_label("en", figure), figure
    for group in set(ASSISTANCE_GROUP.values()):
        assert group in i18n.TERMS["assistance_group"]
    union = get_args(CaseEvent)[0]
    event_types = {member.model_fields["type"].default for member in get_args(union)}
    assert len(event_types) > 40
    assert event_types <= set(i18n.TERMS["event"])


def test_durations_read_naturally() -> None:
    hours = int(timedelta(days=1, hours=23, minutes=5).total_seconds())
    assert i18n.duration("en", hours) == "1 d 23 h"
    assert i18n.duration("zh", hours) == "1天23小时"
    assert i18n.duration("en", 30) == "0 min"


# --- refusals as pages ----------------------------------------------------------------------


async def test_an_unavailable_engine_answers_a_page_with_the_pages_headers() -> None:
    app = FastAPI()
    router = APIRouter(route_class=PageRoute)

    @router.get("/ui/down")
    async def down() -> Response:
        raise ConnectionError("the event store refused the connection")

    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://caseflow.test") as client:
        answer = await client.get("/ui/down", headers={"Accept-Language": "en"})
        chinese = await client.get("/ui/down", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "The case engine is unavailable; try again in a moment." in answer.text
    assert "个案引擎暂时不可用" in chinese.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
