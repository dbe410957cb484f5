"""Signing in and out, the language switch, and each role's start page.

Signing in takes the bearer token an admin gave the user (the API's credential) once, and gives
a session cookie instead; the token itself is never stored in the browser.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.context import services
from api.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from api.web.pages import (
    HOME,
    SIGN_IN,
    AnyVisitor,
    Form,
    PageRoute,
    SignedIn,
    field,
    local_path,
    no_page,
    render,
    see_other,
    start_session,
)
from caseflow.logs import get_logger
from domain.actors import Role

log = get_logger(__name__)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Where each role starts: the work that waits for them.
START_PAGES = {
    Role.caseworker: "/ui/cases",
    Role.supervisor: "/ui/approvals",
    Role.auditor: "/ui/cases",
    Role.admin: "/ui/integrity",
}


@router.get("/")
async def root() -> Response:
    return see_other(HOME)


@router.get("/ui")
@router.get("/ui/")
async def home(viewer: SignedIn) -> Response:
    return see_other(START_PAGES.get(viewer.actor.role, SIGN_IN))


@router.get("/ui/sign-in")
async def sign_in_page(request: Request, visitor: AnyVisitor, next: str | None = None) -> Response:
    if visitor.user is not None:
        return see_other(local_path(next))
    return render(request, "sign_in.html", next=local_path(next), refused=False)


@router.post("/ui/sign-in")
async def sign_in(request: Request, form: Form) -> Response:
    user = await services(request).directory.user_for_token(field(form, "token"))
    next_page = local_path(field(form, "next"))
    if user is None:
        log.info("web_sign_in_refused")
        return render(request, "sign_in.html", status_code=401, next=next_page, refused=True)
    start_session(request, user.user_id)
    log.info("web_signed_in", user_id=user.user_id, role=user.role)
    return see_other(next_page)


@router.post("/ui/sign-out")
async def sign_out(request: Request, form: Form) -> Response:
    start_session(request, None)
    return see_other(SIGN_IN)


@router.post("/ui/language")
async def choose_language(request: Request, form: Form) -> Response:
    language = field(form, "lang")
    response = see_other(local_path(field(form, "next")))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def not_found_router() -> APIRouter:
    """The UI's 404 page for any other address under /ui/: included last."""
    last = APIRouter(route_class=PageRoute, include_in_schema=False)

    @last.get("/ui/{anything:path}")
    async def nothing_here(request: Request, visitor: AnyVisitor) -> HTMLResponse:
        return no_page(request)

    return last
