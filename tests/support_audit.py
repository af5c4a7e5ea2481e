"""The decision-log attacker the witness answers: database write access and the real signing key.

:func:`rebuild_history` rewrites one record, recomputes every hash and tree node, drops the
stored checkpoints and signs a fresh one with the real key, so that everything stored in the
database verifies again.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fleetgate.audit.log import make_checkpoint
from fleetgate.audit.merkle import new_perfect_nodes
from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import DecisionLog

POSTGRES_ENV = "FLEETGATE_TEST_POSTGRES_URL"


def postgres_server() -> str:
    """The PostgreSQL test server's URL; skips the test (fails it in CI) when there is none."""
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


def fresh_schema(server: str) -> Iterator[str]:
    """The URL of a new, empty schema on ``server``, dropped again afterwards."""
    import psycopg
    from psycopg import sql as pgsql

    name = f"fleetgate_test_{uuid.uuid4().hex[:16]}"  # a plain identifier: no quoting in the URL
    schema = pgsql.Identifier(name)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(pgsql.SQL("CREATE SCHEMA {}").format(schema))
    try:
        separator = "&" if "?" in server else "?"
        yield f"{server}{separator}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(schema))


def sql(log: DecisionLog, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Plain SQL behind the log's back, as someone with write access to its database runs it."""
    rows: list[tuple[Any, ...]] = log._execute(statement, params)  # type: ignore[attr-defined]
    return rows


def rebuild_history(log: DecisionLog, seq: int, change: dict[str, Any], origin: str, signer: str) -> None:
    """Rewrite record ``seq`` with ``change`` and make the whole database consistent with it."""
    leaves = []
    for record in list(log.records(0, log.size())):
        body, leaf = record.body, record.leaf_hash
        if record.seq == seq:
            document = {k: v for k, v in json.loads(body).items() if k != "seq"} | change
            body, leaf = seal(document, seq)
            columns = record_columns(document).columns()
            sql(log, "UPDATE records SET body = ?, leaf_hash = ? WHERE seq = ?", body, leaf, seq)
            for name in ("decision", "namespace", "name", "stage"):  # constants, never input
                sql(log, f"UPDATE records SET {name} = ? WHERE seq = ?", columns[name], seq)
        leaves.append(leaf)
    sql(log, "DELETE FROM checkpoints")
    sql(log, "DELETE FROM nodes")
    for level, index, digest in new_perfect_nodes(0, leaves, lambda _level, _index: None):
        sql(log, "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", level, index, digest)
    make_checkpoint(log, origin, signer, "2026-12-01T00:00:00Z")
