"""The area tree: province > prefecture > county > township > village.

An area is written as the significant prefix of its administrative division code: 2 digits for a
province (`53`), 4 for a prefecture (`5306`), 6 for a county (`530627`), 9 for a township
(`530627101`) and 12 for a village (`530627101201`). With that spelling, "inside" is a prefix test,
so checking a user's reach over a case needs no lookup.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints


class AreaLevel(StrEnum):
    province = "province"
    prefecture = "prefecture"
    county = "county"
    township = "township"
    village = "village"


_LEVEL_BY_LENGTH = {
    2: AreaLevel.province,
    4: AreaLevel.prefecture,
    6: AreaLevel.county,
    9: AreaLevel.township,
    12: AreaLevel.village,
}
_LENGTH_BY_LEVEL = {level: length for length, level in _LEVEL_BY_LENGTH.items()}

AreaCode = Annotated[
    str,
    StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$"),
]
VillageCode = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]


def level_of(area: str) -> AreaLevel:
    try:
        return _LEVEL_BY_LENGTH[len(area)]
    except KeyError:
        raise ValueError(f"{area!r} is not an area code of 2, 4, 6, 9 or 12 digits") from None


def contains(scope: str, area: str) -> bool:
    """True when `area` is `scope` itself or lies below it in the tree."""
    return area.startswith(scope)


def ancestor(area: str, level: AreaLevel) -> str:
    """The area at `level` that contains `area` (the area itself when already at that level)."""
    length = _LENGTH_BY_LEVEL[level]
    if len(area) < length:
        raise ValueError(f"area {area} is above the {level} level")
    return area[:length]


def parent(area: str) -> str | None:
    lengths = sorted(_LEVEL_BY_LENGTH)
    index = lengths.index(len(area))
    return area[: lengths[index - 1]] if index > 0 else None
