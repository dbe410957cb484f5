"""What a page says about a case, in the reader's language: what is pending and by when, a line
for each event of the timeline, how long an approval has left."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from api.cases import TimelineEntry
from api.web.i18n import duration, term, translate
from domain.state import CaseState, RecognitionStatus

MAX_VALUE_SHOWN: Final = 4000  # characters of a changed field's value on the diff page


@dataclass(frozen=True, slots=True)
class Pending:
    what: str
    deadline: datetime | None
    overdue: bool


def pending(state: CaseState, language: str, now: datetime) -> list[Pending]:
    """What the case waits for, soonest deadline first."""
    if not state.is_open:
        return []
    items: list[Pending] = []

    def add(what: str, deadline: datetime | None) -> None:
        items.append(Pending(what, deadline, deadline is not None and deadline <= now))

    if state.need_scores is None and state.assessment_due_at is not None:
        add(translate(language, "Assessment due"), state.assessment_due_at)
    for approval in state.pending_approvals.values():
        level = term(language, "level", approval.level)
        what = f"{term(language, 'approval_kind', approval.kind)} · "
        add(what + translate(language, "Approval by the {level}", level=level), approval.due_at)
    for referral in state.open_referrals.values():
        add(
            f"{translate(language, 'Referral answer due')} · {referral.agency}",
            referral.answer_due_at,
        )
    recognition = state.recognition
    if recognition is not None and recognition.status is RecognitionStatus.applied:
        add(
            translate(language, "Recognition: township verification due"),
            recognition.verification_due_at,
        )
    if recognition is not None and recognition.status is RecognitionStatus.verified:
        add(
            translate(language, "Recognition: county confirmation due"),
            recognition.confirmation_due_at,
        )
    if state.next_visit_due is not None:
        add(translate(language, "Next visit due"), state.next_visit_due)
    far_future = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(items, key=lambda item: item.deadline or far_future)


def time_left(language: str, due_at: datetime, now: datetime) -> str:
    """ "1 d 4 h left" or "overdue by 3 h", in the reader's language."""
    seconds = int((due_at - now).total_seconds())
    if seconds > 0:
        left = translate(language, "left")
        return (
            f"{left} {duration(language, seconds)}"
            if language == "zh"
            else (f"{duration(language, seconds)} {left}")
        )
    return f"{translate(language, 'overdue by')} {duration(language, -seconds)}"


def _facts_line(language: str, entry: TimelineEntry) -> list[str]:
    facts: dict[str, Any] = entry.facts
    kind = entry.type
    if kind == "PriorityAssigned":
        return [term(language, "priority", facts.get("priority"))]
    if kind == "AssessmentRecorded":
        risk = term(language, "risk", facts.get("risk_level"))
        return [f"{translate(language, 'Risk level')}: {risk}"]
    if kind == "AssistanceRequested":
        return [
            term(language, "assistance_kind", facts.get("kind")),
            f"{facts.get('quantity')} {facts.get('unit')}",
            f"{facts.get('value_yuan')} ¥",
        ]
    if kind == "AssistanceDelivered":
        return [
            term(language, "assistance_kind", facts.get("kind")),
            f"{facts.get('quantity')} {facts.get('unit')}",
            str(facts.get("delivered_on", "")),
        ]
    if kind == "ApprovalRequested":
        return [
            term(language, "approval_kind", facts.get("kind")),
            term(language, "level", facts.get("level")),
        ]
    if kind == "ApprovalEscalated":
        return [
            f"{term(language, 'level', facts.get('from_level'))} → "
            f"{term(language, 'level', facts.get('to_level'))}"
        ]
    if kind in ("ApprovalGranted", "ApprovalRejected"):
        return [str(facts.get("comment") or "")]
    if kind == "EscalationRaised":
        return [
            term(language, "breach", facts.get("breach")),
            term(language, "level", facts.get("level")),
        ]
    if kind in ("ClosureProposed", "CaseClosed"):
        return [term(language, "closure_reason", facts.get("closure_reason"))]
    if kind in ("EligibilityCheckRequested", "EligibilityCheckAnswered"):
        failure = facts.get("failure")
        return [term(language, "check_kind", facts.get("check"))] + (
            [term(language, "check_failure", failure)] if failure else []
        )
    if kind == "VisitRecorded":
        return [term(language, "visit_kind", facts.get("visit_kind"))]
    if kind == "ReferralRequested":
        return [term(language, "agency_kind", facts.get("agency_kind")), str(facts.get("agency"))]
    if kind == "CasePlanRecorded":
        goals = facts.get("goals") or []
        return [str(goal) for goal in goals[:3]]
    if kind == "SchoolStatusChecked":
        return [term(language, "school_status", facts.get("status"))]
    return []


def summary(language: str, entry: TimelineEntry) -> str:
    """One line saying what the event recorded, beyond its type."""
    return " · ".join(part for part in _facts_line(language, entry) if part)


def narrowed(before: Any, after: Any) -> tuple[Any, Any]:
    """Of a field's two JSON values, the parts that differ: objects keep only the keys whose
    values differ (all the way down), so a change to one approval shows that approval's changed
    fields under its id; anything else is shown whole."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return before, after
    keys = [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]
    parts = {key: narrowed(before.get(key), after.get(key)) for key in keys}
    return (
        {key: old for key, (old, _) in parts.items() if key in before},
        {key: new for key, (_, new) in parts.items() if key in after},
    )


def shown_value(value: Any) -> str:
    """A changed field's value on the diff page: JSON, cut short if very long."""
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    return text if len(text) <= MAX_VALUE_SHOWN else text[:MAX_VALUE_SHOWN] + " …"
