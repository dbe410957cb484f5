"""Refused commands: the caller gets a clear error, and nothing is written anywhere.

The update's validator refuses the command against the case's state and the caller, so the
update fails with `ApplicationError(type="CommandRefused")` carrying the refusal's code, no event
is stored (the stream's version is unchanged), and the update never enters the workflow's
history (a rejected update is not recorded by Temporal).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.commands import (
    ApprovalDecision,
    CaseCommand,
    DecideApproval,
    ProposeTransfer,
    RecordAssessment,
    RecordCasePlan,
    RecordDelivery,
    RecordVisit,
    ReopenCase,
    RequestAssistance,
)
from domain.events import DestinationKind, VisitKind
from domain.rules.assistance import AssistanceKind
from domain.rules.risk import NeedScores
from tests.workflows.driver import (
    AUDITOR,
    CASEWORKER,
    COUNTY_OFFICER,
    SOCIAL_WORKER,
    SUPERVISOR,
    CaseDriver,
    Refused,
    accepted_update_ids,
    raw_history,
    today,
)
from workflows.messages import CaseStart, CommandRequest

SCORES = NeedScores(survival=1, education=1, health=0, guardianship=2, safety=1, psychosocial=1)


async def assert_refused_without_trace(
    driver: CaseDriver, case_id: UUID, command: CaseCommand, *, by: str, code: str
) -> str:
    """Send `command`; it must be refused with `code`, store nothing and leave no history."""
    version = await driver.stream_version(case_id)
    state = await driver.state(case_id)
    key = f"refused-{uuid.uuid4()}"
    handle = driver.handle(case_id)
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(
            "command", CommandRequest(command=command, actor=driver.actor(by)), id=key
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "CommandRefused"
    assert cause.non_retryable
    assert list(cause.details) == [code]
    assert cause.message  # says what was wrong and what to do
    assert await driver.stream_version(case_id) == version
    assert await driver.state(case_id) == state
    history = await raw_history(driver.temporal, handle.id)
    assert key not in accepted_update_ids(history)
    assert key.encode() not in history.SerializeToString()
    return cause.message


async def an_active_case(driver: CaseDriver) -> UUID:
    case_id = (await driver.open_case()).case_id
    await driver.send(case_id, RecordAssessment(scores=SCORES))
    await driver.send(case_id, RecordCasePlan(goals=("Keep the child fed",)))
    return case_id


async def test_a_role_that_writes_nothing_is_refused(driver: CaseDriver) -> None:
    case_id = await an_active_case(driver)
    visit = RecordVisit(
        visited_at=(await driver.state(case_id)).updated_at,
        visit_kind=VisitKind.phone,
        observations="All well",
    )
    message = await assert_refused_without_trace(
        driver, case_id, visit, by=AUDITOR, code="role_not_allowed"
    )
    assert "auditor" in message


async def test_staff_of_another_area_are_refused(driver: CaseDriver) -> None:
    case_id = await an_active_case(driver)
    message = await assert_refused_without_trace(
        driver, case_id, RecordAssessment(scores=SCORES), by=SOCIAL_WORKER, code="case_out_of_reach"
    )
    assert str(case_id) in message


async def test_nobody_approves_their_own_request(driver: CaseDriver) -> None:
    case_id = await an_active_case(driver)
    # The supervisor asks for assistance above the threshold, then tries to approve it.
    requested = await driver.send(
        case_id,
        RequestAssistance(kind=AssistanceKind.quilt, quantity=10, unit="quilt", value_yuan=3000),
        by=SUPERVISOR,
    )
    (approval_id,) = requested.state.pending_approvals
    approve = DecideApproval(approval_id=approval_id, decision=ApprovalDecision.approve)
    await assert_refused_without_trace(driver, case_id, approve, by=SUPERVISOR, code="own_request")
    # A caseworker decides no approval at all.
    await assert_refused_without_trace(
        driver, case_id, approve, by=CASEWORKER, code="role_not_allowed"
    )
    # Another supervisor over the case (the county officer) may.
    granted = await driver.send(case_id, approve, by=COUNTY_OFFICER)
    assert not granted.state.pending_approvals
    await assert_refused_without_trace(
        driver, case_id, approve, by=COUNTY_OFFICER, code="not_pending"
    )


async def test_commands_that_do_not_fit_the_case_are_refused(driver: CaseDriver) -> None:
    case_id = (await driver.open_case()).case_id
    await assert_refused_without_trace(
        driver, case_id, RecordCasePlan(goals=("Too early",)), by=CASEWORKER, code="not_assessed"
    )
    await assert_refused_without_trace(
        driver, case_id, ReopenCase(reason="It is open"), by=CASEWORKER, code="case_open"
    )
    await assert_refused_without_trace(
        driver,
        case_id,
        RecordDelivery(request_id=uuid.uuid4(), quantity=1, delivered_on=today()),
        by=CASEWORKER,
        code="not_found",
    )
    visit_tomorrow = RecordVisit(
        visited_at=datetime.now(UTC) + timedelta(days=2),
        visit_kind=VisitKind.home,
        observations="Not yet",
    )
    await assert_refused_without_trace(
        driver, case_id, visit_tomorrow, by=CASEWORKER, code="in_future"
    )
    transfer = ProposeTransfer(
        destination_kind=DestinationKind.institution, destination="Home", reason="Needs care"
    )
    await driver.send(case_id, transfer)
    await assert_refused_without_trace(driver, case_id, transfer, by=CASEWORKER, code="in_progress")
    await driver.assert_replay_matches(case_id)


async def test_an_update_for_a_case_never_opened_is_refused(driver: CaseDriver) -> None:
    """A command sent to a case workflow that was started but never opened writes nothing."""
    case_id = uuid.uuid4()
    handle = await driver.temporal.start_workflow(
        "Case",
        CaseStart(case_id=case_id),
        id=f"case-{case_id}",
        task_queue=driver.task_queue,
    )
    try:
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(
                "command",
                CommandRequest(
                    command=RecordAssessment(scores=SCORES), actor=driver.actor(CASEWORKER)
                ),
            )
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        assert list(cause.details) == ["no_case"]
        assert await driver.stream_version(case_id) == 0
    finally:
        await handle.terminate("test over")


async def test_a_report_the_actor_may_not_make_is_refused_before_it_is_recorded(
    driver: CaseDriver,
) -> None:
    """Opening is refused by the validator too. (Update-with-start still starts the workflow,
    which waits, empty, for a report; the API checks the report before it starts anything.)"""
    case_id = uuid.uuid4()
    with pytest.raises(Refused) as refused:
        await driver.open_case(by=SOCIAL_WORKER, case_id=case_id, key=f"key-{case_id}")
    assert refused.value.code == "outside_area"
    handle = driver.handle(case_id)
    try:
        assert await driver.stream_version(case_id) == 0
        assert await handle.query("state") is None
        history = await raw_history(driver.temporal, handle.id)
        assert accepted_update_ids(history) == []
        assert f"key-{case_id}".encode() not in history.SerializeToString()
    finally:
        await handle.terminate("test over")
