"""Acting as a user through the HTTP API: the `--api-url` and `--token` options, and a client
that turns the API's problems (RFC 9457) into one plain sentence and a non-zero exit code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import typer

from workers.cli_output import USAGE, fail

TIMEOUT_SECONDS = 60.0

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        envvar="CASEFLOW_API_URL",
        help="The caseflow API; default http://CASEFLOW_API_HOST:CASEFLOW_API_PORT.",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CASEFLOW_TOKEN",
        help="Your bearer token (better: set CASEFLOW_TOKEN, which stays out of shell history).",
        show_default=False,
    ),
]


class ApiProblem(Exception):
    """The API refused or failed a request; `message` says why in its own words."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def default_api_url() -> str:
    from caseflow.settings import get_settings

    settings = get_settings()
    host = settings.api_host
    # A wildcard address is where the server listens, not where to reach it.
    if host in ("0.0.0.0", "::", ""):  # noqa: S104
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Api:
    """The API as one signed-in user; every method answers the decoded JSON, or raises
    `ApiProblem`."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def get(self, path: str, **params: Any) -> Any:
        return _answer(self._http.get(path, params=_given(params)))

    def text(self, path: str, **params: Any) -> str:
        answer = self._http.get(path, params=_given(params))
        _raise_for_problem(answer)
        return answer.text

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return _answer(self._http.post(path, json=body, headers=headers))


@contextmanager
def signed_in(api_url: str | None, token: str | None) -> Iterator[Api]:
    """The API as the token's user; a problem on the way ends the command with its message."""
    if not token:
        fail(
            "no token: give --token or set CASEFLOW_TOKEN (an admin creates users and their "
            "tokens with `caseflow users create`)",
            code=USAGE,
        )
    url = (api_url or default_api_url()).rstrip("/")
    try:
        with httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
            # A proxy configured for the internet must not see a request to this machine.
            trust_env=not is_loopback(url),
        ) as http:
            yield Api(http)
    except ApiProblem as problem:
        fail(problem.message)
    except httpx.TransportError as error:
        fail(
            f"cannot reach the caseflow API at {url} ({type(error).__name__}); is it running "
            "(`caseflow up`)? Point --api-url or CASEFLOW_API_URL at it"
        )
    except httpx.InvalidURL:
        fail(f"{url} is not a URL; give --api-url like http://127.0.0.1:8000", code=USAGE)


def parse_moment(text: str, option: str) -> datetime:
    """A moment given on the command line: ISO 8601; without an offset, this machine's zone."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date and time; write it like 2026-03-01T09:30 or "
            "2026-03-01T09:30+08:00",
            param_hint=option,
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def _given(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def _answer(answer: httpx.Response) -> Any:
    _raise_for_problem(answer)
    return answer.json()


def _raise_for_problem(answer: httpx.Response) -> None:
    if answer.is_success:
        return
    try:
        problem = answer.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict) and "detail" in problem:
        title = str(problem.get("title") or "")
        detail = str(problem["detail"])
        message = f"{title}: {detail}" if title and title != detail else detail
        code = problem.get("code")
        raise ApiProblem(answer.status_code, message, code if isinstance(code, str) else None)
    raise ApiProblem(
        answer.status_code,
        f"the API answered {answer.status_code} {answer.reason_phrase} to "
        f"{answer.request.method} {answer.request.url.path}",
    )
