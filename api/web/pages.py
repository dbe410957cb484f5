"""What every page of the web UI shares: who is looking, the templates, refusals as pages.

A page route (`PageRoute`) answers HTML whatever happens: a visitor not signed in is sent to the
sign-in page; a `Problem` (the API's refusals: 403 role or area, 404 no such case or one outside
the area, 409, 422, 503) becomes an error page in plain words with the same status. Every answer
carries the session cookie when it is new, and headers that keep pages holding a child's data out
of caches and frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

import asyncpg
import jinja2
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from temporalio.service import RPCError

from api.context import services
from api.problems import Problem
from api.web import i18n
from api.web.session import (
    SESSION_COOKIE,
    Session,
    csrf_matches,
    csrf_token,
    decode_session,
    new_session,
    session_key,
    set_session_cookie,
)
from caseflow.logs import get_logger
from domain.actors import Actor, Role
from store.directory import User

log = get_logger(__name__)

TEMPLATES_DIR: Final = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
HOME: Final = "/ui/"
SIGN_IN: Final = "/ui/sign-in"

# Scripts and styles come from /static only; nothing frames the pages.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# What the API answers 503 for (api/app.py): Temporal, or the event store, out of reach.
UNAVAILABLE: Final = (
    RPCError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
)
_IDEMPOTENCY_KEY: Final = re.compile(r"^[\x21-\x7e]{1,200}$")

# The menu of each role: (address, label), the work that waits for them first.
MENUS: Final = {
    Role.caseworker: (("/ui/cases", "My caseload"), ("/ui/cases/new", "Report a child")),
    Role.supervisor: (
        ("/ui/approvals", "Approvals"),
        ("/ui/cases", "Caseload"),
        ("/ui/area", "Area overview"),
        ("/ui/cases/new", "Report a child"),
    ),
    Role.auditor: (
        ("/ui/cases", "Caseload"),
        ("/ui/area", "Area overview"),
        ("/ui/report", "Program report"),
        ("/ui/integrity", "Integrity check"),
    ),
    Role.admin: (("/ui/integrity", "Integrity check"),),
}

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


class SignInRequired(Exception):
    """The page needs a signed-in user; the visitor is sent to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """Whoever asked for the page, signed in or not."""

    session: Session
    user: User | None
    language: str
    csrf: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in user: who they are, and the actor the API's checks take."""

    visitor: Visitor
    user: User
    actor: Actor


def _key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "web_session_key", None)
    if key is None:
        key = session_key(services(request).settings)
        request.app.state.web_session_key = key
    return key


def start_session(request: Request, user_id: str | None) -> Session:
    """A new session (signing in or out): a new nonce, so earlier forms' tokens stop working."""
    session = new_session(user_id)
    request.state.new_session = session
    return session


async def visitor(request: Request) -> Visitor:
    key = _key(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = decode_session(key, cookie) if cookie else None
    if session is None:
        session = start_session(request, None)
    user = None
    if session.user_id is not None:
        user = await services(request).directory.user(session.user_id)
        if user is None or user.revoked_at is not None:
            user = None
            session = start_session(request, None)
    found = Visitor(session, user, i18n.language_of(request), csrf_token(key, session))
    request.state.visitor = found
    return found


async def viewer(request: Request, seen: Annotated[Visitor, Depends(visitor)]) -> Viewer:
    if seen.user is None:
        raise SignInRequired
    actor = Actor(user_id=seen.user.user_id, role=Role(seen.user.role), area=seen.user.area)
    found = Viewer(seen, seen.user, actor)
    request.state.viewer = found
    return found


async def checked_form(request: Request, seen: Annotated[Visitor, Depends(visitor)]) -> FormData:
    """The posted form, once its CSRF token matches the session's; else 403."""
    form = await request.form()
    if not csrf_matches(_key(request), seen.session, form.get("csrf_token")):
        log.info("web_form_refused", reason="csrf")
        raise Problem(
            403,
            "Form refused",
            "the form carries no valid CSRF token; reload the page and send it again",
            code="csrf_failed",
        )
    return form


AnyVisitor = Annotated[Visitor, Depends(visitor)]
SignedIn = Annotated[Viewer, Depends(viewer)]
Form = Annotated[FormData, Depends(checked_form)]


def field(form: FormData, name: str) -> str:
    """A text field of the form, stripped ("" when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def idempotency_key(form: FormData) -> str | None:
    """The form's retry key (made when the form was shown): a form sent twice is done once."""
    value = field(form, "idempotency_key")
    return value if _IDEMPOTENCY_KEY.match(value) else None


def local_path(value: str | None, default: str = HOME) -> str:
    """`value` if it is a path of the UI (never another site), else `default`."""
    if (
        value
        and value.startswith("/ui/")
        and not value.startswith(("//", "/\\"))
        and ("\\" not in value)
    ):
        return value
    return default


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# What the forms' script says about a field, in the page's language (static/forms.js).
_FORM_MESSAGES: Final = {
    "valueMissing": "This field is required.",
    "patternMismatch": "The value does not have the expected form.",
    "typeMismatch": "The value does not have the expected form.",
    "badInput": "The value does not have the expected form.",
    "tooLong": "The value is too long.",
    "rangeUnderflow": "The value is too small.",
    "rangeOverflow": "The value is too large.",
    "future": "The date cannot be in the future.",
    "tooOld": "The program serves children under 18.",
}


def _form_messages(language: str) -> str:
    return json.dumps(
        {name: i18n.translate(language, text) for name, text in _FORM_MESSAGES.items()},
        ensure_ascii=False,
    )


def menu(role: Role | None, path: str) -> list[tuple[str, str, bool]]:
    """The role's menu as (address, label, whether it is the page shown): the longest address
    the page's path starts with is the one shown."""
    items = MENUS.get(role, ()) if role is not None else ()
    matching = [href for href, _ in items if path == href or path.startswith(href + "/")]
    here = max(matching, key=len, default=None)
    return [(href, label, href == here) for href, label in items]


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    seen: Visitor | None = getattr(request.state, "visitor", None)
    language = seen.language if seen is not None else i18n.language_of(request)
    query = f"?{request.url.query}" if request.url.query else ""
    shown_viewer: Viewer | None = getattr(request.state, "viewer", None)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {
            "lang": language,
            "t": partial(i18n.translate, language),
            "term": partial(i18n.term, language),
            "figure_label": partial(i18n.figure_label, language),
            "duration": partial(i18n.duration, language),
            "when": i18n.when,
            "problem_words": lambda problem: i18n.plain_words(problem.code, problem.status),
            "visitor": seen,
            "viewer": shown_viewer,
            "menu": menu(shown_viewer.actor.role if shown_viewer else None, request.url.path),
            "csrf": seen.csrf if seen is not None else "",
            "here": request.url.path + query,
            "form_messages": _form_messages(language),
            **context,
        },
        status_code=status_code,
    )
    return response


def problem_page(request: Request, problem: Problem) -> HTMLResponse:
    language = i18n.language_of(request)
    plain = i18n.plain_words(problem.code, problem.status)
    return render(
        request,
        "error.html",
        status_code=problem.status,
        title=problem.title,
        plain=i18n.translate(language, plain),
        detail=problem.detail,
    )


def no_page(request: Request) -> HTMLResponse:
    return problem_page(
        request,
        Problem(404, "Not found", "there is no page at this address", code="no_page"),
    )


class PageRoute(APIRoute):
    """A route answering HTML pages, refusals and sign-in redirects included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                back = request.url.path if request.method == "GET" else HOME
                if request.method == "GET" and request.url.query:
                    back += f"?{request.url.query}"
                response = see_other(f"{SIGN_IN}?next={quote(local_path(back), safe='')}")
            except Problem as problem:
                response = problem_page(request, problem)
            except RequestValidationError as invalid:
                # Which query or path field, never the value sent.
                fields = ", ".join(
                    ".".join(str(part) for part in error["loc"][1:]) for error in invalid.errors()
                )
                response = problem_page(
                    request,
                    Problem(
                        422,
                        "The request is not valid",
                        f"check {fields or 'the address'}",
                        code="invalid_request",
                    ),
                )
            except UNAVAILABLE as error:
                log.error("engine_unavailable", error=type(error).__name__)
                response = problem_page(
                    request,
                    Problem(
                        503,
                        "The case engine is unavailable",
                        "Temporal or the event store did not answer; try again shortly",
                        code="engine_unavailable",
                    ),
                )
            fresh: Session | None = getattr(request.state, "new_session", None)
            if fresh is not None:
                set_session_cookie(request, response, _key(request), fresh)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return answer
