"""Who acts on a case: a user with one role over one area of the tree."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.areas import AreaCode, contains


class Role(StrEnum):
    caseworker = "caseworker"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"
    system = "system"  # the engine itself: timers, rules and outside systems' answers


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    role: Role
    area: AreaCode

    def reaches(self, area: str) -> bool:
        """Whether `area` (a case's village) lies inside this actor's area."""
        return contains(self.area, area)


def system_actor(area: str) -> Actor:
    """The engine acting on its own (a deadline passing, a rule deciding) within `area`."""
    return Actor(user_id="system", role=Role.system, area=area)
