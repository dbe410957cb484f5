"""Transfer to a child welfare institution or a boarding school: proposed, approved by a
supervisor, a place confirmed (or refused) by the institution or school system, then the child
moves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from domain.actors import Actor
from domain.child import LongText, Text
from domain.commands.access import ANSWERING, check_may_act, check_not_future, not_found
from domain.commands.approvals import approval_requested
from domain.commands.base import Command
from domain.commands.recording import NewId, header
from domain.errors import CommandRefused
from domain.events import (
    CaseEvent,
    ChildTransferred,
    DestinationKind,
    TransferPlaceConfirmed,
    TransferPlaceRefused,
    TransferProposed,
)
from domain.rules import approvals
from domain.rules.approvals import ApprovalKind
from domain.state import IN_PROGRESS_TRANSFER, CaseState, Transfer, TransferStatus


class ProposeTransfer(Command):
    command: Literal["propose_transfer"] = "propose_transfer"
    destination_kind: DestinationKind
    destination: Text
    reason: Text


def decide_propose_transfer(
    state: CaseState, command: ProposeTransfer, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="propose a transfer")
    for transfer in state.transfers.values():
        if transfer.status in IN_PROGRESS_TRANSFER:
            raise CommandRefused(
                "in_progress",
                f"transfer {transfer.transfer_id} is already {transfer.status}; "
                "finish it before proposing another",
            )
    proposed = TransferProposed(
        **header(actor, now, new_id, reason=command.reason),
        transfer_id=new_id(),
        destination_kind=command.destination_kind,
        destination=command.destination,
    )
    return [
        proposed,
        approval_requested(
            state,
            kind=ApprovalKind.transfer,
            subject_id=proposed.transfer_id,
            emergency=False,
            rule=approvals.RULE,
            rule_version=approvals.RULE_VERSION,
            actor=actor,
            now=now,
            new_id=new_id,
            cause=proposed.event_id,
        ),
    ]


class ConfirmTransferPlace(Command):
    """The institution or school system confirmed a place for the approved transfer."""

    command: Literal["confirm_transfer_place"] = "confirm_transfer_place"
    transfer_id: UUID
    place_reference: Text | None = None


class RefuseTransferPlace(Command):
    """The institution or school system has no place for the approved transfer."""

    command: Literal["refuse_transfer_place"] = "refuse_transfer_place"
    transfer_id: UUID
    refused_because: Text


def decide_confirm_transfer_place(
    state: CaseState,
    command: ConfirmTransferPlace,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a transfer place", roles=ANSWERING)
    transfer = _transfer(state, command.transfer_id, TransferStatus.approved)
    return [
        TransferPlaceConfirmed(
            **header(actor, now, new_id),
            transfer_id=transfer.transfer_id,
            place_reference=command.place_reference,
        )
    ]


def decide_refuse_transfer_place(
    state: CaseState,
    command: RefuseTransferPlace,
    *,
    actor: Actor,
    now: datetime,
    new_id: NewId,
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a transfer place", roles=ANSWERING)
    transfer = _transfer(state, command.transfer_id, TransferStatus.approved)
    return [
        TransferPlaceRefused(
            **header(actor, now, new_id),
            transfer_id=transfer.transfer_id,
            refused_because=command.refused_because,
        )
    ]


class RecordTransfer(Command):
    """The child moved to the confirmed place."""

    command: Literal["record_transfer"] = "record_transfer"
    transfer_id: UUID
    transferred_on: date
    note: LongText = ""


def decide_record_transfer(
    state: CaseState, command: RecordTransfer, *, actor: Actor, now: datetime, new_id: NewId
) -> list[CaseEvent]:
    check_may_act(state, actor, doing="record a transfer")
    transfer = _transfer(state, command.transfer_id, TransferStatus.place_confirmed)
    check_not_future(command.transferred_on, now=now, what="transfer date")
    return [
        ChildTransferred(
            **header(actor, now, new_id, reason=command.note or None),
            transfer_id=transfer.transfer_id,
            transferred_on=command.transferred_on,
        )
    ]


def _transfer(state: CaseState, transfer_id: UUID, expected: TransferStatus) -> Transfer:
    transfer = state.transfers.get(transfer_id)
    if transfer is None:
        raise not_found("transfer", transfer_id)
    if transfer.status is not expected:
        raise CommandRefused(
            "wrong_stage",
            f"transfer {transfer_id} is {transfer.status}; this needs it {expected}",
        )
    return transfer
