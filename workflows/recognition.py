"""De facto orphan recognition: the statutory steps with civil affairs, as a child workflow.

The case applies; the township verifies (10 working days), the county confirms (5 working days)
or civil affairs denies with written reasons; once recognised, the monthly living allowance is
set up with civil affairs. Each answer is signalled to the case workflow, which records it: the
case stays the single writer of its stream, and a case that continued as new meanwhile still
hears the answer, because signals go to the workflow id, not to a run.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.civil_affairs import (
        ApplyForRecognition,
        AwaitRecognitionDecision,
        CivilAffairsActivities,
        StartAllowance,
    )
    from activities.errors import (
        OUTSIDE_CALL_RETRY_POLICY,
        OUTSIDE_CALL_START_TO_CLOSE,
        RECOGNITION_POLL_HEARTBEAT_TIMEOUT,
    )
    from domain.child import ChildIdentity, ParentSituation
    from domain.rules.referrals import allowance_start
    from integrations.civil_affairs.models import DecisionStage, RecognitionStatus


class RecognitionRequest(BaseModel):
    case_id: UUID
    case_workflow_id: str
    application_id: UUID = Field(description="The case's id of the application.")
    village: str
    child: ChildIdentity
    parents: list[ParentSituation]
    qualifying: list[str]
    monthly_allowance_yuan: int = Field(gt=0, description="The county's monthly amount.")
    poll_every: timedelta = Field(
        default=timedelta(hours=6), description="How often to ask civil affairs for news."
    )
    poll_wait_seconds: float = Field(default=60, ge=0, le=3600)


class RecognitionAnswer(BaseModel):
    """What civil affairs answered, for the case to record."""

    application_id: UUID
    decision: str  # verified | confirmed | denied
    reasons: list[str] = Field(default_factory=list)
    monthly_allowance_yuan: int | None = None


RECOGNITION_ANSWER_SIGNAL = "recognition_answer"


def recognition_workflow_id(case_id: UUID, application_id: UUID) -> str:
    return f"recognition-{case_id}-{application_id}"


@workflow.defn(name="Recognition")
class RecognitionWorkflow:
    @workflow.run
    async def run(self, request: RecognitionRequest) -> str:
        receipt = await workflow.execute_activity_method(
            CivilAffairsActivities.apply_for_recognition,
            ApplyForRecognition(
                case_id=request.case_id,
                application_id=request.application_id,
                village=request.village,
                child=request.child,
                parents=request.parents,
                qualifying=request.qualifying,
            ),
            start_to_close_timeout=OUTSIDE_CALL_START_TO_CLOSE,
            retry_policy=OUTSIDE_CALL_RETRY_POLICY,
        )
        known = receipt.status
        told_verified = False
        while True:
            decision = await workflow.execute_activity_method(
                CivilAffairsActivities.await_recognition_decision,
                AwaitRecognitionDecision(
                    case_id=request.case_id,
                    application_id=receipt.application_id,
                    known_status=known,
                    wait_seconds=request.poll_wait_seconds,
                ),
                start_to_close_timeout=timedelta(seconds=request.poll_wait_seconds)
                + OUTSIDE_CALL_START_TO_CLOSE,
                heartbeat_timeout=RECOGNITION_POLL_HEARTBEAT_TIMEOUT,
                retry_policy=OUTSIDE_CALL_RETRY_POLICY,
            )
            if decision.status == known:
                # Nothing new: civil affairs takes working days. Ask again after a durable timer.
                await workflow.sleep(request.poll_every)
                continue
            known = decision.status
            # Civil affairs may take both steps between two polls (the county confirms, or
            # denies, an application the township verified meanwhile). The case records the
            # statutory steps in order and refuses a confirmation of an application it does not
            # know as verified, so the verification is told first whenever it was skipped.
            if not told_verified and (
                known is RecognitionStatus.verified
                or known is RecognitionStatus.confirmed
                or decision.denied_at is DecisionStage.county
            ):
                told_verified = True
                await self._tell_case(
                    request,
                    RecognitionAnswer(application_id=request.application_id, decision="verified"),
                )
            if known is RecognitionStatus.denied:
                await self._tell_case(
                    request,
                    RecognitionAnswer(
                        application_id=request.application_id,
                        decision="denied",
                        reasons=decision.reasons or ["civil affairs gave no reason"],
                    ),
                )
                return known.value
            if known is RecognitionStatus.confirmed:
                first_month = allowance_start(decision.confirmed_on or workflow.now().date())
                await workflow.execute_activity_method(
                    CivilAffairsActivities.start_allowance,
                    StartAllowance(
                        case_id=request.case_id,
                        application_id=receipt.application_id,
                        monthly_amount_yuan=request.monthly_allowance_yuan,
                        first_month=first_month,
                    ),
                    start_to_close_timeout=OUTSIDE_CALL_START_TO_CLOSE,
                    retry_policy=OUTSIDE_CALL_RETRY_POLICY,
                )
                await self._tell_case(
                    request,
                    RecognitionAnswer(
                        application_id=request.application_id,
                        decision="confirmed",
                        monthly_allowance_yuan=request.monthly_allowance_yuan,
                        allowance_first_month=first_month,
                    ),
                )
                return known.value

    @staticmethod
    async def _tell_case(request: RecognitionRequest, answer: RecognitionAnswer) -> None:
        case = workflow.get_external_workflow_handle(request.case_workflow_id)
        await case.signal(RECOGNITION_ANSWER_SIGNAL, answer)
