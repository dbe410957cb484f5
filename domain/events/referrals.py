"""Service referrals: an outside agency asked to do something for the child.

`requested → accepted | declined`, `accepted → completed`, or `withdrawn` while not completed.
The case reminds the agency when no answer comes, and escalates when the answer is overdue.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime

from domain.child import LongText, Text
from domain.events.base import EventBase


class AgencyKind(StrEnum):
    civil_affairs = "civil_affairs"
    school = "school"
    hospital = "hospital"
    ngo = "ngo"


class ReferralRequested(EventBase):
    type: Literal["ReferralRequested"] = "ReferralRequested"
    schema_version: Literal[1] = 1
    referral_id: UUID
    agency_kind: AgencyKind
    agency: Text
    service: Text
    remind_at: AwareDatetime
    answer_due_at: AwareDatetime
    rule: str
    rule_version: str


class ReferralAccepted(EventBase):
    type: Literal["ReferralAccepted"] = "ReferralAccepted"
    schema_version: Literal[1] = 1
    referral_id: UUID
    note: LongText = ""


class ReferralDeclined(EventBase):
    type: Literal["ReferralDeclined"] = "ReferralDeclined"
    schema_version: Literal[1] = 1
    referral_id: UUID
    declined_because: LongText


class ReferralCompleted(EventBase):
    type: Literal["ReferralCompleted"] = "ReferralCompleted"
    schema_version: Literal[1] = 1
    referral_id: UUID
    outcome: LongText = ""


class ReferralWithdrawn(EventBase):
    type: Literal["ReferralWithdrawn"] = "ReferralWithdrawn"
    schema_version: Literal[1] = 1
    referral_id: UUID


class ReferralReminded(EventBase):
    """The agency had not answered by the reminder time and was reminded."""

    type: Literal["ReferralReminded"] = "ReferralReminded"
    schema_version: Literal[1] = 1
    referral_id: UUID
    answer_due_at: AwareDatetime
