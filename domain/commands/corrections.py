"""Corrections: a wrong fact is corrected by a new event, never by editing the old one.

What can be corrected is what the case holds: the report's child, household, guardians, parents
and observations (`report.child.date_of_birth`, `report.guardians.0.phone`), and a proposed
guardian (`new_guardian.phone`). The correction is checked by folding it: a path that does not
exist or a value that does not fit is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import JsonValue

from domain.actors import Actor
from domain.child import Text
from domain.commands.access import check_may_act
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import CaseEvent, FactCorrected
from domain.events.corrections import FieldPath
from domain.state import CaseState, FoldError, apply


class CorrectFact(Command):
    """`field_path` of the recorded event `event_id` should read `value`, because `reason`."""

    command: Literal["correct_fact"] = "correct_fact"
    event_id: UUID
    field_path: FieldPath
    value: JsonValue
    reason: Text


def decide_correct_fact(
    state: CaseState, command: CorrectFact, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="correct a recorded fact")
    corrected = FactCorrected(
        **header(actor, now, new_id, reason=command.reason),
        corrected_event_id=command.event_id,
        field_path=command.field_path,
        value=command.value,
    )
    try:
        apply(state, corrected)
    except FoldError as error:
        # Fold errors name ids and fields, never the values: safe to show.
        raise CommandRefused("not_correctable", f"this correction cannot apply: {error}") from None
    return [corrected]
