"""The assistance ledger: one row per delivery of help to a child, with the event it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final
from uuid import UUID

import asyncpg

from domain.events import AssistanceDelivered
from domain.rules.assistance import ASSISTANCE_GROUP, AssistanceKind
from store.projections.arguments import check_area, check_page
from store.projections.base import Connection, ProjectedEvent, Projection

INSERT_DELIVERY: Final = """
INSERT INTO assistance_ledger (
    delivery_id, case_id, request_id, kind, assistance_group, quantity, unit, value_yuan,
    delivered_on, village, county, event_id, position
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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

    async def handle(self, connection: Connection, event: ProjectedEvent) -> None:
        delivered = event.event
        if not isinstance(delivered, AssistanceDelivered):
            return
        await connection.execute(
            INSERT_DELIVERY,
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
