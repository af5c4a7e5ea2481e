"""The decision log in PostgreSQL, for fleets of CI runners that share one log.

Every append runs in one transaction that first takes a transaction-scoped advisory lock, so
appends from any number of runners are serialized and sequence numbers stay contiguous; the
lock is released by COMMIT or ROLLBACK, including when a runner's connection dies. The tables
are created in the first schema of the connection's ``search_path`` (choose one with
``?options=-csearch_path%3Dmy_schema`` in the URL).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fleetgate.audit.store._common import (
    SCHEMA_VERSION,
    SqlDecisionLog,
    one_line,
    redact_url,
    schema_statements,
)
from fleetgate.audit.store.interface import AuditError

__all__ = ["PostgresDecisionLog"]

# One lock for fleetgate's appends in a database ("fleetgat" in ASCII). Logs in different schemas
# of one database share it, which only serializes them a little more than needed.
_APPEND_LOCK = 0x666C656574676174
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
# The size, the decision ids already taken, and the right edge of the tree (the perfect subtree
# of each level whose bit is set in the size, at index size >> level minus one) in one statement.
_HEAD = """WITH RECURSIVE head (size) AS (SELECT coalesce(max(seq) + 1, 0) FROM records),
levels (level) AS (SELECT 0 UNION ALL SELECT level + 1 FROM levels WHERE level < 62)
SELECT 0, NULL::integer, size, NULL::text, NULL::bytea FROM head
UNION ALL SELECT 1, NULL, NULL, decision_id, NULL FROM records WHERE decision_id = ANY(%s)
UNION ALL SELECT 2, n.level, n.idx, NULL, n.hash FROM head
    JOIN levels ON (head.size >> levels.level) & 1 = 1
    JOIN nodes n ON n.level = levels.level AND n.idx = (head.size >> levels.level) - 1"""
_DEFAULT_CONNECT_TIMEOUT = 10  # seconds; a dead server should fail the gate, not hang it


class PostgresDecisionLog(SqlDecisionLog):
    """A decision log in a PostgreSQL database (psycopg 3)."""

    _database_errors = (psycopg.Error,)
    _RULE_ROWS_TEXT = (
        "(SELECT string_agg(pos || ':' || length(rule) || ':' || rule, ',' ORDER BY pos) "
        "FROM record_rules WHERE seq = r.seq)"
    )

    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]], where: str, password: str) -> None:
        super().__init__(where)
        self._connection = connection
        self._password = password

    @classmethod
    def open(cls, url: str) -> PostgresDecisionLog:
        """Connect to ``url`` (``postgresql://`` or ``postgres://``) and create the tables if needed."""
        where = redact_url(url)
        password = _password(url)
        try:
            conninfo = url
            if "connect_timeout" not in conninfo_to_dict(url):
                conninfo = make_conninfo(url, connect_timeout=_DEFAULT_CONNECT_TIMEOUT)
            connection = psycopg.connect(conninfo, autocommit=True)
            # Appends rely on each statement seeing what committed before it (see _append_head).
            connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        except psycopg.Error as exc:
            reason = _scrub(one_line(str(exc)), password) or type(exc).__name__
            # "from None": the chained error would repeat the connection details.
            raise AuditError(f"audit log {where}: could not connect: {reason}") from None
        log = cls(connection, where, password)
        try:
            with log._guard("open"):
                log._create_schema()
        except AuditError:
            connection.close()
            raise
        return log

    def _create_schema(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return
        with self._write_transaction():  # the advisory lock also serializes concurrent creators
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                raise AuditError(
                    f"audit log {self._where} has schema version {version}, newer than this "
                    f"fleetgate understands ({SCHEMA_VERSION}); upgrade fleetgate"
                )
            if version == 0 and self._execute("SELECT to_regclass('records')")[0][0] is not None:
                raise AuditError(f"audit log {self._where}: a table 'records' exists but is not fleetgate's")
            for statement in schema_statements(bigint="BIGINT", blob="BYTEA"):
                self._execute(statement)
            self._execute("CREATE TABLE fleetgate_schema (version INTEGER NOT NULL)")
            self._execute("INSERT INTO fleetgate_schema (version) VALUES (?)", (SCHEMA_VERSION,))

    def _schema_version(self) -> int:
        if self._execute("SELECT to_regclass('fleetgate_schema')")[0][0] is None:
            return 0
        rows = self._execute("SELECT max(version) FROM fleetgate_schema")
        return int(rows[0][0] or 0)

    def _describe(self, error: Exception) -> str:
        return _scrub(super()._describe(error), self._password)

    def _execute(
        self, sql: str, params: Sequence[Any] = (), *, custom_plan: bool = False
    ) -> list[tuple[Any, ...]]:
        # Binary results: record bodies and hashes arrive as bytes instead of hex text, which
        # halves the cost of reading a million records for `audit verify`. psycopg prepares a
        # statement on its fifth run, and the server may then keep one generic plan for it;
        # an auditor's filters differ so much in selectivity that each needs its own plan.
        with self._connection.cursor(binary=True) as cursor:
            cursor.execute(_placeholders(sql), params, prepare=False if custom_plan else None)
            return cursor.fetchall() if cursor.description is not None else []

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)

    @contextlib.contextmanager
    def _write_transaction(self) -> Iterator[None]:
        with self._connection.transaction():
            self._execute("SELECT pg_advisory_xact_lock(?)", (_APPEND_LOCK,))
            yield

    @contextlib.contextmanager
    def _append_transaction(self) -> Iterator[None]:
        # Pipeline mode: statements are sent without waiting for each answer. BEGIN, the lock
        # and _append_head's statement make one round trip; the inserts and COMMIT another.
        with self._connection.pipeline(), self._connection.transaction():
            self._connection.execute(_LOCK, (_APPEND_LOCK,))
            yield

    def _append_head(self, ids: Sequence[str]) -> tuple[int, list[str], dict[tuple[int, int], bytes]]:
        # Its own statement after the lock's: under READ COMMITTED each statement sees what was
        # committed before it started, so it sees every record of the writer it waited for.
        with self._connection.cursor(binary=True) as cursor:
            rows = cursor.execute(_HEAD, (list(ids),)).fetchall()
        size, taken, edge = 0, set(), {}
        for part, level, index, decision_id, digest in rows:
            if part == 0:
                size = int(index)
            elif part == 1:
                taken.add(decision_id)
            else:
                edge[int(level), int(index)] = bytes(digest)
        return size, [i for i in ids if i in taken], edge

    def close(self) -> None:
        self._connection.close()


def _placeholders(sql: str) -> str:
    # The shared statements use "?" and contain no other "?" or "%": values are never in the text.
    return sql.replace("?", "%s")


def _password(url: str) -> str:
    try:
        return str(conninfo_to_dict(url).get("password") or "")
    except psycopg.Error:
        found = re.match(r"^[^:/?#]*://[^:/?#@]*:([^/?#]*)@", url)
        return found.group(1) if found else ""


def _scrub(text: str, password: str) -> str:
    return text.replace(password, "***") if password else text
