"""The web UI's session: a signed cookie naming the signed-in user, and the forms' CSRF token.

The cookie holds no secret and no personal data: the user id, a random session nonce and when
it was issued, signed with HMAC-SHA256. The key is derived (HKDF) from the checkpoint signing key
(`CASEFLOW_CHECKPOINT_SIGNING_KEY`, or the key file of the data folder), which every process of
a deployment already shares, so no new secret has to be distributed; the derivation's label
keeps the two keys independent (knowing one session key says nothing about the signing key).

Every visitor gets a session, signed in or not: its nonce makes the CSRF token every form carries
(an HMAC of the nonce), so even the sign-in form is protected. Signing in or out starts a new
session (a new nonce), so a token seen before signing in is worthless after. Each request looks
the user up again, so a revoked user is signed out at once; a session also expires
`SESSION_LIFETIME` after signing in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request, Response

from caseflow.settings import Settings
from store.integrity import signing_key_for

SESSION_COOKIE: Final = "caseflow_session"
SESSION_LIFETIME: Final = 12 * 3600  # seconds: a working day, then sign in again
_VERSION: Final = "v1"
_KEY_LABEL: Final = b"caseflow web session v1"
_CSRF_LABEL: Final = b"csrf\x00"


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    user_id: str | None  # None: not signed in
    issued_at: int  # seconds since the epoch


def session_key(settings: Settings) -> bytes:
    seed = signing_key_for(settings).private_bytes_raw()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL).derive(seed)


def new_session(user_id: str | None = None) -> Session:
    return Session(nonce=secrets.token_urlsafe(18), user_id=user_id, issued_at=int(time.time()))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, f"{_VERSION}.{payload}".encode(), hashlib.sha256).digest())


def encode_session(key: bytes, session: Session) -> str:
    body = json.dumps(
        {"n": session.nonce, "u": session.user_id, "t": session.issued_at}, separators=(",", ":")
    )
    payload = _b64(body.encode())
    return f"{_VERSION}.{payload}.{_signature(key, payload)}"


def decode_session(key: bytes, value: str, *, now: float | None = None) -> Session | None:
    """The session a cookie holds; None when it is not ours, altered, or expired."""
    version, _, rest = value.partition(".")
    payload, _, signature = rest.partition(".")
    if version != _VERSION or not hmac.compare_digest(signature, _signature(key, payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
        session = Session(nonce=str(body["n"]), user_id=body["u"], issued_at=int(body["t"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if session.user_id is not None and not isinstance(session.user_id, str):
        return None
    age = (time.time() if now is None else now) - session.issued_at
    if session.user_id is not None and not 0 <= age < SESSION_LIFETIME:
        return None
    return session


def csrf_token(key: bytes, session: Session) -> str:
    return _b64(hmac.new(key, _CSRF_LABEL + session.nonce.encode(), hashlib.sha256).digest())


def csrf_matches(key: bytes, session: Session, token: object) -> bool:
    return isinstance(token, str) and hmac.compare_digest(token, csrf_token(key, session))


def set_session_cookie(request: Request, response: Response, key: bytes, session: Session) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (other sites' forms do not send it), and
    Secure whenever the page came over https."""
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(key, session),
        max_age=SESSION_LIFETIME if session.user_id is not None else None,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
