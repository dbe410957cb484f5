"""Age: when a child comes of age and the case closes on its own.

A case closes automatically at the start of the child's 18th birthday, in the program's time zone.
A child born on 29 February comes of age on 1 March in a year without a 29 February.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from domain.child import age_on, eighteenth_birthday

__all__ = ["ADULT_AGE", "RULE", "RULE_VERSION", "age_on", "age_out_at", "eighteenth_birthday"]

RULE = "closure.age_out"
RULE_VERSION = "2019.1"

ADULT_AGE = 18


def age_out_at(date_of_birth: date, tz: tzinfo) -> datetime:
    """The first instant of the 18th birthday in `tz`: when the case closes as `turned_18`."""
    return datetime.combine(eighteenth_birthday(date_of_birth), time.min, tzinfo=tz)
