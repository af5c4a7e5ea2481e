"""The decision log in one SQLite file: the embedded default.

Durability: the WAL journal with ``synchronous=FULL``, so an append that returned survives a
crash or power loss; one transaction, hence one fsync, per append call. Writers in several
processes are serialized by ``BEGIN IMMEDIATE``, which takes the file's write lock before the
next sequence number is read; a waiting writer retries for up to the busy timeout.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fleetgate.audit.store._common import SCHEMA_VERSION, SqlDecisionLog, one_line, schema_statements
from fleetgate.audit.store.interface import AuditError

__all__ = ["SqliteDecisionLog", "sqlite_path"]

_URL_FORMS = "sqlite:///relative/path.db or sqlite:////absolute/path.db"


def sqlite_path(url: str) -> str:
    """The file named by ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not rest.startswith("/") or "?" in rest or "#" in rest:
        raise AuditError(f"invalid SQLite audit log URL: use {_URL_FORMS}")
    path = unquote(rest[1:])
    if not path:
        raise AuditError(f"SQLite audit log URL names no file: use {_URL_FORMS}")
    return path


class SqliteDecisionLog(SqlDecisionLog):
    """A decision log in a SQLite database file (``sqlite:///:memory:`` for a throwaway one)."""

    _database_errors = (sqlite3.Error,)
    # Columns are dynamically typed in SQLite: a position or rule of another type gives "!",
    # which no rule_rows_text contains where an item starts, so verification reads the rows.
    _RULE_ROWS_TEXT = (
        "(SELECT group_concat(CASE WHEN typeof(pos) = 'integer' AND typeof(rule) = 'text' "
        "THEN pos || ':' || length(rule) || ':' || rule ELSE '!' END, ',') "
        "FROM (SELECT pos, rule FROM record_rules WHERE seq = r.seq ORDER BY pos))"
    )

    def __init__(self, connection: sqlite3.Connection, where: str) -> None:
        super().__init__(where)
        self._connection = connection

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = 30.0) -> SqliteDecisionLog:
        """Open (creating it and its folder if needed) the log at ``url``."""
        path = sqlite_path(url)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: the module never opens transactions behind our back; we
            # issue BEGIN IMMEDIATE / COMMIT ourselves.
            connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"audit log {path}: could not open: {one_line(str(exc))}") from exc
        log = cls(connection, path)
        try:
            with log._guard("open"):
                log._configure(busy_timeout)
                log._create_schema()
        except AuditError:
            connection.close()
            raise
        return log

    def _configure(self, busy_timeout: float) -> None:
        mode = str(self._execute("PRAGMA journal_mode = WAL")[0][0]).lower()
        if mode not in ("wal", "memory"):
            raise AuditError(f"audit log {self._where}: SQLite refused the WAL journal (got {mode})")
        self._execute("PRAGMA synchronous = FULL")
        self._execute("PRAGMA foreign_keys = ON")
        self._execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")

    def _create_schema(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return  # the common case needs no write lock, so read-only auditors can open the file
        with self._write_transaction():
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                raise AuditError(
                    f"audit log {self._where} has schema version {version}, newer than this "
                    f"fleetgate understands ({SCHEMA_VERSION}); upgrade fleetgate"
                )
            if version == 0 and self._execute("SELECT 1 FROM sqlite_master LIMIT 1"):
                raise AuditError(f"{self._where} is a SQLite database but not a fleetgate decision log")
            # WITHOUT ROWID: nodes and record_rules are all key, stored once instead of twice.
            statements = schema_statements(bigint="INTEGER", blob="BLOB", key_only_tables=" WITHOUT ROWID")
            for statement in statements:
                self._execute(statement)
            self._execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _schema_version(self) -> int:
        return int(self._execute("PRAGMA user_version")[0][0])

    def _execute(
        self, sql: str, params: Sequence[Any] = (), *, custom_plan: bool = False
    ) -> list[tuple[Any, ...]]:
        # SQLite plans every statement when it is prepared: there is no generic plan to avoid.
        return self._connection.execute(sql, params).fetchall()

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._connection.executemany(sql, rows)

    @contextlib.contextmanager
    def _write_transaction(self) -> Iterator[None]:
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._connection.execute("COMMIT")
        except BaseException:
            if self._connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # keep the error that made us roll back
                    self._connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._connection.close()
