from __future__ import annotations

import pytest

from store.pool import app_database_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5433/caseflow",
            "postgresql://caseflow_app@127.0.0.1:5433/caseflow",
        ),
        (
            "postgres://owner:s3cret@db.example:5432/cf?sslmode=require&user=owner",
            "postgres://caseflow_app@db.example:5432/cf?sslmode=require",
        ),
        ("postgresql://localhost/cf", "postgresql://caseflow_app@localhost/cf"),
    ],
)
def test_app_database_url_swaps_the_user_and_drops_the_owners_password(
    url: str, expected: str
) -> None:
    assert app_database_url(url) == expected


def test_app_database_url_takes_the_app_roles_own_password() -> None:
    assert (
        app_database_url("postgresql://owner:x@h/cf", password="p@ss/word")
        == "postgresql://caseflow_app:p%40ss%2Fword@h/cf"
    )


def test_app_database_url_wants_a_url() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        app_database_url("host=localhost user=postgres")
