"""What needs approval, and who may decide it: separation of duties and the area checks."""

from __future__ import annotations

import pytest

from domain.actors import Actor, Role
from domain.errors import CommandRefused
from domain.rules.approvals import ApprovalKind, check_may_decide, needs_approval
from domain.rules.escalation import EscalationLevel

VILLAGE = "530627101201"
TOWNSHIP = "530627101"
OTHER_TOWNSHIP = "530627102"
COUNTY = "530627"
OTHER_COUNTY = "530628"
PREFECTURE = "5306"
PROVINCE = "53"
REQUESTER = "caseworker-7"


def supervisor(area: str, user_id: str = "supervisor-1") -> Actor:
    return Actor(user_id=user_id, role=Role.supervisor, area=area)


@pytest.mark.parametrize(
    "kind", [ApprovalKind.guardian_change, ApprovalKind.transfer, ApprovalKind.emergency_placement]
)
def test_always_needs_approval(kind: ApprovalKind) -> None:
    assert needs_approval(kind)


@pytest.mark.parametrize(
    ("value", "threshold", "needed"),
    [(1999, 2000, False), (2000, 2000, False), (2001, 2000, True), (501, 500, True), (0, 0, False)],
)
def test_assistance_needs_approval_only_above_the_threshold(
    value: int, threshold: int, needed: bool
) -> None:
    assert (
        needs_approval(ApprovalKind.assistance, value_yuan=value, threshold_yuan=threshold)
        is needed
    )


def test_the_default_threshold_is_2000_yuan() -> None:
    assert not needs_approval(ApprovalKind.assistance, value_yuan=2000)
    assert needs_approval(ApprovalKind.assistance, value_yuan=2001)


def test_assistance_without_a_value_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="value"):
        needs_approval(ApprovalKind.assistance)


@pytest.mark.parametrize(
    ("reason", "needed"),
    [
        ("turned_18", False),
        ("parent_returned", True),
        ("situation_resolved", True),
        ("moved_out_of_area", True),
        ("death", True),
        (None, True),
    ],
)
def test_closure_needs_approval_except_at_age_18(reason: str | None, needed: bool) -> None:
    assert needs_approval(ApprovalKind.closure, closure_reason=reason) is needed


def refusal(approver: Actor, level: EscalationLevel, requested_by: str = REQUESTER) -> str | None:
    try:
        check_may_decide(approver, requested_by=requested_by, case_village=VILLAGE, level=level)
    except CommandRefused as refused:
        return refused.code
    return None


@pytest.mark.parametrize("role", [Role.caseworker, Role.auditor, Role.admin, Role.system])
def test_only_supervisors_decide(role: Role) -> None:
    approver = Actor(user_id="someone", role=role, area=PROVINCE)
    assert refusal(approver, EscalationLevel.township) == "role_not_allowed"


def test_never_the_requester() -> None:
    approver = supervisor(TOWNSHIP, user_id=REQUESTER)
    assert refusal(approver, EscalationLevel.township) == "own_request"
    assert refusal(supervisor(TOWNSHIP), EscalationLevel.township) is None


def test_a_requester_is_refused_even_higher_up() -> None:
    approver = supervisor(COUNTY, user_id=REQUESTER)
    assert refusal(approver, EscalationLevel.county) == "own_request"


@pytest.mark.parametrize(
    ("area", "level", "code"),
    [
        # at the township: the township's supervisors, or anyone above it
        (TOWNSHIP, EscalationLevel.township, None),
        (COUNTY, EscalationLevel.township, None),
        (PREFECTURE, EscalationLevel.township, None),
        (OTHER_TOWNSHIP, EscalationLevel.township, "outside_area"),
        (OTHER_COUNTY, EscalationLevel.township, "outside_area"),
        (VILLAGE, EscalationLevel.township, "outside_area"),  # below the township
        # escalated to the county: the township may no longer decide
        (TOWNSHIP, EscalationLevel.county, "outside_area"),
        (COUNTY, EscalationLevel.county, None),
        (PREFECTURE, EscalationLevel.county, None),
        (OTHER_COUNTY, EscalationLevel.county, "outside_area"),
        # escalated to the prefecture
        (COUNTY, EscalationLevel.prefecture, "outside_area"),
        (PREFECTURE, EscalationLevel.prefecture, None),
        (PROVINCE, EscalationLevel.prefecture, None),
        ("5307", EscalationLevel.prefecture, "outside_area"),
    ],
)
def test_area_of_the_current_level(area: str, level: EscalationLevel, code: str | None) -> None:
    assert refusal(supervisor(area), level) == code


def test_the_role_is_checked_before_the_requester() -> None:
    approver = Actor(user_id=REQUESTER, role=Role.caseworker, area=TOWNSHIP)
    assert refusal(approver, EscalationLevel.township) == "role_not_allowed"


def test_refusals_say_what_to_do() -> None:
    with pytest.raises(CommandRefused) as refused:
        check_may_decide(
            supervisor(TOWNSHIP),
            requested_by=REQUESTER,
            case_village=VILLAGE,
            level=EscalationLevel.county,
        )
    assert refused.value.reason == (
        "this approval rests with county 530627, which is outside your area 530627101; "
        "a supervisor whose area contains 530627 must decide it"
    )
    with pytest.raises(CommandRefused) as refused:
        check_may_decide(
            supervisor(TOWNSHIP, user_id=REQUESTER),
            requested_by=REQUESTER,
            case_village=VILLAGE,
            level=EscalationLevel.township,
        )
    assert "another supervisor of the case's township" in refused.value.reason
