"""The payload codec over HTTP (Temporal's remote codec protocol), for the Temporal UI and CLI.

Temporal holds only ciphertext of case data (caseflow.codec). An operator reading a workflow in
the Temporal UI, or with `temporal workflow show --codec-endpoint <api>/codec --codec-auth
'Bearer <token>'`, has the payloads sent here to be opened: `POST /codec/decode` and
`POST /codec/encode` take and answer `{"payloads": [{"metadata": {...}, "data": "..."}]}`, the
protobuf JSON form of `temporal.api.common.v1.Payloads` (bytes as base64).

Who may do it:
- decode: auditors and admins. Opening an arbitrary payload is an operator's privilege over the
  whole engine, not a reading of one case, so it cannot be limited to the caller's area (a
  payload shows no area until it is opened); it is given to the roles that already read cases
  without writing (auditors), and to admins, who by the domain's rule see no more than an
  auditor. Caseworkers and supervisors read cases through the case API, scoped to their area.
  Every decode is logged with who asked and how many payloads, never what they held.
- encode: admins only. An encoded payload is input the workers trust (a signal or update sent
  from the Temporal UI), so making one is a way to write to a case around the API's checks:
  auditors write nothing, and no other role needs it.

Browsers call this from the Temporal UI's origin: the origins in `codec_cors_origins` are allowed
(CORS), and every answer, refusals included, carries the CORS headers so the UI can show them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import CurrentActor
from api.context import services
from api.problems import Problem, problem_response
from caseflow.codec import EncryptionCodec, PayloadDecryptionError
from caseflow.logs import get_logger
from domain.actors import Actor, Role

log = get_logger(__name__)

DECODING_ROLES = frozenset({Role.auditor, Role.admin})
ENCODING_ROLES = frozenset({Role.admin})
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata, each value base64-encoded."
    )
    data: str = Field(default="", description="The payload's bytes, base64-encoded.")


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = Field(default_factory=list)


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in services(request).settings.codec_cors_origins:
        return origin
    return None


def _with_cors(request: Request, response: Response) -> Response:
    origin = _allowed_origin(request)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


class _CorsRoute(APIRoute):
    """A route whose every answer, refusals included, carries the CORS headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except Problem as problem:
                response = problem_response(
                    problem.status, problem.title, problem.detail, code=problem.code
                )
            except RequestValidationError:
                # The body may hold personal data: say what is expected, echo nothing.
                response = problem_response(
                    422,
                    "The request is not valid",
                    'send {"payloads": [{"metadata": {...}, "data": "..."}]} with base64 values',
                    code="invalid_request",
                )
            return _with_cors(request, response)

        return answer


router = APIRouter(prefix="/codec", tags=["operations"], route_class=_CorsRoute)


def _codec(request: Request) -> EncryptionCodec:
    codec = services(request).temporal.data_converter.payload_codec
    if not isinstance(codec, EncryptionCodec):
        raise Problem(503, "No payload codec", "this server's Temporal client encrypts nothing")
    return codec


def _require(actor: Actor, roles: frozenset[Role], action: str) -> None:
    if actor.role not in roles:
        allowed = " and ".join(sorted(role.value for role in roles))
        raise Problem(
            403,
            "The command was refused",
            f"only {allowed} users may {action} Temporal payloads",
            code="role_not_allowed",
        )


def _to_proto(body: CodecPayloads) -> Payloads:
    try:
        return json_format.ParseDict(body.model_dump(), Payloads())
    except json_format.ParseError:
        raise Problem(
            422,
            "The request is not valid",
            "payload data and metadata values must be base64",
            code="invalid_request",
        ) from None


def _to_json(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads.model_validate(json_format.MessageToDict(Payloads(payloads=payloads)))


def _preflight(request: Request) -> Response:
    if _allowed_origin(request) is None:
        raise Problem(
            403,
            "Origin not allowed",
            "this origin may not call the codec; add it to CASEFLOW_CODEC_CORS_ORIGINS",
            code="origin_not_allowed",
        )
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


@router.post("/decode", response_model=CodecPayloads)
async def decode(body: CodecPayloads, actor: CurrentActor, request: Request) -> CodecPayloads:
    """Open encrypted payloads (auditors and admins)."""
    _require(actor, DECODING_ROLES, "decode")
    codec = _codec(request)
    opened = []
    for index, payload in enumerate(_to_proto(body).payloads):
        if not codec.is_encrypted(payload):
            # Already clear (the SDK core's own local-activity record, say): shown as it is.
            opened.append(payload)
            continue
        try:
            opened.append(codec.decrypt(payload))
        except PayloadDecryptionError as error:
            raise Problem(
                422,
                "A payload could not be decoded",
                f"payload {index}: {error}",
                code="undecodable_payload",
            ) from None
    log.info(
        "codec_decoded",
        user_id=actor.user_id,
        role=actor.role.value,
        payloads=len(opened),
        namespace=request.headers.get("x-namespace", "")[:200],
    )
    return _to_json(opened)


@router.post("/encode", response_model=CodecPayloads)
async def encode(body: CodecPayloads, actor: CurrentActor, request: Request) -> CodecPayloads:
    """Encrypt payloads with the current key (admins only)."""
    _require(actor, ENCODING_ROLES, "encode")
    sealed = await _codec(request).encode(_to_proto(body).payloads)
    log.info(
        "codec_encoded",
        user_id=actor.user_id,
        role=actor.role.value,
        payloads=len(sealed),
        namespace=request.headers.get("x-namespace", "")[:200],
    )
    return _to_json(sealed)


@router.options("/decode", include_in_schema=False)
async def decode_preflight(request: Request) -> Response:
    return _preflight(request)


@router.options("/encode", include_in_schema=False)
async def encode_preflight(request: Request) -> Response:
    return _preflight(request)
