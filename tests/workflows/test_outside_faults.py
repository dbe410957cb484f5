"""Outside systems that fail half the time: every case still finishes its outside work, and
nothing is missing or done twice, in the event store or in the outside systems.

Both simulators fail one call in two: half of the failures answer 500 at once, half hang past the
engine's patience (`OUTSIDE_CALL_TIMEOUT_SECONDS`, the client's read timeout); half fail before
doing the work and half after it (the caller cannot tell the two apart). Several cases go through
the three eligibility checks, a guardian change registered with civil affairs and a transfer
whose place is reserved by civil affairs or the school system, all at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import UUID

import httpx

from domain.child import Guardian
from domain.commands import (
    ApprovalDecision,
    DecideApproval,
    ProposeGuardianChange,
    ProposeTransfer,
    RecordAssessment,
    RecordCasePlan,
    RecordTransfer,
    RequestEligibilityCheck,
)
from domain.events import (
    DestinationKind,
    EligibilityCheckAnswered,
    EligibilityCheckKind,
    GuardianChangeRegistered,
    TransferPlaceConfirmed,
)
from domain.rules.risk import NeedScores
from domain.state import CaseState, CheckStatus, ProposalStatus, TransferStatus
from integrations.simulation.service import Effect
from tests.workflows.driver import SUPERVISOR, CaseDriver, a_report, today

# The engine gives up on an answer after 1 s (the simulators hang for 1.5 s), and retries.
OUTSIDE_CALL_TIMEOUT_SECONDS = 1.0
HANG_SECONDS = 1.5
CASES = 4
# Every case must be done by then, failures, hangs and Temporal's retry backoff included.
WITHIN_SECONDS = 150

SCORES = NeedScores(survival=2, education=2, health=1, guardianship=3, safety=1, psychosocial=2)


def outside_work_done(state: CaseState) -> bool:
    return (
        len(state.eligibility_checks) == 3
        and all(c.status is not CheckStatus.requested for c in state.eligibility_checks.values())
        and all(g.status is ProposalStatus.registered for g in state.guardian_changes.values())
        and all(t.status is not TransferStatus.approved for t in state.transfers.values())
    )


async def one_case(driver: CaseDriver, number: int) -> UUID:
    """A case through checks, a guardian change and a transfer, each approved; its id."""
    opened = await driver.open_case(a_report(name=f"Fault Child {number}"))
    case_id = opened.case_id
    for kind in EligibilityCheckKind:
        await driver.send(case_id, RequestEligibilityCheck(check=kind))
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await driver.send(case_id, RecordCasePlan(goals=("A safe home",)))
    proposed = await driver.send(
        case_id,
        ProposeGuardianChange(
            new_guardian=Guardian(name=f"Fault Uncle {number}", relation="uncle"),
            reason="The grandmother cannot care",
        ),
    )
    (approval_id,) = proposed.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    destination = DestinationKind.institution if number % 2 else DestinationKind.boarding_school
    transfer = await driver.send(
        case_id,
        ProposeTransfer(destination_kind=destination, destination="A place", reason="Safety"),
    )
    (approval_id,) = transfer.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    done = await driver.wait_for(
        case_id, outside_work_done, what="the outside work", within=WITHIN_SECONDS
    )
    (transfer_id,) = done.transfers
    await driver.send(case_id, RecordTransfer(transfer_id=transfer_id, transferred_on=today()))
    return case_id


async def test_cases_finish_with_nothing_missing_or_doubled_when_outside_systems_fail(
    driver: CaseDriver,
) -> None:
    await driver.configure_simulators(
        failure_rate=0.5, failure_kind="mixed", failure_timing="mixed", hang_seconds=HANG_SECONDS
    )
    async with asyncio.timeout(WITHIN_SECONDS):
        case_ids = await asyncio.gather(*(one_case(driver, n) for n in range(CASES)))
    await driver.configure_simulators()

    civil_affairs = await driver.journal("civil_affairs")
    school = await driver.journal("school")
    # The faults happened, of both kinds of timing.
    assert civil_affairs.failures_injected > 0
    assert school.failures_injected > 0
    # Each idempotency key's effect was applied once.
    effects = civil_affairs.effects + school.effects
    keys = Counter((effect.operation, effect.idempotency_key) for effect in effects)
    assert all(count == 1 for count in keys.values()), keys

    all_event_ids: list[UUID] = []
    for case_id in case_ids:
        state = await driver.assert_replay_matches(case_id)
        stored = await driver.events.read_stream(f"case-{case_id}")
        assert [event.version for event in stored] == list(range(1, len(stored) + 1))
        all_event_ids += [event.event_id for event in stored]
        events = await driver.stored(case_id)

        # Three checks, each answered once, by the systems (retried until they answered).
        answers = [e for e in events if isinstance(e, EligibilityCheckAnswered)]
        assert sorted(a.check for a in answers) == sorted(EligibilityCheckKind)
        assert len({a.check_id for a in answers}) == 3
        assert all(a.facts is not None for a in answers)
        assert all(c.status is CheckStatus.answered for c in state.eligibility_checks.values())

        # The guardian registered once, under the registration civil affairs made, once.
        (registered,) = [e for e in events if isinstance(e, GuardianChangeRegistered)]
        (registration,) = effects_of(effects, "guardianship", case_id)
        assert registered.registration_reference == registration.resource

        # One place reserved, once, and the transfer made to it.
        (confirmed,) = [e for e in events if isinstance(e, TransferPlaceConfirmed)]
        (reservation,) = effects_of(effects, ("reservation", "boarding"), case_id)
        assert confirmed.place_reference == reservation.resource
        (transfer,) = state.transfers.values()
        assert transfer.status is TransferStatus.transferred
    assert len(set(all_event_ids)) == len(all_event_ids)


async def effect_done(driver: CaseDriver, system: str, operation: str, case_id: UUID) -> Effect:
    """The effect, once the simulator did it (its answer may not have reached the engine)."""
    for _ in range(200):
        done = effects_of((await driver.journal(system)).effects, operation, case_id)
        if done:
            (effect,) = done
            return effect
        await asyncio.sleep(0.05)
    raise AssertionError(f"{system} did no {operation} for case {case_id}")


async def places_free(driver: CaseDriver, county: str) -> int:
    async with httpx.AsyncClient(base_url=driver.simulator_urls["civil_affairs"]) as http:
        answer = await http.get("/v1/institution-places", params={"county": county})
    assert answer.status_code == 200, answer.text
    return sum(institution["available"] for institution in answer.json()["institutions"])


async def test_work_done_but_never_answered_is_answered_from_the_record_not_done_again(
    driver: CaseDriver,
) -> None:
    """Deterministic: every call fails after its effect until the effect is seen done."""
    opened = await driver.open_case(a_report(name="Unanswered Child"))
    case_id = opened.case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    replays_before = (await driver.journal("civil_affairs")).replays

    # Civil affairs registers the guardian, then answers 500.
    await driver.configure_simulators(failure_rate=1, failure_kind="error", failure_timing="after")
    proposed = await driver.send(
        case_id,
        ProposeGuardianChange(
            new_guardian=Guardian(name="Unanswered Aunt", relation="aunt"), reason="Frail"
        ),
    )
    (approval_id,) = proposed.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    registration = await effect_done(driver, "civil_affairs", "guardianship", case_id)
    await driver.configure_simulators()
    registered = await driver.wait_for(
        case_id,
        lambda s: all(g.status is ProposalStatus.registered for g in s.guardian_changes.values()),
        what="the guardian registered",
    )
    (change,) = registered.guardian_changes
    (event,) = [e for e in await driver.stored(case_id) if isinstance(e, GuardianChangeRegistered)]
    assert event.change_id == change
    assert event.registration_reference == registration.resource

    # Civil affairs reserves a place, then says nothing past the engine's patience.
    free = await places_free(driver, registered.county)
    await driver.configure_simulators(
        failure_rate=1, failure_kind="hang", failure_timing="after", hang_seconds=HANG_SECONDS
    )
    transfer = await driver.send(
        case_id,
        ProposeTransfer(
            destination_kind=DestinationKind.institution, destination="Institution", reason="Care"
        ),
    )
    (approval_id,) = transfer.state.pending_approvals
    await driver.send(
        case_id,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    reservation = await effect_done(driver, "civil_affairs", "reservation", case_id)
    await driver.configure_simulators()
    placed = await driver.wait_for(
        case_id,
        lambda s: all(t.status is TransferStatus.place_confirmed for t in s.transfers.values()),
        what="the place confirmed",
    )
    (confirmed,) = [
        e for e in await driver.stored(case_id) if isinstance(e, TransferPlaceConfirmed)
    ]
    assert confirmed.place_reference == reservation.resource
    assert await places_free(driver, placed.county) == free - 1  # one place taken, not two

    civil_affairs = await driver.journal("civil_affairs")
    assert civil_affairs.replays >= replays_before + 2  # both retries answered from the record
    assert len(effects_of(civil_affairs.effects, "guardianship", case_id)) == 1
    assert len(effects_of(civil_affairs.effects, "reservation", case_id)) == 1
    await driver.assert_replay_matches(case_id)


def effects_of(
    effects: list[Effect], operation: str | tuple[str, ...], case_id: UUID
) -> list[Effect]:
    operations = (operation,) if isinstance(operation, str) else operation
    return [e for e in effects if e.operation in operations and str(case_id) in e.idempotency_key]
