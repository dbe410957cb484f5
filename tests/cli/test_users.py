"""`caseflow users`: an operator bootstraps an admin straight in the database; the token it
prints once signs in to the API until it is revoked."""

from __future__ import annotations

import httpx

from tests.cli.conftest import Cli


def test_an_operator_creates_lists_and_revokes_a_user(cli: Cli) -> None:
    created = cli.ok(
        "users", "create", "ops-admin", "--name", "Operator", "--role", "admin", "--area", "53"
    )
    token = created.strip().splitlines()[-1]
    assert token.startswith("cf_")
    assert "shown this once" in created

    # The token signs in: the new admin sees the users of their area through the API.
    with httpx.Client(base_url=cli.stack.url, trust_env=False) as api:
        answer = api.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert "ops-admin" in {user["user_id"] for user in answer.json()}

        listed = cli.json("users", "list", "--area", "53")
        [mine] = [user for user in listed if user["user_id"] == "ops-admin"]
        assert mine == {**mine, "role": "admin", "area": "53", "revoked_at": None}
        assert "demo-caseworker" in cli.ok("users", "list")  # the table, demo users included

        revoked = cli.json("users", "revoke", "ops-admin")
        assert revoked["revoked_at"] is not None
        refused = api.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401

    again = cli.run(
        "users", "create", "ops-admin", "--name", "Operator", "--role", "admin", "--area", "53"
    )
    again.refused("already a user ops-admin")


def test_a_wrong_user_is_refused_in_plain_words(cli: Cli) -> None:
    cli.run(
        "users", "create", "Not Valid", "--name", "X", "--role", "caseworker", "--area", "5306"
    ).refused("user_id")
    cli.run(
        "users",
        "create",
        "far-away",
        "--name",
        "X",
        "--role",
        "caseworker",
        "--area",
        "110101001001",
    ).refused("not in the area tree")
    cli.run("users", "create", "x1", "--name", "X", "--role", "king", "--area", "53").refused()
    cli.run("users", "revoke", "nobody-at-all").refused("there is no user nobody-at-all")
