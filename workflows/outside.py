"""Work with outside systems that a case's state calls for, run beside the case's commands.

What is outstanding is read from the state, not remembered: an eligibility check requested and
not answered, a recognition applied for and not decided, an approved guardian change not yet
registered, an approved transfer without a place. After every change the case workflow calls
`follow`, which starts what is outstanding and not already running. A run that continues as new
stops its calls and the next run starts them again from the state it carries; every call is keyed
by the case's own ids, so the outside system does each thing once.

Answers come back as decisions (`SystemDecision`) that the case workflow takes against its state
of that moment, as the engine (`system` actor), through the same domain rules as any command.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.civil_affairs import (
        CheckParentsStatus,
        CivilAffairsActivities,
        LookUpHouseholdRegistration,
        RegisterGuardian,
        ReserveInstitutionPlace,
    )
    from activities.errors import (
        OUTSIDE_CALL_RETRY_POLICY,
        OUTSIDE_CALL_START_TO_CLOSE,
        refusal_of,
    )
    from activities.school import CheckSchoolEnrolment, RequestBoardingPlace, SchoolActivities
    from domain import commands
    from domain.actors import system_actor
    from domain.areas import AreaLevel, ancestor
    from domain.commands import NewId
    from domain.events import CaseEvent
    from domain.events.eligibility import CheckFailure, EligibilityCheckKind, EligibilityFacts
    from domain.events.transfer import DestinationKind
    from domain.rules.referrals import DEFAULT_MONTHLY_ALLOWANCE_YUAN
    from domain.state import (
        CaseState,
        CheckStatus,
        EligibilityCheck,
        GuardianChange,
        ProposalStatus,
        RecognitionStatus,
        Transfer,
        TransferStatus,
    )
    from workflows.recognition import (
        RecognitionRequest,
        RecognitionWorkflow,
        recognition_workflow_id,
    )

SystemDecision = Callable[[CaseState, datetime, NewId], list[CaseEvent]]
Recorder = Callable[[SystemDecision], Awaitable[None]]

# An eligibility look-up that has not answered within this time is recorded as unavailable, so
# the caseworker decides without it rather than waiting on a system that is down.
ELIGIBILITY_CHECK_PATIENCE = timedelta(hours=12)
RECOGNITION_WORK = "recognition-"  # the key prefix of following a recognition application


def answered_by_engine(command: commands.CaseCommand) -> SystemDecision:
    """The decision of recording an outside system's answer as the engine."""

    def decide(state: CaseState, now: datetime, new_id: NewId) -> list[CaseEvent]:
        actor = system_actor(state.village)
        return commands.decide(state, command, actor=actor, now=now, new_id=new_id)

    return decide


class OutsideWork:
    def __init__(self, case_id: UUID, record: Recorder) -> None:
        self._case_id = case_id
        self._record = record
        self._stopping = False
        self._running: dict[str, asyncio.Task[None]] = {}

    def follow(self, state: CaseState) -> None:
        """Start every piece of outside work the state calls for that this run has not started.

        Work this run already did is not started again even while the state still calls for it
        (a registration civil affairs refused stays unregistered): the next run tries once more.
        """
        for key, start in self._outstanding(state).items():
            if key not in self._running:
                self._running[key] = asyncio.create_task(start())

    async def stop(self) -> None:
        self._stopping = True
        for key, task in self._running.items():
            # The start of a Recognition child is let finish (it takes one round trip): once the
            # child exists, cancelling its start cancels the child itself, and the next run could
            # not start it again (its id is not reused), leaving the application unfollowed.
            if not key.startswith(RECOGNITION_WORK):
                task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _answer(self, decide: SystemDecision) -> None:
        """Record what an outside system answered, unless the run is ending.

        A call cancelled by `stop` ends in an `ActivityError` just like a failed call; recording
        it would put a failure the system never gave in the case's history (an eligibility check
        "unavailable"), and `stop` waits for this task while holding the recording lock. The next
        run asks again, under the same idempotency keys.
        """
        if self._stopping:
            return
        await self._record(decide)

    def _outstanding(self, state: CaseState) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
        work: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}
        if not state.is_open:
            return work
        for check in state.eligibility_checks.values():
            if check.status is CheckStatus.requested:
                work[f"check-{check.check_id}"] = partial(self._check_eligibility, state, check)
        recognition = state.recognition
        if recognition is not None and recognition.status in (
            RecognitionStatus.applied,
            RecognitionStatus.verified,
        ):
            work[f"{RECOGNITION_WORK}{recognition.application_id}"] = partial(
                self._follow_recognition, state
            )
        for change in state.guardian_changes.values():
            if change.status is ProposalStatus.approved:
                work[f"guardian-{change.change_id}"] = partial(
                    self._register_guardian, state, change
                )
        for transfer in state.transfers.values():
            if transfer.status is TransferStatus.approved:
                work[f"place-{transfer.transfer_id}"] = partial(self._find_place, state, transfer)
        return work

    # -- eligibility -------------------------------------------------------------------------

    async def _check_eligibility(self, state: CaseState, check: EligibilityCheck) -> None:
        facts: EligibilityFacts | None = None
        failure: CheckFailure | None = None
        try:
            facts = await self._look_up(state, check.check)
        except ActivityError as error:
            refusal = refusal_of(error)
            if refusal is None:
                failure = CheckFailure.unavailable
            elif refusal.code.startswith("unknown"):
                failure = CheckFailure.not_found
            else:
                failure = CheckFailure.refused
        await self._answer(
            answered_by_engine(
                commands.RecordEligibilityAnswer(
                    check_id=check.check_id, facts=facts, failure=failure
                )
            )
        )

    async def _look_up(self, state: CaseState, check: EligibilityCheckKind) -> EligibilityFacts:
        options: dict[str, Any] = {
            "start_to_close_timeout": OUTSIDE_CALL_START_TO_CLOSE,
            "schedule_to_close_timeout": ELIGIBILITY_CHECK_PATIENCE,
            "retry_policy": OUTSIDE_CALL_RETRY_POLICY,
        }
        id_number = state.report.child.id_number
        if check is EligibilityCheckKind.household_registration:
            household = await workflow.execute_activity_method(
                CivilAffairsActivities.look_up_household_registration,
                LookUpHouseholdRegistration(
                    case_id=self._case_id, village=state.village, id_number=id_number
                ),
                **options,
            )
            household_facts: EligibilityFacts = household.to_facts()
            return household_facts
        if check is EligibilityCheckKind.parents_status:
            parents = await workflow.execute_activity_method(
                CivilAffairsActivities.check_parents_status,
                CheckParentsStatus(case_id=self._case_id, id_number=id_number),
                **options,
            )
            parents_facts: EligibilityFacts = parents.to_facts()
            return parents_facts
        enrolment = await workflow.execute_activity_method(
            SchoolActivities.check_school_enrolment,
            CheckSchoolEnrolment(case_id=self._case_id, village=state.village, id_number=id_number),
            **options,
        )
        enrolment_facts: EligibilityFacts = enrolment.to_facts()
        return enrolment_facts

    # -- recognition -------------------------------------------------------------------------

    async def _follow_recognition(self, state: CaseState) -> None:
        recognition = state.recognition
        assert recognition is not None
        # Started by an earlier run of this case already: its answers reach us by signal.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                RecognitionWorkflow.run,
                RecognitionRequest(
                    case_id=self._case_id,
                    case_workflow_id=workflow.info().workflow_id,
                    application_id=recognition.application_id,
                    village=state.village,
                    child=state.report.child,
                    parents=list(state.parents),
                    qualifying=list(recognition.qualifying),
                    monthly_allowance_yuan=DEFAULT_MONTHLY_ALLOWANCE_YUAN,
                ),
                id=recognition_workflow_id(self._case_id, recognition.application_id),
                # The application outlives this run of the case: it answers by signal.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )

    # -- guardian change ---------------------------------------------------------------------

    async def _register_guardian(self, state: CaseState, change: GuardianChange) -> None:
        assert change.approval_id is not None
        try:
            registration = await workflow.execute_activity_method(
                CivilAffairsActivities.register_guardian,
                RegisterGuardian(
                    case_id=self._case_id,
                    change_id=change.change_id,
                    approval_id=change.approval_id,
                    village=state.village,
                    child=state.report.child,
                    guardian=change.new_guardian,
                ),
                start_to_close_timeout=OUTSIDE_CALL_START_TO_CLOSE,
                retry_policy=OUTSIDE_CALL_RETRY_POLICY,
            )
        except ActivityError as error:
            # Civil affairs refused (or rejected the request): the change stays approved and
            # unregistered, for the caseworker to take up with civil affairs; the failure is in
            # the workflow's history and the next run asks once more.
            refusal = refusal_of(error)
            workflow.logger.warning(
                "guardianship registration failed: %s", refusal.code if refusal else "error"
            )
            return
        await self._answer(
            answered_by_engine(
                commands.RegisterGuardianChange(
                    change_id=change.change_id,
                    registered_on=registration.registered_on,
                    registration_reference=registration.registration_id,
                )
            )
        )

    # -- transfer ----------------------------------------------------------------------------

    async def _find_place(self, state: CaseState, transfer: Transfer) -> None:
        county = ancestor(state.village, AreaLevel.county)
        try:
            if transfer.destination_kind is DestinationKind.institution:
                reservation = await workflow.execute_activity_method(
                    CivilAffairsActivities.reserve_institution_place,
                    ReserveInstitutionPlace(
                        case_id=self._case_id,
                        transfer_id=transfer.transfer_id,
                        county=county,
                        child=state.report.child,
                    ),
                    start_to_close_timeout=OUTSIDE_CALL_START_TO_CLOSE,
                    retry_policy=OUTSIDE_CALL_RETRY_POLICY,
                )
                reference = reservation.reservation_id
            else:
                place = await workflow.execute_activity_method(
                    SchoolActivities.request_boarding_place,
                    RequestBoardingPlace(
                        case_id=self._case_id,
                        transfer_id=transfer.transfer_id,
                        county=county,
                        child=state.report.child,
                    ),
                    start_to_close_timeout=OUTSIDE_CALL_START_TO_CLOSE,
                    retry_policy=OUTSIDE_CALL_RETRY_POLICY,
                )
                reference = place.place_id
        except ActivityError as error:
            refusal = refusal_of(error)
            if refusal is None:
                workflow.logger.warning("place request failed: the next run asks again")
                return
            # No place: the documented alternative is recorded, and the caseworker may propose
            # another destination.
            await self._answer(
                answered_by_engine(
                    commands.RefuseTransferPlace(
                        transfer_id=transfer.transfer_id, refused_because=refusal.reason[:200]
                    )
                )
            )
            return
        await self._answer(
            answered_by_engine(
                commands.ConfirmTransferPlace(
                    transfer_id=transfer.transfer_id, place_reference=reference
                )
            )
        )
