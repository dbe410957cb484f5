"""Getting a database ready on start: migrations, then (first start only) the demo directory."""

from __future__ import annotations

from pathlib import Path

from caseflow.settings import Settings
from store.directory import Directory
from store.migrate import apply_migrations
from store.pool import create_app_pool, set_app_password
from workers.demo import DemoUser, load_directory, read_demo_users, report_demo_children


def tokens_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-users.json"


async def prepare(settings: Settings) -> list[str]:
    """Apply migrations and load the demo directory; return the lines to print for the user."""
    await apply_migrations(settings.resolved_database_url)
    if settings.app_database_password is not None:
        await set_app_password(settings.resolved_database_url, settings.app_database_password)
    if not settings.load_demo:
        return []
    pool = await create_app_pool(settings, max_size=2)
    try:
        users = await load_directory(Directory(pool), tokens_file(settings))
    finally:
        await pool.close()
    return sign_in_lines(users)


def sign_in_lines(users: list[DemoUser]) -> list[str]:
    width = max(len(user.user_id) for user in users)
    return ["Demo sign-in tokens (Authorization: Bearer <token>):"] + [
        f"  {user.user_id:<{width}}  {user.role:<10}  area {user.area:<12}  {user.token}"
        for user in users
    ]


async def after_start(settings: Settings, api_url: str) -> None:
    """Once the API answers: report the demo children (idempotent, so every start may call it)."""
    if not settings.load_demo or not tokens_file(settings).exists():
        return
    caseworker = next(u for u in read_demo_users(tokens_file(settings)) if u.role == "caseworker")
    await report_demo_children(api_url, caseworker)
