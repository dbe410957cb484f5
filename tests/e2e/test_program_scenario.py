"""A program's scenario end to end, over HTTP, through `caseflow up` as a user starts it.

A caseworker reports a de facto orphan, assesses her and asks for medical aid above the approval
threshold; the township supervisor approves it from the inbox; the aid is delivered. A transfer
to the county's institution is proposed and approved, and the engine finds the place with civil
affairs (its simulator). The auditor then replays the case as it stood before the transfer,
verifies the record, and finds the child and the aid counted in the program report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from domain.commands import PROGRAM_TIMEZONE
from tests.e2e.test_caseflow_up import REPORT, Stack

pytestmark = pytest.mark.e2e

T = TypeVar("T")
WAIT_SECONDS = 60.0
COUNTY = "530627"
SCORES = {
    "survival": 2,
    "education": 1,
    "health": 3,
    "guardianship": 3,
    "safety": 1,
    "psychosocial": 2,
}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path / "caseflow")
    stack.start()
    try:
        yield stack
    finally:
        if stack.process is not None and stack.process.poll() is None:
            assert stack.stop() == 0


def as_user(stack: Stack, user_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.url,
        headers={"Authorization": f"Bearer {stack.token(user_id)}"},
        timeout=60,
        trust_env=False,
    )


def eventually(probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_SECONDS
    while (answer := probe()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT_SECONDS:.0f} s: {what}")
        time.sleep(0.25)
    return answer


def created(answer: httpx.Response) -> Any:
    """The answer's JSON, once it is known to be a success."""
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_a_de_facto_orphan_is_helped_transferred_audited_and_counted(running: Stack) -> None:
    today = datetime.now(PROGRAM_TIMEZONE).date()
    with (
        as_user(running, "demo-caseworker") as caseworker,
        as_user(running, "demo-supervisor") as supervisor,
        as_user(running, "demo-auditor") as auditor,
    ):
        # The caseworker reports, assesses and asks for aid above the threshold.
        state = created(caseworker.post("/cases", json=REPORT))
        case_id = state["case_id"]
        assert state["categories"] == ["de_facto_orphan"]
        created(caseworker.post(f"/cases/{case_id}/assessment", json={"scores": SCORES}))
        asked = created(
            caseworker.post(
                f"/cases/{case_id}/assistance",
                json={
                    "kind": "medical_aid",
                    "quantity": 1,
                    "unit": "treatment",
                    "value_yuan": 4800,
                },
            )
        )
        [request] = asked["state"]["assistance"].values()
        assert request["status"] == "awaiting_approval"

        # The township supervisor finds it in the inbox and approves it.
        def in_inbox() -> dict[str, Any] | None:
            inbox = created(supervisor.get("/approvals", params={"kind": "assistance"}))
            mine = [e for e in inbox["items"] if e["approval"]["case_id"] == case_id]
            return mine[0]["approval"] if mine else None

        approval = eventually(in_inbox, "the aid's approval in the supervisor's inbox")
        assert approval["approval_id"] == request["approval_id"]
        created(
            supervisor.post(
                f"/cases/{case_id}/approvals/{approval['approval_id']}/decision",
                json={"decision": "approve", "comment": "Hospital quote checked."},
            )
        )
        delivered = created(
            caseworker.post(
                f"/cases/{case_id}/assistance/{request['request_id']}/deliveries",
                json={"quantity": 1, "delivered_on": today.isoformat()},
            )
        )
        [delivery_event] = delivered["event_ids"]
        before_transfer = created(caseworker.get(f"/cases/{case_id}/timeline"))[-1]["recorded_at"]

        # A transfer: proposed, approved, and a place found by the engine with civil affairs.
        proposed = created(
            caseworker.post(
                f"/cases/{case_id}/transfers",
                json={
                    "destination_kind": "institution",
                    "destination": "Zhenxiong County Child Welfare Institution",
                    "reason": "No relative able to care for her.",
                },
            )
        )
        [transfer] = proposed["state"]["transfers"].values()
        created(
            supervisor.post(
                f"/cases/{case_id}/approvals/{transfer['approval_id']}/decision",
                json={"decision": "approve"},
            )
        )

        def placed() -> dict[str, Any] | None:
            now = created(caseworker.get(f"/cases/{case_id}"))["transfers"][transfer["transfer_id"]]
            return now if now["status"] != "approved" else None

        assert eventually(placed, "the engine to find a place")["status"] == "place_confirmed"
        timeline = created(auditor.get(f"/cases/{case_id}/timeline"))
        [confirmed] = [e for e in timeline if e["type"] == "TransferPlaceConfirmed"]
        assert confirmed["actor"]["role"] == "system"

        # The auditor: the case as it stood before the transfer, exactly as then answered.
        then = created(auditor.get(f"/cases/{case_id}", params={"as_of": before_transfer}))
        assert then == delivered["state"]
        assert then["transfers"] == {}
        assert created(auditor.get(f"/cases/{case_id}/integrity"))["ok"] is True
        assert created(auditor.get("/integrity"))["ok"] is True

        # The program report counts the child and the aid, traced to their events.
        def counted(figure: str, event_id: str | None = None) -> list[dict[str, Any]] | None:
            params: dict[str, str | int] = {"year": today.year, "county": COUNTY, "figure": figure}
            facts = created(auditor.get("/reports/program/facts", params=params))["facts"]
            mine = [
                fact
                for fact in facts
                if fact["case_id"] == case_id and event_id in (None, fact["event_id"])
            ]
            return mine or None

        eventually(lambda: counted("children_covered.de_facto_orphan"), "the child counted")
        eventually(lambda: counted("assistance.kind.medical_aid", delivery_event), "the aid")
        report = created(
            auditor.get("/reports/program", params={"year": today.year, "county": COUNTY})
        )
        figures = {figure["figure"]: figure["count"] for figure in report["figures"]}
        assert figures["assistance.group.medical"] >= 1
        assert figures["children_covered.de_facto_orphan"] >= 1

    assert running.stop() == 0
    logs = "".join(running.output) + "".join(
        log.read_text(errors="replace") for log in (running.data_dir / "logs").iterdir()
    )
    assert REPORT["child"]["name"] not in logs
