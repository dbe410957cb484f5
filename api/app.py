"""The API application: routes, problem+json errors, request ids, and its clients' lifetimes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from api import (
    admin,
    approvals,
    assessment,
    assistance,
    audit,
    caseload,
    cases,
    closure,
    codec,
    guardianship,
    monitoring,
    problems,
    referrals,
    reports,
    transfers,
    web,
)
from api.context import Services
from api.problems import problem_response
from api.request_text import refuse_nul
from caseflow.logs import get_logger
from caseflow.settings import Settings
from caseflow.temporal import connect
from store.directory import Directory
from store.events import EventStore
from store.pool import create_app_pool

log = get_logger(__name__)

# The API's parts, by who uses them (DOMAIN.md, "Who does the work"), in the order /docs shows.
TAGS = [
    {"name": name, "description": description}
    for name, description in (
        (
            "cases",
            "Caseworkers and supervisors report children; caseworkers, supervisors and "
            "auditors of the case's area read cases and their timelines.",
        ),
        (
            "caseload",
            "Caseworkers, supervisors and auditors: the cases of their area. "
            "Supervisors assign caseworkers.",
        ),
        ("assessment", "Caseworkers and supervisors: needs, eligibility checks, recognition."),
        ("assistance", "Caseworkers and supervisors: the case plan, help requested, delivered."),
        ("referrals", "Caseworkers and supervisors: service referrals to outside agencies."),
        ("guardianship", "Caseworkers and supervisors: guardian changes."),
        ("transfers", "Caseworkers and supervisors: transfers to institutions, boarding schools."),
        ("monitoring", "Caseworkers and supervisors: visits and school status."),
        ("closure", "Caseworkers and supervisors: closure, reopening and corrections."),
        ("approvals", "Supervisors: the approvals inbox and decisions."),
        (
            "audit",
            "Auditors: a case as of any moment (`GET /cases/{case_id}?as_of=`), what "
            "changed between two moments, and the record's integrity (with admins).",
        ),
        ("reports", "Auditors: program figures per county and year, each traced to its events."),
        ("admin", "Admins: users and areas. No case content."),
        ("operations", "Health, and the payload codec for the Temporal UI."),
    )
]


async def bind_case_id(request: Request) -> None:
    """Bind the case id of a case's route to every log line its handler writes. Async, so the
    binding is made in the handler's own context."""
    case_id = request.path_params.get("case_id")
    if case_id is not None:
        structlog.contextvars.bind_contextvars(case_id=str(case_id))


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_app_pool(settings)
        try:
            app.state.pool = pool
            app.state.services = Services(
                settings=settings,
                temporal=await connect(settings),
                events=EventStore(pool),
                directory=Directory(pool),
            )
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="caseflow",
        summary="Cases of children in difficulty, from discovery to closure.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_tags=TAGS,
        dependencies=[Depends(refuse_nul), Depends(bind_case_id)],
    )
    problems.install(app)

    @app.exception_handler(RPCError)
    async def _temporal_unavailable(request: Request, exc: RPCError) -> Response:
        log.error("temporal_unavailable", status=str(exc.status))
        return problem_response(
            503,
            "The case engine is unavailable",
            "Temporal did not answer; try again shortly",
            code="engine_unavailable",
        )

    # The event store restarting or out of reach: asyncpg raises these while connections are
    # lost or refused. The request changed nothing that could be half done (a command's events
    # are appended by the workflow), so the caller may retry with the same Idempotency-Key.
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.exceptions.OperatorInterventionError)  # shutting down
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(asyncpg.exceptions.InternalClientError)
    @app.exception_handler(ConnectionError)
    async def _store_unavailable(request: Request, exc: Exception) -> Response:
        log.error("event_store_unavailable", error=type(exc).__name__)
        return problem_response(
            503,
            "The case engine is unavailable",
            "the event store did not answer; try again shortly",
            code="engine_unavailable",
        )

    for part in (
        cases,
        caseload,
        assessment,
        assistance,
        referrals,
        guardianship,
        transfers,
        monitoring,
        closure,
        approvals,
        audit,
        reports,
        admin,
        codec,
    ):
        app.include_router(part.router)
    # The web UI (pages under /ui/, their styles and scripts under /static/).
    app.include_router(web.router())
    app.mount(web.STATIC_PATH, web.static_files(), name="static")

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestContext)
    return app


class RequestContext:
    """Each request's id (its `X-Request-ID`, or a new one) on its log lines and its answer, and
    one log line per request.

    A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs
    the rest of the app in a task of its own and streams the answer through a memory channel,
    ≈ 7% of the API's CPU per command.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("X-Request-ID") or str(uuid.uuid4())
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**bound)
        # The route's template, not the path: paths and query strings stay out of logs.
        route = scope.get("route")
        log.info(
            "request",
            method=scope["method"],
            route=getattr(route, "path", None),
            case_id=scope.get("path_params", {}).get("case_id"),
            status=status,
        )
