"""Decision log fixtures: every store test runs once on SQLite and once on a real PostgreSQL server.

The PostgreSQL server is named by FLEETGATE_TEST_POSTGRES_URL (a role that may create schemas;
`eval "$(.ci/postgres.sh)"` starts a local one and sets it). Without it the PostgreSQL tests are
skipped on a developer machine and fail in CI (when CI is set), where the server must be there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetgate.audit.store import DecisionLog, open_log

POSTGRES_ENV = "FLEETGATE_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> str:
    """The test server's URL (skips, or fails in CI, when there is none)."""
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail(
                f"{POSTGRES_ENV} is not set: CI must run the decision log tests against a real "
                'PostgreSQL server (eval "$(.ci/postgres.sh)" starts one)',
                pytrace=False,
            )
        pytest.skip(f'{POSTGRES_ENV} is not set (eval "$(.ci/postgres.sh)" starts a local server)')
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty decision log: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"  # tmp_path is absolute: sqlite:////tmp/...
        return
    server: str = request.getfixturevalue("postgres_url")
    yield from _fresh_schema(server)


def _fresh_schema(server: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    name = f"fleetgate_test_{uuid.uuid4().hex[:16]}"  # a plain identifier: no quoting in the URL
    schema = sql.Identifier(name)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    try:
        separator = "&" if "?" in server else "?"
        yield f"{server}{separator}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))


@pytest.fixture
def log(log_url: str) -> Iterator[DecisionLog]:
    """A fresh, open decision log on each backend."""
    opened = open_log(log_url)
    yield opened
    opened.close()
