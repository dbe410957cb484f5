"""Who is calling: a bearer token resolved to a user with a role and an area."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import services
from api.problems import Problem
from domain.actors import Actor, Role

bearer = HTTPBearer(auto_error=False, description="A caseflow user's bearer token.")


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None:
        raise Problem(401, "Sign-in required", "send your token as 'Authorization: Bearer <token>'")
    user = await services(request).directory.user_for_token(credentials.credentials)
    if user is None:
        raise Problem(
            401, "Sign-in failed", "the token is unknown or revoked; ask an admin for a new one"
        )
    return Actor(user_id=user.user_id, role=Role(user.role), area=user.area)


CurrentActor = Annotated[Actor, Depends(current_actor)]
