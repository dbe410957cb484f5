"""Errors as RFC 9457 problem+json, written for the person who has to act on them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class ProblemDetails(BaseModel):
    """What every error answer holds (RFC 9457), for the OpenAPI description."""

    type: str = "about:blank"
    title: str = Field(description="What went wrong, in a few words.")
    status: int
    detail: str = Field(description="What was wrong and what to do about it.")
    code: str | None = Field(
        default=None, description="A stable name for the refusal, e.g. `case_closed`."
    )
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid requests: each field and what is wrong with it."
    )


PROBLEM_DESCRIPTIONS = {
    401: "No token, or an unknown or revoked one.",
    403: "Your role may not do this (or, for area-wide requests, the area is not yours).",
    404: "No such case, or a case outside your area: the two answer alike.",
    409: "The command does not fit the case as it stands.",
    422: "The request is not valid.",
    503: "The case engine is unavailable; retry with the same Idempotency-Key.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route answering these problems (401 is added: every route has it)."""
    schema = ProblemDetails.model_json_schema()
    return {
        status: {
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in sorted({401, *statuses})
    }


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code


def problem_response(
    status: int, title: str, detail: str, *, code: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if code is not None:
        body["code"] = code
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


# What the framework itself refuses, said so that the caller knows what to change.
_HTTP_ERRORS = {
    400: (
        "The request could not be read",
        "the body is not valid JSON; send a JSON object with 'Content-Type: application/json'",
    ),
    404: ("Not found", "there is nothing at this path; the API is described at /docs"),
    405: ("Method not allowed", "this path does not take this method; see /docs"),
}


def _field(location: tuple[Any, ...]) -> str:
    # ("body", "child", "date_of_birth") -> "child.date_of_birth"
    parts = (
        [str(part) for part in location[1:]]
        if location and location[0] == "body"
        else [str(part) for part in location]
    )
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: the submitted values may be a child's personal data, so the
        # answer (and any log of it) does not echo them back.
        errors = [
            {"field": _field(tuple(error["loc"])), "message": error["msg"]}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(
            422, "The request is not valid", summary, code="invalid_request", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, detail = _HTTP_ERRORS.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        return problem_response(exc.status_code, title, detail)
