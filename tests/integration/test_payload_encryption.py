"""Temporal holds only ciphertext of a child's data; authorised operators decode it via /codec."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest_asyncio
import uvicorn
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import Client

from api.app import create_app
from caseflow.codec import ENCODING, KEY_ID_METADATA, EncryptionCodec
from caseflow.settings import Settings
from domain.codec import case_stream_id
from tests.conftest import free_port
from tests.integration.engine import Engine
from tests.integration.test_report_case import a_report
from workers.embedded_temporal import temporal_binary
from workflows.case import SETTLE_BEFORE_ENDING, UPSERT_CHANGES_ONLY
from workflows.messages import OpenCase

UI_ORIGIN = "http://127.0.0.1:8233"  # the embedded UI at its default port
# Payloads that Temporal indexes or passes through uncoded, by design: no personal data there.
UNCODED_FIELDS = frozenset({"search_attributes", "header"})
# The SDK core's own record of a local activity (sequence number, activity type, times): written
# by the core, not through the codec. The activity's result beside it is encrypted.
LOCAL_ACTIVITY_METADATA = "marker_recorded_event_attributes.details[data]"
# The SDK core's record of a `workflow.patched` change: the patch's id (workflows/case.py's
# constants), written by the core, not through the codec.
PATCH_MARKER = "marker_recorded_event_attributes.details[patch-data]"
PATCH_IDS = frozenset({UPSERT_CHANGES_ONLY, SETTLE_BEFORE_ENDING})


def is_core_metadata(path: str, payload: Payload) -> bool:
    """Whether `payload` is the core's own uncoded record of a local activity or a patch (and
    holds only what such a record holds)."""
    if LOCAL_ACTIVITY_METADATA in path:
        assert set(json.loads(payload.data)) >= {"seq", "activity_type", "complete_time"}
        return True
    if PATCH_MARKER in path:
        record = json.loads(payload.data)
        assert set(record) <= {"id", "deprecated"}, record
        assert record["id"] in PATCH_IDS, record
        return True
    return False


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload inside `message` with its field path, except in search attributes and
    headers."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        kind = field.message_type
        if kind is None or field.name in UNCODED_FIELDS:
            continue  # a scalar, or uncoded by design
        where = f"{path}.{field.name}" if path else field.name
        if kind.GetOptions().map_entry:
            value_field = kind.fields_by_name["value"]
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    yield from payloads_in(item, f"{where}[{key}]")
        elif field.is_repeated:
            for item in value:
                yield from payloads_in(item, where)
        else:
            yield from payloads_in(value, where)


def codec_of(engine: Engine) -> EncryptionCodec:
    codec = engine.temporal.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec)
    return codec


async def report_marked_child(engine: Engine) -> tuple[str, str]:
    """Report a child whose name is a unique marker; (marker, workflow id)."""
    marker = f"Marker{uuid.uuid4().hex}"
    report = a_report()
    report["child"]["name"] = marker
    answer = await engine.http.post("/cases", json=report, headers=engine.auth("demo-caseworker"))
    assert answer.status_code == 201, answer.text
    return marker, case_stream_id(UUID(answer.json()["case_id"]))


async def raw_history(engine: Engine, workflow_id: str) -> History:
    """The history as the Temporal server holds it, read by a client without our codec."""
    plain = await Client.connect(
        engine.temporal.service_client.config.target_host, namespace=engine.temporal.namespace
    )
    assert plain.data_converter.payload_codec is None
    fetched = await plain.get_workflow_handle(workflow_id).fetch_history()
    return History(events=fetched.events)


def update_input(history: History) -> Payloads:
    accepted = [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert len(accepted) == 1
    return accepted[0]


def as_json(payloads: Payloads) -> dict[str, Any]:
    """The remote codec protocol's body: Payloads in protobuf JSON, as the Temporal UI sends."""
    return json_format.MessageToDict(payloads)


async def test_the_temporal_server_holds_no_clear_personal_data(engine: Engine) -> None:
    marker, workflow_id = await report_marked_child(engine)

    history = await raw_history(engine, workflow_id)
    everything = history.SerializeToString()
    assert marker.encode() not in everything
    assert marker not in json_format.MessageToJson(history)
    assert b"Test Grandmother" not in everything
    payloads = [(path, payload) for path, payload in payloads_in(history)]
    assert len(payloads) >= 3  # the start input, the update's input and answer, activities...
    for path, payload in payloads:
        if is_core_metadata(path, payload):
            continue
        assert payload.metadata["encoding"] == ENCODING.encode(), path
        assert payload.metadata[KEY_ID_METADATA] == codec_of(engine).keys.current_id.encode()

    # With the codec, the update's input opens to the report.
    args = update_input(history)
    [opened] = await codec_of(engine).decode(args.payloads)
    assert marker.encode() in opened.data
    [command] = await engine.temporal.data_converter.decode(args.payloads, [OpenCase])
    assert command.report.child.name == marker


async def test_an_auditor_decodes_payloads_through_the_codec_endpoint(engine: Engine) -> None:
    marker, workflow_id = await report_marked_child(engine)
    body = as_json(update_input(await raw_history(engine, workflow_id)))

    for user in ("demo-auditor", "demo-admin"):
        answer = await engine.http.post(
            "/codec/decode",
            json=body,
            headers=engine.auth(user, Origin=UI_ORIGIN, **{"X-Namespace": "default"}),
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
        [opened] = json_format.ParseDict(answer.json(), Payloads()).payloads
        assert opened.metadata["encoding"] == b"json/plain"
        assert marker.encode() in opened.data


async def test_other_roles_and_strangers_cannot_decode(engine: Engine) -> None:
    _, workflow_id = await report_marked_child(engine)
    body = as_json(update_input(await raw_history(engine, workflow_id)))

    for user in ("demo-caseworker", "demo-supervisor"):
        refused = await engine.http.post(
            "/codec/decode", json=body, headers=engine.auth(user, Origin=UI_ORIGIN)
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "role_not_allowed"
        # The browser is told why, not shown a CORS error.
        assert refused.headers["Access-Control-Allow-Origin"] == UI_ORIGIN

    anonymous = await engine.http.post("/codec/decode", json=body, headers={"Origin": UI_ORIGIN})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    unknown = await engine.http.post(
        "/codec/decode", json=body, headers={"Authorization": "Bearer nope"}
    )
    assert unknown.status_code == 401


async def test_only_admins_encode(engine: Engine) -> None:
    clear = Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')])

    refused = await engine.http.post(
        "/codec/encode", json=as_json(clear), headers=engine.auth("demo-auditor")
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_not_allowed"

    answer = await engine.http.post(
        "/codec/encode", json=as_json(clear), headers=engine.auth("demo-admin")
    )
    assert answer.status_code == 200, answer.text
    sealed = json_format.ParseDict(answer.json(), Payloads())
    assert sealed.payloads[0].metadata["encoding"] == ENCODING.encode()
    assert await codec_of(engine).decode(sealed.payloads) == list(clear.payloads)


async def test_undecodable_payloads_are_refused_without_echoing_them(engine: Engine) -> None:
    [sealed] = await codec_of(engine).encode([Payload(data=b'"Secret Name"')])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\0")
    stranger = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"retired"}, data=b"x" * 40)
    for payload, reason in ((tampered, "failed authentication"), (stranger, "'retired'")):
        answer = await engine.http.post(
            "/codec/decode",
            json=as_json(Payloads(payloads=[payload])),
            headers=engine.auth("demo-auditor"),
        )
        assert answer.status_code == 422
        assert answer.json()["code"] == "undecodable_payload"
        assert reason in answer.json()["detail"]

    for malformed in ({"payloads": "Secret Name"}, {"payloads": [{"data": ["Secret Name"]}]}):
        answer = await engine.http.post(
            "/codec/decode", json=malformed, headers=engine.auth("demo-auditor")
        )
        assert answer.status_code == 422
        assert answer.json()["code"] == "invalid_request"
        assert "Secret Name" not in answer.text


async def test_clear_payloads_are_shown_as_they_are(engine: Engine) -> None:
    clear = Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=b'{"seq":1}')])
    answer = await engine.http.post(
        "/codec/decode", json=as_json(clear), headers=engine.auth("demo-auditor")
    )
    assert answer.status_code == 200, answer.text
    assert json_format.ParseDict(answer.json(), Payloads()) == clear


async def test_cors_allows_the_temporal_ui_origin_only(engine: Engine) -> None:
    preflight = {
        "Origin": UI_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    for path in ("/codec/decode", "/codec/encode"):
        allowed = await engine.http.options(path, headers=preflight)
        assert allowed.status_code == 204
        assert allowed.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
        assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
        allowed_headers = allowed.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "content-type", "x-namespace"} <= {
            header.strip() for header in allowed_headers.split(",")
        }

    elsewhere = {**preflight, "Origin": "https://evil.example"}
    refused = await engine.http.options("/codec/decode", headers=elsewhere)
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    answer = await engine.http.post(
        "/codec/decode",
        json={"payloads": []},
        headers=engine.auth("demo-auditor", Origin="https://evil.example"),
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest_asyncio.fixture
async def api_url(engine: Engine, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """The API served over real HTTP (uvicorn), on the engine's servers and keys."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        temporal_address=engine.temporal.service_client.config.target_host,
        temporal_namespace=engine.temporal.namespace,
        payload_keys=codec_of(engine).keys.serialize(),
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                assert not serving.done(), "the API server did not start"
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def temporal_cli_show(engine: Engine, workflow_id: str, *codec_args: str) -> str:
    """`temporal workflow show --output json`, as an operator would run it."""
    process = await asyncio.create_subprocess_exec(
        str(temporal_binary()),
        "workflow",
        "show",
        "--workflow-id",
        workflow_id,
        "--address",
        engine.temporal.service_client.config.target_host,
        "--namespace",
        engine.temporal.namespace,
        "--output",
        "json",
        *codec_args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")},
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_temporal_cli_decodes_through_the_endpoint_with_an_auditors_token(
    engine: Engine, api_url: str
) -> None:
    marker, workflow_id = await report_marked_child(engine)
    async with httpx.AsyncClient(base_url=api_url, trust_env=False) as http:
        assert (await http.get("/healthz")).status_code == 200

    without = await temporal_cli_show(engine, workflow_id)
    assert not any(marker.encode() in data for data in payload_data(json.loads(without)))

    token = engine.users["demo-auditor"].token
    decoded = await temporal_cli_show(
        engine,
        workflow_id,
        "--codec-endpoint",
        f"{api_url}/codec",
        "--codec-auth",
        f"Bearer {token}",
    )
    assert any(marker.encode() in data for data in payload_data(json.loads(decoded)))


def payload_data(document: Any) -> Iterator[bytes]:
    """The bytes of every payload's `data` in a history printed as JSON."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "data" and isinstance(value, str):
                yield base64.b64decode(value)
            else:
                yield from payload_data(value)
    elif isinstance(document, list):
        for item in document:
            yield from payload_data(item)
