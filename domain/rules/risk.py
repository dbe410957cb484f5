"""Assessment: the risk level that follows from the needs scores.

Needs are scored 0 (no need) to 3 (severe need) in six domains. The risk level is the first that
applies, from the top:

- `very_high`: a severe need (3) in safety or guardianship: the child may be abused, neglected or
  without anyone able to care, whatever the other scores;
- `high`: a severe need (3) in any other domain, or a total of 10 or more (wide need);
- `moderate`: a serious need (2) in any domain, or a total of 5 or more;
- `low`: everything else.

Raising a score never lowers the level, so a reassessment that finds more need cannot reduce the
monitoring a child gets.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

RULE = "assessment.risk_level"
RULE_VERSION = "2019.1"

SEVERE = 3
SERIOUS = 2
HIGH_TOTAL = 10
MODERATE_TOTAL = 5

Score = Annotated[int, Field(ge=0, le=3)]


class NeedScores(BaseModel):
    """Needs in the six assessment domains, each 0 (none) to 3 (severe)."""

    model_config = ConfigDict(frozen=True)

    survival: Score  # food, clothing, hygiene, bedding
    education: Score  # enrolment, drop-out risk, fees
    health: Score  # illness, disability, nutrition
    guardianship: Score  # caregiver capacity
    safety: Score  # abuse, neglect, hazards
    psychosocial: Score

    @property
    def total(self) -> int:
        return (
            self.survival
            + self.education
            + self.health
            + self.guardianship
            + self.safety
            + self.psychosocial
        )

    @property
    def highest(self) -> int:
        return max(
            self.survival,
            self.education,
            self.health,
            self.guardianship,
            self.safety,
            self.psychosocial,
        )


class RiskLevel(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"
    very_high = "very_high"


def risk_level(scores: NeedScores) -> RiskLevel:
    if SEVERE in (scores.safety, scores.guardianship):
        return RiskLevel.very_high
    if scores.highest == SEVERE or scores.total >= HIGH_TOTAL:
        return RiskLevel.high
    if scores.highest == SERIOUS or scores.total >= MODERATE_TOTAL:
        return RiskLevel.moderate
    return RiskLevel.low
