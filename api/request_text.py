"""Text the event store cannot hold: the NUL character.

JSON may carry it (`\\u0000`), the event log (PostgreSQL `json`) stores it, but nothing that reads
the log as `jsonb` can (the projections fold every case into `jsonb` states): one such character
in a caseworker's note would stop every projection at that event. No person types it, so a body
holding it is refused before anything is decided, with an answer that says where to look.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import Request

from api.problems import Problem

# `\u0000` as an escape of its own, not the text `\\u0000` (an escaped backslash, then "u0000").
_NUL_ESCAPE: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body = await request.body()
    if b"\x00" in body or _NUL_ESCAPE.search(body):
        raise Problem(
            422,
            "The request is not valid",
            "a text holds the NUL character (\\u0000); remove it and send the request again",
            code="invalid_request",
        )
