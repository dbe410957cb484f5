"""The web UI: server-rendered pages for caseworkers, supervisors and auditors, served by the API
process under /ui/ (templates in api/templates, styles and the few scripts in api/static).

- account.py: signing in with a token (a session cookie instead), signing out, the language
  switch, each role's start page;
- casework.py: the caseload, reporting a child, the case page and its actions;
- supervision.py: the approvals inbox and the area overview;
- auditing.py: a case's history and moments, the integrity checks, the program report.

Pages use the API's own functions (its checks of role and area, `send_command`), never its HTTP
endpoints; pages.py holds what they share (sessions, CSRF, refusals as pages), session.py the
signed cookie, i18n.py the two languages.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.web import account, auditing, casework, supervision
from api.web.pages import STATIC_DIR

STATIC_PATH = "/static"


def router() -> APIRouter:
    """Every page of the UI; the catch-all 404 page last."""
    pages = APIRouter(include_in_schema=False)
    for part in (account.router, casework.router, supervision.router, auditing.router):
        pages.include_router(part)
    pages.include_router(account.not_found_router())
    return pages


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
