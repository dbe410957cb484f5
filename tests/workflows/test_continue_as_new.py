"""Continue-as-new: a case hands over to a new run every `commands_per_run` commands, and nothing
is lost, repeated or answered twice on the way.

Temporal answers a repeated update id with the first outcome only within one run: the new run
of a continued case knows nothing of the old run's updates, and a client retrying a command across
the boundary (the API retrying with the same Idempotency-Key) had it decided again (a second
assistance request, say) — these tests found that. The case workflow now carries the update ids
of its latest commands (`REMEMBERED_COMMANDS`, 500), with the events each recorded, into the next
run (`CaseStart.answered`) and answers a repeat from them. A retry of a command more than 500
commands old would be decided again (and refused by the domain where the command no longer
fits); retries come within minutes, long before.

A run ends at the first quiet moment after its `commands_per_run`-th command (see
`CaseWorkflow._settle`), so a run may take a few more commands than that while they keep coming.
The last tests here race outside answers and a recognition against the end of a run: they found
three more ways a case could be stuck or wrong after continue-as-new (see their docstrings).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

from temporalio.client import WorkflowExecutionStatus

from domain.child import Guardian
from domain.commands import (
    ApplyForRecognition,
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
from domain.state import CaseState, CheckStatus, ProposalStatus, RecognitionStatus
from tests.workflows.driver import (
    SUPERVISOR,
    CaseDriver,
    accepted_update_ids,
    failed_workflow_tasks,
    raw_history,
    today,
)
from workflows.messages import CaseReply
from workflows.recognition import recognition_workflow_id

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


def outside_work_done(state: CaseState) -> bool:
    return all(
        check.status is not CheckStatus.requested for check in state.eligibility_checks.values()
    ) and all(
        change.status is ProposalStatus.registered for change in state.guardian_changes.values()
    )


async def run_ids(
    driver: CaseDriver, workflow_id: str, *, at_least: int = 1, including: str | None = None
) -> list[str]:
    """The case's runs, oldest first, once visibility lists `at_least` of them (and the run
    `including`)."""
    for _ in range(100):
        runs = [
            execution.run_id
            async for execution in driver.temporal.list_workflows(f"WorkflowId = '{workflow_id}'")
        ]
        if len(runs) >= at_least and (including is None or including in runs):
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


async def test_twenty_commands_over_several_runs_lose_nothing_and_repeat_nothing(
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
    # The 5th command ends the first run, maybe while civil affairs is still being asked.
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
    await driver.wait_for(case_id, outside_work_done, what="the outside work done")
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

    final = await driver.wait_for(case_id, outside_work_done, what="the outside work done")
    assert len(final.eligibility_checks) == 3
    assert len(final.assistance) == 3  # 100, 200 and 300 yuan: the repeat made none
    await driver.assert_replay_matches(case_id)

    # The run chain: 20 commands, a new run after at least 5 (a run ends at the first quiet
    # moment after its 5th command, so one may take a few more).
    runs = await run_ids(
        driver, opened.workflow_id, at_least=3, including=await current_run(driver, case_id)
    )
    assert len(set(runs)) == len(runs) >= 3
    assert runs[0] == first_run
    assert runs.index(fourth_run) == runs.index(third_run) + 1

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
    # Eight at once (Temporal takes at most 10 updates in flight per workflow): the run reaches
    # its five commands with others in flight, finishes those, and hands over.
    replies = await asyncio.gather(
        *(
            driver.send(case_id, assistance(10 + number), key=f"together-{case_id}-{number}")
            for number in range(8)
        )
    )
    event_ids = [event_id for reply in replies for event_id in reply.event_ids]
    assert len(event_ids) == len(set(event_ids)) == 8
    # The client retries them all (its answers were lost, say): answered, not applied again.
    retried = await asyncio.gather(
        *(
            driver.send(case_id, assistance(10 + number), key=f"together-{case_id}-{number}")
            for number in range(8)
        )
    )
    assert [reply.event_ids for reply in retried] == [reply.event_ids for reply in replies]
    state = await driver.assert_replay_matches(case_id)
    assert sorted(request.value_yuan for request in state.assistance.values()) == [
        10 + number for number in range(8)
    ]
    stored = await driver.events.read_stream(opened.workflow_id)
    assert [event.version for event in stored] == list(range(1, len(stored) + 1))
    assert len(stored) == 2 + 1 + 8
    assert len(await run_ids(driver, opened.workflow_id, at_least=2)) >= 2


async def test_a_recognition_answer_reaches_the_case_after_it_continued_as_new(
    driver: CaseDriver,
) -> None:
    """The Recognition child outlives the run that started it and signals the case by workflow
    id; the runs after it find the application already followed and do not apply again."""
    opened = await driver.open_case(commands_per_run=2)
    case_id = opened.case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    # Civil affairs verifies at its second poll (10 s later) and confirms at the third.
    await driver.configure_simulators(
        decision_mode="late", late_after_polls=1, late_after_seconds=1
    )
    applying_run = await current_run(driver, case_id)
    applied = (await driver.send(case_id, ApplyForRecognition())).state.recognition
    assert applied is not None
    # Two more runs while civil affairs decides.
    second_run = await next_run(driver, case_id, after=applying_run)
    await driver.send(case_id, visit(20))
    await driver.send(case_id, visit(10))
    await next_run(driver, case_id, after=second_run)

    confirmed = await driver.wait_for(
        case_id,
        lambda s: s.recognition is not None and s.recognition.status is RecognitionStatus.confirmed,
        what="recognition confirmed",
    )
    assert confirmed.recognition is not None
    assert confirmed.recognition.application_id == applied.application_id
    recognition_events = [
        event.type
        for event in await driver.stored(case_id)
        if event.type.startswith(("Recognition", "Allowance"))
    ]
    assert recognition_events == [
        "RecognitionApplied",
        "RecognitionVerified",
        "RecognitionConfirmed",
        "AllowanceStarted",
    ]
    for run_id in await run_ids(driver, opened.workflow_id, at_least=3):
        history = await raw_history(driver.temporal, opened.workflow_id, run_id=run_id)
        assert not failed_workflow_tasks(history), run_id
    applications = [
        effect
        for effect in (await driver.journal("civil_affairs")).effects
        if effect.operation == "recognition" and str(case_id) in effect.idempotency_key
    ]
    assert len(applications) == 1
    await driver.assert_replay_matches(case_id)


async def applied_as_the_run_ends(driver: CaseDriver) -> tuple[UUID, UUID]:
    """A case that applies for recognition together with the command that ends its run."""
    case_id = (await driver.open_case(commands_per_run=3)).case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await asyncio.gather(
        driver.send(case_id, ApplyForRecognition()), driver.send(case_id, visit(5))
    )
    recognition = (await driver.state(case_id)).recognition
    assert recognition is not None
    return case_id, recognition.application_id


async def test_a_recognition_applied_for_as_the_run_ends_is_still_followed(
    driver: CaseDriver,
) -> None:
    """The run that ends must not cancel the start of the Recognition child it just began: that
    cancelled the child itself (and the next run could not start it again), and the case waited
    for a decision forever — in about one case in four before the fix."""
    applications = await asyncio.gather(*(applied_as_the_run_ends(driver) for _ in range(10)))
    for case_id, application_id in applications:
        await driver.wait_for(
            case_id,
            lambda s: (
                s.recognition is not None and s.recognition.status is RecognitionStatus.confirmed
            ),
            what="recognition confirmed",
        )
        child = driver.temporal.get_workflow_handle(
            recognition_workflow_id(case_id, application_id)
        )
        assert (await child.describe()).status is WorkflowExecutionStatus.COMPLETED
        await driver.assert_replay_matches(case_id)


async def checked_as_the_run_ends(driver: CaseDriver) -> UUID:
    """A case whose eligibility checks are answered about when its run ends."""
    case_id = (await driver.open_case(commands_per_run=4)).case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await asyncio.gather(
        *(
            driver.send(case_id, RequestEligibilityCheck(check=kind))
            for kind in (
                EligibilityCheckKind.household_registration,
                EligibilityCheckKind.school_enrolment,
            )
        )
    )
    await driver.send(case_id, visit(1))  # the 4th command: the run ends
    return case_id


async def test_answers_arriving_as_the_run_ends_are_recorded_once_by_one_run(
    driver: CaseDriver,
) -> None:
    """Outside answers that race the end of a run: found with these cases, before the fixes,
    (1) the ending workflow task failed (Temporal refuses to end a run while new events come
    in) after its append had stored events, the retried task decided in another order, and the
    case was stuck on a version conflict; (2) a look-up cancelled by the ending run was recorded
    as "unavailable"; (3) an answer cancelled half-recorded left the stream ahead of the state."""
    case_ids = await asyncio.gather(*(checked_as_the_run_ends(driver) for _ in range(12)))
    for case_id in case_ids:
        state = await driver.wait_for(
            case_id,
            lambda s: all(
                check.status is not CheckStatus.requested for check in s.eligibility_checks.values()
            ),
            what="the checks answered",
        )
        assert all(c.status is CheckStatus.answered for c in state.eligibility_checks.values())
        answers = [e for e in await driver.stored(case_id) if e.type == "EligibilityCheckAnswered"]
        assert len(answers) == 2
        await driver.assert_replay_matches(case_id)
