"""`caseflow users`: operators manage users straight in the database (store.directory), with the
database of the settings (`DATABASE_URL`, or the embedded server of `caseflow up`).

No token is needed: this is how the first admin is made, who then manages users over the API
(`/admin/users`). A new user's token is printed once and only its hash is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer

from workers.cli_output import Json, fail, print_json, print_table, say

if TYPE_CHECKING:
    from store.directory import Directory, User

users = typer.Typer(
    help="Users and their tokens, straight in the database (operators; no token needed).",
    no_args_is_help=True,
)

T = TypeVar("T")


class UserRole(StrEnum):
    caseworker = "caseworker"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"


@users.command("create")
def create_user(
    user_id: Annotated[str, typer.Argument(help="Lower-case letters, digits, '.', '_', '-'.")],
    name: Annotated[str, typer.Option("--name", help="The name shown for the user.")],
    role: Annotated[UserRole, typer.Option("--role", help="What the user may do.")],
    area: Annotated[
        str, typer.Option("--area", help="The user's area code: 2 to 12 digits, e.g. 530627101.")
    ],
    as_json: Json = False,
) -> None:
    """Create a user and print their bearer token, once: hand it over now, it is not kept."""
    from pydantic import ValidationError

    from api.admin import NewUser
    from store.directory import DirectoryConflict, UnknownArea, User

    try:
        new = NewUser(user_id=user_id, display_name=name, role=role.value, area=area)
    except ValidationError as invalid:
        # The API's own rules for a user, so both ways of adding one agree.
        fields = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in invalid.errors()
        )
        fail(f"the user is not valid: {fields}")

    async def add(directory: Directory) -> tuple[str, User | None]:
        token = await directory.add_user(User(new.user_id, new.display_name, new.role, new.area))
        return token, await directory.user(new.user_id)

    try:
        token, created = _with_directory(add)
    except DirectoryConflict as conflict:
        fail(f"{conflict}; choose another user id")
    except UnknownArea as unknown:
        fail(f"{unknown}; check the code, or add the area first (POST /admin/areas)")
    assert created is not None
    if as_json:
        print_json({"user": _user_json(created), "token": token})
        return
    say(f"Created {created.user_id} ({created.role}, area {created.area}).")
    say("Their token, shown this once and not kept anywhere (hand it over now):")
    say(token)


@users.command("list")
def list_users(
    area: Annotated[
        str, typer.Option("--area", help="Only users of this area and below (default: all).")
    ] = "",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 200,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Json = False,
) -> None:
    """List users, revoked ones included, by area."""

    async def read(directory: Directory) -> list[User]:
        return await directory.users(within=area, limit=limit, offset=offset)

    found = _with_directory(read)
    if as_json:
        print_json([_user_json(user) for user in found])
        return
    print_table(
        None,
        ["user", "name", "role", "area", "created", "revoked"],
        ((u.user_id, u.display_name, u.role, u.area, u.created_at, u.revoked_at) for u in found),
        empty="No users" + (f" in area {area}." if area else "."),
    )


@users.command("revoke")
def revoke_user(
    user_id: Annotated[str, typer.Argument(help="The user whose token stops working now.")],
    as_json: Json = False,
) -> None:
    """Revoke a user's token from now on (revoking again changes nothing)."""

    async def revoke(directory: Directory) -> User | None:
        return await directory.revoke_user(user_id)

    revoked = _with_directory(revoke)
    if revoked is None:
        fail(f"there is no user {user_id}; `caseflow users list` shows who there is")
    if as_json:
        print_json(_user_json(revoked))
        return
    say(f"Revoked {revoked.user_id}: their token no longer signs in (since {revoked.revoked_at}).")


def _with_directory(work: Callable[[Directory], Awaitable[T]]) -> T:
    """Run `work` on the directory of the settings' database, as the application role."""
    from caseflow.settings import get_settings
    from store.directory import Directory
    from store.pool import create_app_pool

    settings = get_settings()

    async def run() -> T:
        pool = await create_app_pool(settings, max_size=1)
        try:
            return await work(Directory(pool))
        finally:
            await pool.close()

    import asyncpg

    try:
        return asyncio.run(run())
    except asyncpg.PostgresError as error:
        fail(f"the database refused: {error}; check DATABASE_URL and `caseflow migrate`")
    except OSError as error:
        where = urlsplit(settings.resolved_database_url)
        fail(
            f"cannot reach the database at {where.hostname}:{where.port or 5432} "
            f"({error.strerror or type(error).__name__}); start it (`caseflow up`) or set "
            "DATABASE_URL"
        )


def _user_json(user: User) -> dict[str, Any]:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in asdict(user).items()
    }
