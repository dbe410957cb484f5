"""The assistance ledger: one row per delivery of help to a child, with the event it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

import asyncpg

from domain.events import AssistanceDelivered
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from store.projections.arguments import check_area, check_page
from store.projections.base import Changes, Connection, ProjectedEvent, Projection, columns

# The batch's deliveries, in one statement.
INSERT_DELIVERIES: Final = """
INSERT INTO assistance_ledger (
    delivery_id, case_id, request_id, kind, assistance_group, quantity, unit, value_yuan,
    delivered_on, village, county, event_id, position
)
SELECT * FROM unnest(
    $1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::integer[], $7::text[],
    $8::bigint[], $9::date[], $10::text[], $11::text[], $12::uuid[], $13::bigint[]
)
"""
SELECT_LEDGER: Final = """
SELECT delivery_id, case_id, request_id, kind, assistance_group, quantity, unit, value_yuan,
       delivered_on, village, county, event_id, position
FROM assistance_ledger
WHERE village LIKE $1 || '%'
  AND ($2::uuid IS NULL OR case_id = $2)
ORDER BY position
LIMIT $3 OFFSET $4
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: UUID
    case_id: UUID
    request_id: UUID
    kind: AssistanceKind
    group: str  # ASSISTANCE_GROUP of the kind: what the program report counts it under
    quantity: int
    unit: str
    value_yuan: int
    delivered_on: date
    village: str
    county: str
    event_id: UUID
    position: int


class AssistanceLedgerProjection(Projection):
    name = "assistance_ledger"
    tables = ("assistance_ledger",)

    def changes(self) -> AssistanceLedgerChanges:
        return AssistanceLedgerChanges()


class AssistanceLedgerChanges(Changes):
    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def add(self, event: ProjectedEvent) -> None:
        delivered = event.event
        if not isinstance(delivered, AssistanceDelivered):
            return
        self._rows.append(
            (
                delivered.delivery_id,
                event.after.case_id,
                delivered.request_id,
                delivered.kind.value,
                ASSISTANCE_GROUP[delivered.kind],
                delivered.quantity,
                delivered.unit,
                delivered.value_yuan,
                delivered.delivered_on,
                event.after.village,
                event.after.county,
                event.event_id,
                event.position,
            )
        )

    async def write(self, connection: Connection) -> None:
        if self._rows:
            await connection.execute(INSERT_DELIVERIES, *columns(self._rows))


async def assistance_ledger(
    pool: asyncpg.Pool,
    *,
    area: str,
    case_id: UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Delivery]:
    """Deliveries to children of villages inside `area` (of one case, with `case_id`), in the
    order they were recorded."""
    check_area(area)
    check_page(limit, offset)
    rows = await pool.fetch(SELECT_LEDGER, area, case_id, limit, offset)
    return [
        Delivery(
            delivery_id=row["delivery_id"],
            case_id=row["case_id"],
            request_id=row["request_id"],
            kind=AssistanceKind(row["kind"]),
            group=row["assistance_group"],
            quantity=row["quantity"],
            unit=row["unit"],
            value_yuan=row["value_yuan"],
            delivered_on=row["delivered_on"],
            village=row["village"],
            county=row["county"],
            event_id=row["event_id"],
            position=row["position"],
        )
        for row in rows
    ]
