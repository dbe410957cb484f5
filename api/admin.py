"""Administration (admins): users and areas of the admin's own area. No case content here.

A new user's bearer token is in the answer that creates them, once; only its hash is kept. A
revoked user's token stops signing in at once (401). An admin does not revoke their own token:
another admin does, so an area is never left without one by mistake.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.access import ADMINS, require_area, require_role
from api.auth import CurrentActor
from api.context import services
from api.problems import Problem, problem_responses
from domain.actors import Actor
from domain.areas import AreaCode, level_of, parent
from store.directory import Area, DirectoryConflict, UnknownArea, User

router = APIRouter(prefix="/admin", tags=["admin"])

UserId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Every role but `system` (the engine itself) signs in.
UserRole = Literal["caseworker", "supervisor", "auditor", "admin"]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId = Field(description="Lower-case letters, digits, '.', '_' and '-'.")
    display_name: Name
    role: UserRole
    area: AreaCode


class CreatedUser(BaseModel):
    user: User
    token: str = Field(description="The user's bearer token. Shown this once: hand it over now.")


class NewArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: AreaCode = Field(description="The area's division code prefix; its parent must exist.")
    name: Name


def _check_admin(actor: Actor) -> None:
    require_role(actor, ADMINS, "manage users and areas")


@router.get("/users", response_model=list[User], responses=problem_responses(403, 422))
async def list_users(
    actor: CurrentActor,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[User]:
    """The users of the admin's area, revoked ones included."""
    _check_admin(actor)
    return await services(request).directory.users(within=actor.area, limit=limit, offset=offset)


@router.post(
    "/users",
    status_code=201,
    response_model=CreatedUser,
    responses=problem_responses(403, 409, 422),
)
async def create_user(
    body: NewUser, actor: CurrentActor, request: Request, response: Response
) -> CreatedUser:
    """Create a user of the admin's area; the answer holds their token, once."""
    _check_admin(actor)
    require_area(actor, body.area, "area")
    user = User(body.user_id, body.display_name, body.role, body.area)
    directory = services(request).directory
    try:
        token = await directory.add_user(user)
    except DirectoryConflict as conflict:
        raise Problem(
            409, "Already there", f"{conflict}; choose another user id", code="conflict"
        ) from None
    except UnknownArea as unknown:
        raise Problem(
            422, "Unknown area", f"{unknown}; add the area first", code="unknown_area"
        ) from None
    created = await directory.user(user.user_id)
    assert created is not None
    response.headers["Cache-Control"] = "no-store"
    return CreatedUser(user=created, token=token)


@router.post(
    "/users/{user_id}/revocation", response_model=User, responses=problem_responses(403, 404, 409)
)
async def revoke_user(user_id: UserId, actor: CurrentActor, request: Request) -> User:
    """Revoke a user's token from now on (revoking again changes nothing)."""
    _check_admin(actor)
    if user_id == actor.user_id:
        raise Problem(
            409,
            "Not your own",
            "you cannot revoke your own token; ask another admin",
            code="own_token",
        )
    directory = services(request).directory
    user = await directory.user(user_id)
    if user is None or not actor.reaches(user.area):
        raise Problem(
            404, "User not found", f"there is no user {user_id} in your area", code="not_found"
        )
    revoked = await directory.revoke_user(user_id)
    assert revoked is not None
    return revoked


@router.get("/areas", response_model=list[Area], responses=problem_responses(403))
async def list_areas(actor: CurrentActor, request: Request) -> list[Area]:
    """The admin's area and every area below it, parents before their children."""
    _check_admin(actor)
    return await services(request).directory.areas(within=actor.area)


@router.post(
    "/areas", status_code=201, response_model=Area, responses=problem_responses(403, 409, 422)
)
async def create_area(body: NewArea, actor: CurrentActor, request: Request) -> Area:
    """Add an area below an existing one, inside the admin's area. Its level and parent follow
    from its code (a village's 12 digits begin with its township's 9)."""
    _check_admin(actor)
    above = parent(body.code)
    if above is None:
        raise Problem(
            422,
            "Not below an area",
            "a province is not added here; add prefectures, counties, townships and villages",
            code="invalid_request",
        )
    require_area(actor, above, "area")
    area = Area(body.code, body.name, level_of(body.code).value, above)
    try:
        await services(request).directory.add_area(area)
    except DirectoryConflict as conflict:
        raise Problem(409, "Already there", str(conflict), code="conflict") from None
    except UnknownArea as unknown:
        raise Problem(
            422, "Unknown parent area", f"{unknown}; add it first", code="unknown_area"
        ) from None
    return area
