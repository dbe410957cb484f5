"""Assistance: the kinds of help a case plan delivers, and which deliveries need approval.

One-off assistance worth more than the threshold (default 2,000 yuan) needs a supervisor's
approval; at or below it the caseworker delivers on their own authority. The monthly basic living
allowance is not a one-off: it follows from the de facto orphan recognition that civil affairs has
already decided, so no delivery of it needs approval, whatever the amount.
"""

from __future__ import annotations

from enum import StrEnum

RULE = "assistance.approval_threshold"
RULE_VERSION = "2019.1"

APPROVAL_THRESHOLD_YUAN = 2000


class AssistanceKind(StrEnum):
    # survival
    food_pack = "food_pack"
    hygiene_kit = "hygiene_kit"
    winter_clothes = "winter_clothes"
    quilt = "quilt"
    # school
    tuition_and_fees = "tuition_and_fees"
    school_supplies = "school_supplies"
    tuition_waiver = "tuition_waiver"
    # the rest, one group each
    living_allowance = "living_allowance"
    medical_aid = "medical_aid"
    counselling = "counselling"
    temporary_shelter = "temporary_shelter"
    companionship_visit = "companionship_visit"
    daily_care = "daily_care"


# The groups the program report counts person-times in (e.g. "10,447 survival assistance").
ASSISTANCE_GROUP: dict[AssistanceKind, str] = {
    AssistanceKind.food_pack: "survival",
    AssistanceKind.hygiene_kit: "survival",
    AssistanceKind.winter_clothes: "survival",
    AssistanceKind.quilt: "survival",
    AssistanceKind.tuition_and_fees: "school",
    AssistanceKind.school_supplies: "school",
    AssistanceKind.tuition_waiver: "school",
    AssistanceKind.living_allowance: "living_allowance",
    AssistanceKind.medical_aid: "medical",
    AssistanceKind.counselling: "psychosocial",
    AssistanceKind.temporary_shelter: "care",
    AssistanceKind.companionship_visit: "psychosocial",
    AssistanceKind.daily_care: "care",
}


def assistance_needs_approval(
    kind: AssistanceKind, value_yuan: int, *, threshold_yuan: int = APPROVAL_THRESHOLD_YUAN
) -> bool:
    """Whether delivering this assistance needs a supervisor's approval first.

    Only a value strictly above the threshold does: exactly 2,000 yuan is within a caseworker's
    authority.
    """
    if kind is AssistanceKind.living_allowance:
        return False
    return value_yuan > threshold_yuan
