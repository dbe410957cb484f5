"""Continue-as-new: a case hands over to a new run every `commands_per_run` commands, and nothing
is lost, repeated or answered twice on the way.

Temporal answers a repeated update id with the first outcome only within one run: the new run
of a continued case knows nothing of the old run's updates, and a client retrying a command across
the boundary (the API retrying with the same Idempotency-Key) would have it decided again (a
second assistance request, say). The case workflow therefore carries the ids of the previous run's
commands, with the events each recorded, into the next run (`CaseStart.answered`) and answers a
repeat from them; the test below proves it. The window is one run (500 commands by default):
a retry of a command from two runs ago would be decided again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.child import Guardian
from domain.commands import (
    ApprovalDecision,
    CaseCommand,
    DecideApproval,
    MakeReferral,
    ProposeGuardianChange,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordReferralAnswer,
    RecordSchoolStatus,
    RecordVisit,
    ReferralAnswer,
    RequestAssistance,
    RequestEligibilityCheck,
    WithdrawReferral,
)
from domain.events import AgencyKind, EligibilityCheckKind, SchoolStatus, VisitKind
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from domain.state import CaseState, CheckStatus, ProposalStatus
from tests.workflows.driver import (
    SUPERVISOR,
    CaseDriver,
    accepted_update_ids,
    raw_history,
    today,
)
from workflows.messages import CaseReply

COMMANDS_PER_RUN = 5
SCORES = NeedScores(survival=2, education=1, health=1, guardianship=2, safety=1, psychosocial=1)
AUNT = Guardian(name="Test Aunt", relation="aunt")


def assistance(value_yuan: int) -> RequestAssistance:
    return RequestAssistance(
        kind=AssistanceKind.food_pack, quantity=1, unit="pack", value_yuan=value_yuan
    )


def visit(minutes_ago: int) -> RecordVisit:
    return RecordVisit(
        visited_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        visit_kind=VisitKind.home,
        observations="Seen at home",
    )


async def run_ids(driver: CaseDriver, workflow_id: str, *, at_least: int) -> list[str]:
    """The case's runs, oldest first, once visibility lists `at_least` of them."""
    for _ in range(100):
        runs = [
            execution.run_id
            async for execution in driver.temporal.list_workflows(f"WorkflowId = '{workflow_id}'")
        ]
        if len(runs) >= at_least:
            return runs[::-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} has fewer than {at_least} runs: {runs}")


async def current_run(driver: CaseDriver, case_id: UUID) -> str:
    run_id = (await driver.handle(case_id).describe()).run_id
    assert run_id is not None
    return run_id


async def next_run(driver: CaseDriver, case_id: UUID, after: str) -> str:
    for _ in range(100):
        run_id = await current_run(driver, case_id)
        if run_id != after:
            return run_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"case {case_id} did not continue as new after run {after}")


async def test_twenty_commands_over_five_runs_lose_nothing_and_repeat_nothing(
    driver: CaseDriver,
) -> None:
    opened = await driver.open_case(commands_per_run=COMMANDS_PER_RUN)
    case_id = opened.case_id
    first_run = await current_run(driver, case_id)
    replies: dict[str, CaseReply] = {}

    async def send(number: int, command: CaseCommand, by: str | None = None) -> CaseReply:
        key = f"command-{case_id}-{number}"
        reply = await driver.send(case_id, command, key=key, **({"by": by} if by else {}))
        assert reply.event_ids, f"command {number} recorded nothing"
        replies[key] = reply
        return reply

    await send(1, RecordAssessment(scores=SCORES))
    await send(2, RequestEligibilityCheck(check=EligibilityCheckKind.household_registration))
    await send(3, RecordCasePlan(goals=("Food and school",)))
    food = await send(4, assistance(100))
    # The 5th command ends the first run while civil affairs is still being asked (maybe).
    await send(5, RequestEligibilityCheck(check=EligibilityCheckKind.parents_status))
    referral = await send(
        6, MakeReferral(agency_kind=AgencyKind.hospital, agency="Clinic", service="Check-up")
    )
    referral_id = next(iter(referral.state.referrals))
    await send(7, RecordReferralAnswer(referral_id=referral_id, answer=ReferralAnswer.accepted))
    await send(8, visit(30))
    proposed = await send(9, ProposeGuardianChange(new_guardian=AUNT, reason="Grandmother ill"))
    (approval_id,) = proposed.state.pending_approvals
    # Approved at the boundary: the next run registers the guardian with civil affairs.
    await send(
        10,
        DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve),
        by=SUPERVISOR,
    )
    await send(11, RequestEligibilityCheck(check=EligibilityCheckKind.school_enrolment))
    await send(12, assistance(200))
    await send(13, RecordReferralAnswer(referral_id=referral_id, answer=ReferralAnswer.completed))
    await send(14, RecordSchoolStatus(status=SchoolStatus.enrolled, checked_on=today()))
    third_run = await current_run(driver, case_id)
    fifteenth = await send(15, assistance(300))

    # The same update id again, once the run that answered it has continued as new: answered
    # with the first outcome, not decided again.
    fourth_run = await next_run(driver, case_id, after=third_run)
    version = await driver.stream_version(case_id)
    repeated = await driver.send(case_id, assistance(300), key=f"command-{case_id}-15")
    assert repeated.event_ids == fifteenth.event_ids
    assert await driver.stream_version(case_id) == version
    assert await current_run(driver, case_id) == fourth_run

    (food_id,) = food.state.assistance
    await send(16, RecordDelivery(request_id=food_id, quantity=1, delivered_on=today()))
    await send(17, visit(10))
    ngo = await send(
        18, MakeReferral(agency_kind=AgencyKind.ngo, agency="Partner NGO", service="Tutoring")
    )
    ngo_id = next(r for r in ngo.state.referrals if r != referral_id)
    await send(19, WithdrawReferral(referral_id=ngo_id, reason="Not needed"))
    await send(20, RecordAssessment(scores=SCORES.model_copy(update={"survival": 1})))

    def outside_work_done(state: CaseState) -> bool:
        return all(
            check.status is not CheckStatus.requested for check in state.eligibility_checks.values()
        ) and all(
            change.status is ProposalStatus.registered for change in state.guardian_changes.values()
        )

    final = await driver.wait_for(case_id, outside_work_done, what="the outside work done")
    assert len(final.eligibility_checks) == 3
    assert len(final.assistance) == 3  # 100, 200 and 300 yuan: the repeat made none
    await driver.assert_replay_matches(case_id)

    # The run chain: 20 commands at 5 per run.
    runs = await run_ids(driver, opened.workflow_id, at_least=5)
    assert len(set(runs)) == len(runs) == 5
    assert runs[0] == first_run
    assert runs[2] == third_run
    assert runs[3] == fourth_run

    # Every command's events are stored once, in one contiguous stream.
    stored = await driver.events.read_stream(opened.workflow_id)
    assert [event.version for event in stored] == list(range(1, len(stored) + 1))
    stored_ids = [event.event_id for event in stored]
    assert len(set(stored_ids)) == len(stored_ids)
    for key, reply in replies.items():
        positions = [stored_ids.index(event_id) for event_id in reply.event_ids]
        assert positions == sorted(positions), key
    commands_events = [event_id for reply in replies.values() for event_id in reply.event_ids]
    assert len(set(commands_events)) == len(commands_events)
    assert set(commands_events) <= set(stored_ids)
    engine_events = [e for e in stored if e.event_id not in set(commands_events)]
    # Opening (2 events), three checks answered and one guardian registered: nothing else.
    assert sorted(e.type for e in engine_events) == sorted(
        [
            "CaseOpened",
            "PriorityAssigned",
            *["EligibilityCheckAnswered"] * 3,
            "GuardianChangeRegistered",
        ]
    )
    # Civil affairs registered the guardian once, across the runs that followed the case.
    registrations = [
        effect
        for effect in (await driver.journal("civil_affairs")).effects
        if effect.operation == "guardianship" and str(case_id) in effect.idempotency_key
    ]
    assert len(registrations) == 1

    # Each command was accepted by exactly one run (the deliberate repeat by two).
    accepted: list[str] = []
    for run_id in runs:
        history = await raw_history(driver.temporal, opened.workflow_id, run_id=run_id)
        accepted += [key for key in accepted_update_ids(history) if key.startswith("command-")]
    assert sorted(accepted) == sorted([*replies, f"command-{case_id}-15"])


async def test_commands_sent_together_across_the_boundary_are_each_applied_once(
    driver: CaseDriver,
) -> None:
    opened = await driver.open_case(commands_per_run=COMMANDS_PER_RUN)
    case_id = opened.case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    # Eight at once (Temporal takes at most 10 updates in flight per workflow): the run hands
    # over after five of them, and the others wait for, or are retried on, the next run.
    replies = await asyncio.gather(
        *(
            driver.send(case_id, assistance(10 + number), key=f"together-{case_id}-{number}")
            for number in range(8)
        )
    )
    event_ids = [event_id for reply in replies for event_id in reply.event_ids]
    assert len(event_ids) == len(set(event_ids)) == 8
    state = await driver.assert_replay_matches(case_id)
    assert sorted(request.value_yuan for request in state.assistance.values()) == [
        10 + number for number in range(8)
    ]
    stored = await driver.events.read_stream(opened.workflow_id)
    assert [event.version for event in stored] == list(range(1, len(stored) + 1))
    assert len(stored) == 2 + 1 + 8
    assert len(await run_ids(driver, opened.workflow_id, at_least=2)) >= 2
