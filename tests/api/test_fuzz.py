"""Fuzzing the published OpenAPI: every operation, with generated valid and invalid requests sent
as a caseworker (through the in-process app, on the real engine). No answer is a server error,
and a request answered 4xx records no event.

Generated cases point at a real case of the caller's area, so commands reach its workflow and its
validators. Bounded: a few examples per operation and mode, no shrinking, no deadline.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from store.directory import Directory, User
from tests.api.conftest import VILLAGE, World, a_report
from tests.integration.engine import Engine

FUZZER = "fuzz-caseworker"
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}
BASE_URL = "http://caseflow.test"


def generated_cases(
    schema: Any, headers: dict[str, str], case_id: UUID, mode: GenerationMode
) -> list[Case[Any]]:
    cases: list[Case[Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {parameter.name for parameter in operation.path_parameters}
        strategy = operation.as_strategy(
            generation_mode=mode,
            headers=headers,
            path_parameters={"case_id": str(case_id)} if "case_id" in names else None,
        )

        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(case: Case[Any]) -> None:
            cases.append(case)

        try:
            collect()
        except Unsatisfiable:
            continue  # nothing to make invalid: an operation without parameters or body
    return cases


async def events_by(engine: Engine, user_id: str) -> int:
    return int(
        await engine.pool.fetchval(
            "SELECT count(*) FROM events WHERE metadata -> 'actor' ->> 'user_id' = $1", user_id
        )
    )


async def test_no_server_error_and_no_event_from_a_refused_request(world: World) -> None:
    engine = world.engine
    directory = Directory(engine.pool)
    token = await directory.add_user(User(FUZZER, "Fuzzing caseworker", "caseworker", VILLAGE))
    headers = {"Authorization": f"Bearer {token}"}
    opened = await engine.http.post("/cases", json=a_report(VILLAGE), headers=headers)
    assert opened.status_code == 201, opened.text
    case_id = UUID(opened.json()["case_id"])
    published = await engine.http.get("/openapi.json")
    schema = schemathesis.openapi.from_dict(published.json())

    failures = []
    answered: dict[int, int] = {}
    for mode in EXAMPLES:
        for case in generated_cases(schema, headers, case_id, mode):
            sent = case.as_transport_kwargs(base_url=BASE_URL)
            before = await events_by(engine, FUZZER)
            answer = await engine.http.request(
                sent["method"],
                sent["url"],
                headers=sent.get("headers"),
                params=sent.get("params"),
                json=sent.get("json"),
                content=sent.get("data"),
            )
            after = await events_by(engine, FUZZER)
            answered[answer.status_code] = answered.get(answer.status_code, 0) + 1
            where = f"{case.method} {case.formatted_path} ({mode.value})"
            if answer.status_code >= 500:
                failures.append(f"{where}: {answer.status_code} {answer.text[:300]}")
            elif answer.status_code >= 400 and after != before:
                failures.append(f"{where}: {answer.status_code} yet {after - before} event(s)")
    assert not failures, "\n".join(failures)
    assert any(200 <= status < 300 for status in answered), answered
