"""The arguments the read-model queries take, checked before they reach SQL."""

from __future__ import annotations

from typing import Final

from domain.areas import AreaLevel, level_of

MAX_PAGE: Final = 1000


def check_area(area: str) -> None:
    """Refuse anything but an area code: its digits become a LIKE prefix."""
    if not (area.isascii() and area.isdigit()):
        raise ValueError(f"{area!r} is not an area code: give 2, 4, 6, 9 or 12 digits")
    level_of(area)


def check_county(county: str) -> None:
    check_area(county)
    if level_of(county) is not AreaLevel.county:
        raise ValueError(f"{county} is not a county code: give its 6 digits")


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, not {offset}")
