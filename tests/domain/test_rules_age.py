"""Coming of age: the instant the case closes as `turned_18`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.rules.age import age_on, age_out_at

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("born", "age_out"),
    [
        (date(2008, 6, 15), datetime(2026, 6, 15, tzinfo=SHANGHAI)),
        (date(2008, 2, 29), datetime(2026, 3, 1, tzinfo=SHANGHAI)),  # no 29 February in 2026
        (date(2010, 2, 28), datetime(2028, 2, 28, tzinfo=SHANGHAI)),
        (date(2012, 2, 29), datetime(2030, 3, 1, tzinfo=SHANGHAI)),
        (date(2014, 2, 28), datetime(2032, 2, 28, tzinfo=SHANGHAI)),
    ],
)
def test_age_out_at_the_start_of_the_18th_birthday(born: date, age_out: datetime) -> None:
    assert age_out_at(born, SHANGHAI) == age_out


def test_age_out_is_local_midnight() -> None:
    at = age_out_at(date(2008, 6, 15), SHANGHAI)
    assert at.astimezone(UTC) == datetime(2026, 6, 14, 16, 0, tzinfo=UTC)


def test_17_until_the_birthday_and_18_from_it() -> None:
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
