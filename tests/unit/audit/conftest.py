"""Decision log fixtures: every store test runs once on SQLite and once on a real PostgreSQL server.

The PostgreSQL server is named by FLEETGATE_TEST_POSTGRES_URL (a role that may create schemas;
`eval "$(.ci/postgres.sh)"` starts a local one and sets it). Without it the PostgreSQL tests are
skipped on a developer machine and fail in CI (when CI is set), where the server must be there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetgate.audit.store import DecisionLog, open_log
from support_audit import fresh_schema, postgres_server


@pytest.fixture
def postgres_url() -> str:
    """The test server's URL (skips, or fails in CI, when there is none)."""
    return postgres_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty decision log: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"  # tmp_path is absolute: sqlite:////tmp/...
        return
    server: str = request.getfixturevalue("postgres_url")
    yield from fresh_schema(server)


@pytest.fixture
def log(log_url: str) -> Iterator[DecisionLog]:
    """A fresh, open decision log on each backend."""
    opened = open_log(log_url)
    yield opened
    opened.close()
