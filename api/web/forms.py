"""The web forms read into the domain's models: a child's report and each case command.

A form's fields are named after the model's fields (`child.name`, `scores.safety`), so a
validation error's location names the field to mark. Empty optional fields are left out.
Errors are returned as {field name: what is wrong}, in English words the page translates; the
values sent are never put in a message or a log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from domain.child import ChildReport
from domain.commands import (
    PROGRAM_TIMEZONE,
    ApplyForRecognition,
    ConfirmTransferPlace,
    CorrectFact,
    DecideApproval,
    MakeReferral,
    ProposeClosure,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordEligibilityAnswer,
    RecordRecognitionDecision,
    RecordReferralAnswer,
    RecordSchoolStatus,
    RecordTransfer,
    RecordVisit,
    RefuseTransferPlace,
    ReopenCase,
    RequestAssistance,
    RequestEligibilityCheck,
    WithdrawReferral,
)

GUARDIAN_ROWS: Final = 2
PARENTS: Final = ("father", "mother")
NEED_DOMAINS: Final = ("survival", "education", "health", "guardianship", "safety", "psychosocial")

FieldErrors = dict[str, str]

_Model = TypeVar("_Model", bound=BaseModel)

# What is wrong, by pydantic's error type, in words the page translates.
_MESSAGES: Final = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
    "too_short": "This field is required.",
    "string_pattern_mismatch": "The value does not have the expected form.",
    "string_too_long": "The value is too long.",
    "too_long": "The value is too long.",
    "greater_than_equal": "The value is too small.",
    "greater_than": "The value is too small.",
    "less_than_equal": "The value is too large.",
    "less_than": "The value is too large.",
}


class FormInvalid(Exception):
    def __init__(self, errors: FieldErrors) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form: FormData, name: str) -> str | None:
    return _text(form, name) or None


def _many(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str) and value]


def _message(error: Any) -> str:
    kind = str(error.get("type", ""))
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if "disability" in str(error.get("msg", "")):
        return "A severe disability needs its certificate grade and kind."
    if kind.endswith("_parsing") or kind.endswith("_type") or kind == "enum":
        return "The value does not have the expected form."
    # pydantic's own words name the rule, never the value sent
    return str(error.get("msg", "The value does not have the expected form.")).removeprefix(
        "Value error, "
    )


def _validated(
    model: type[_Model],
    data: dict[str, Any],
    *,
    below: dict[tuple[Any, ...], str] | None = None,
    whole: dict[tuple[Any, ...], str] | None = None,
) -> _Model:
    """`model` made of `data`, or `FormInvalid` naming the form's fields. Where the form's names
    differ from the model's: `below` renames what lies below a location (("parents", 0) ->
    "mother": "mother.since"), `whole` names the field for an error of the location itself (a
    model's own check: ("parents", 0) -> "mother.situation")."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        errors: FieldErrors = {}
        for error in invalid.errors():
            location = tuple(error["loc"])
            name = (whole or {}).get(location) or ".".join(str(part) for part in location)
            for prefix, renamed in (below or {}).items():
                if location[: len(prefix)] == prefix and len(location) > len(prefix):
                    name = ".".join([renamed, *(str(part) for part in location[len(prefix) :])])
                    break
            errors.setdefault(name or "form", _message(error))
        raise FormInvalid(errors) from None


def report_from(form: FormData) -> ChildReport:
    """The child's report a caseworker filled in."""
    guardians = []
    for row in range(GUARDIAN_ROWS):
        prefix = f"guardians.{row}"
        name, relation = _text(form, f"{prefix}.name"), _text(form, f"{prefix}.relation")
        if row > 0 and not (name or relation):
            continue  # the optional second guardian
        guardians.append(
            {
                "name": name,
                "relation": relation,
                "phone": _optional(form, f"{prefix}.phone"),
                "able_to_care": f"{prefix}.able_to_care" in form,
            }
        )
    parents: list[dict[str, str | None]] = []
    parent_names: dict[tuple[Any, ...], str] = {}  # ("parents", 0) -> "mother"
    for relation in PARENTS:
        situation = _text(form, f"{relation}.situation")
        if not situation:
            continue
        parent_names[("parents", len(parents))] = relation
        parents.append(
            {
                "relation": relation,
                "situation": situation,
                "since": _optional(form, f"{relation}.since"),
                "expected_end": _optional(form, f"{relation}.expected_end"),
                "disability_grade": _optional(form, f"{relation}.disability_grade"),
                "disability_kind": _optional(form, f"{relation}.disability_kind"),
            }
        )
    data = {
        "child": {
            "name": _text(form, "child.name"),
            "sex": _text(form, "child.sex"),
            "date_of_birth": _text(form, "child.date_of_birth"),
            "id_number": _optional(form, "child.id_number"),
        },
        "village": _text(form, "village"),
        "household": {
            "address": _text(form, "household.address"),
            "members": _text(form, "household.members") or 1,
        },
        "guardians": guardians,
        "parents": parents,
        "categories": _many(form, "categories"),
        "concerns": _many(form, "concerns"),
        "source": _text(form, "source") or "caseworker",
        "observations": _text(form, "observations"),
    }
    return _validated(
        ChildReport,
        data,
        below=parent_names,
        whole={location: f"{name}.situation" for location, name in parent_names.items()},
    )


def moment(value: str) -> datetime:
    """A moment typed in a form (`2025-05-01T14:03`, program time unless it says its offset)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=PROGRAM_TIMEZONE)


def assessment_from(form: FormData) -> RecordAssessment:
    return _validated(
        RecordAssessment,
        {
            "scores": {need: _text(form, f"scores.{need}") for need in NEED_DOMAINS},
            "categories": _many(form, "categories"),
            "summary": _text(form, "summary"),
        },
    )


def plan_from(form: FormData) -> RecordCasePlan:
    goals = [line.strip() for line in _text(form, "goals").splitlines() if line.strip()]
    return _validated(RecordCasePlan, {"goals": goals, "review_by": _optional(form, "review_by")})


def assistance_from(form: FormData) -> RequestAssistance:
    return _validated(
        RequestAssistance,
        {
            "kind": _text(form, "kind"),
            "quantity": _text(form, "quantity"),
            "unit": _text(form, "unit"),
            "value_yuan": _text(form, "value_yuan"),
            "purpose": _text(form, "purpose"),
        },
    )


def delivery_from(form: FormData, request_id: UUID) -> RecordDelivery:
    return _validated(
        RecordDelivery,
        {
            "request_id": request_id,
            "quantity": _text(form, "quantity"),
            "delivered_on": _text(form, "delivered_on"),
        },
    )


def visit_from(form: FormData) -> RecordVisit:
    typed = _text(form, "visited_at")
    try:
        visited_at: datetime | str = moment(typed)
    except ValueError:
        visited_at = typed  # left for the model to refuse, with the field named
    return _validated(
        RecordVisit,
        {
            "visited_at": visited_at,
            "visit_kind": _text(form, "visit_kind"),
            "observations": _text(form, "observations"),
        },
    )


def eligibility_check_from(form: FormData) -> RequestEligibilityCheck:
    return _validated(RequestEligibilityCheck, {"check": _text(form, "check")})


def referral_from(form: FormData) -> MakeReferral:
    return _validated(
        MakeReferral,
        {
            "agency_kind": _text(form, "agency_kind"),
            "agency": _text(form, "agency"),
            "service": _text(form, "service"),
        },
    )


def closure_from(form: FormData) -> ProposeClosure:
    return _validated(
        ProposeClosure,
        {
            "closure_reason": _text(form, "closure_reason"),
            "note": _text(form, "note"),
            "handover_to": _optional(form, "handover_to"),
        },
        whole={(): "handover_to"},
    )


def reopening_from(form: FormData) -> ReopenCase:
    return _validated(
        ReopenCase,
        {
            "reason": _text(form, "reason"),
            "source": _text(form, "source") or "caseworker",
            "concerns": _many(form, "concerns"),
            "observations": _text(form, "observations"),
        },
    )


def decision_from(form: FormData, approval_id: UUID) -> DecideApproval:
    return _validated(
        DecideApproval,
        {
            "approval_id": approval_id,
            "decision": _text(form, "decision"),
            "comment": _text(form, "comment"),
        },
    )


def guardian_change_from(form: FormData) -> ProposeGuardianChange:
    return _validated(
        ProposeGuardianChange,
        {
            "new_guardian": {
                "name": _text(form, "new_guardian.name"),
                "relation": _text(form, "new_guardian.relation"),
                "phone": _optional(form, "new_guardian.phone"),
                "able_to_care": "new_guardian.able_to_care" in form,
            },
            "reason": _text(form, "reason"),
        },
    )


def transfer_from(form: FormData) -> ProposeTransfer:
    return _validated(
        ProposeTransfer,
        {
            "destination_kind": _text(form, "destination_kind"),
            "destination": _text(form, "destination"),
            "reason": _text(form, "reason"),
        },
    )


def transfer_place_from(
    form: FormData, transfer_id: UUID
) -> ConfirmTransferPlace | RefuseTransferPlace:
    """The place confirmed (with its reference) or refused (with why), by the button pressed."""
    if _text(form, "answer") == "refused":
        return _validated(
            RefuseTransferPlace,
            {"transfer_id": transfer_id, "refused_because": _text(form, "note")},
            whole={("refused_because",): "note"},
        )
    return _validated(
        ConfirmTransferPlace,
        {"transfer_id": transfer_id, "place_reference": _optional(form, "note")},
        whole={("place_reference",): "note"},
    )


def arrival_from(form: FormData, transfer_id: UUID) -> RecordTransfer:
    return _validated(
        RecordTransfer,
        {
            "transfer_id": transfer_id,
            "transferred_on": _text(form, "transferred_on"),
            "note": _text(form, "note"),
        },
    )


def recognition_from(form: FormData) -> ApplyForRecognition:
    return ApplyForRecognition()


def recognition_decision_from(form: FormData, application_id: UUID) -> RecordRecognitionDecision:
    reasons = [line.strip() for line in _text(form, "reasons").splitlines() if line.strip()]
    return _validated(
        RecordRecognitionDecision,
        {
            "application_id": application_id,
            "decision": _text(form, "decision"),
            "reasons": reasons,
            "monthly_allowance_yuan": _optional(form, "monthly_allowance_yuan"),
        },
    )


def referral_answer_from(form: FormData, referral_id: UUID) -> RecordReferralAnswer:
    return _validated(
        RecordReferralAnswer,
        {"referral_id": referral_id, "answer": _text(form, "answer"), "note": _text(form, "note")},
    )


def withdrawal_from(form: FormData, referral_id: UUID) -> WithdrawReferral:
    return _validated(
        WithdrawReferral, {"referral_id": referral_id, "reason": _text(form, "reason")}
    )


def school_status_from(form: FormData) -> RecordSchoolStatus:
    return _validated(
        RecordSchoolStatus,
        {
            "status": _text(form, "status"),
            "school": _optional(form, "school"),
            "checked_on": _text(form, "checked_on"),
        },
    )


def eligibility_answer_from(form: FormData, check_id: UUID) -> RecordEligibilityAnswer:
    """The outside system's answer as staff entered it: why it gave no facts, or (for a school
    enrolment check) the school status it gave."""
    school_status = _optional(form, "facts.status")
    facts = (
        {
            "kind": "school_enrolment",
            "status": school_status,
            "school": _optional(form, "facts.school"),
        }
        if school_status
        else None
    )
    return _validated(
        RecordEligibilityAnswer,
        {"check_id": check_id, "facts": facts, "failure": _optional(form, "failure")},
        below={("facts", "school_enrolment"): "facts"},
        whole={(): "failure"},
    )


def correction_from(form: FormData) -> CorrectFact:
    """A correction's value is sent as typed: the fold reads it as the field's own type (a date,
    a number, yes or no), and refuses what does not fit."""
    return _validated(
        CorrectFact,
        {
            "event_id": _text(form, "event_id"),
            "field_path": _text(form, "field_path"),
            "value": _text(form, "value"),
            "reason": _text(form, "reason"),
        },
    )
