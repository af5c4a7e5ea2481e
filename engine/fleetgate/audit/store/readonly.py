"""The decision log opened for reading only, as the auditor console and read-only verbs use it.

SQLite is opened with a ``mode=ro`` URI (and ``query_only``), PostgreSQL with every transaction
of the session read-only, so a bug in a reader, or a hostile request, cannot change the log:
the database itself refuses. Nothing is created: a missing log, or one of another schema
version, is an error. Writers keep using :func:`fleetgate.audit.store.open_log`.

Besides the :class:`DecisionLog` reads, a read-only log pages records by sequence number
(keyset pagination: stable while checks keep appending) and answers "which record admitted
each deployment last, as of a moment".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from fleetgate.audit.store._common import _SELECT_RECORDS, SCHEMA_VERSION, SqlDecisionLog, one_line
from fleetgate.audit.store._filters import where_clause
from fleetgate.audit.store.interface import AuditError, DecisionLog, QueryFilter, StoredRecord
from fleetgate.audit.store.sqlite import SqliteDecisionLog, sqlite_path

__all__ = ["ADMITTING", "ReadOnlyLog", "open_readonly_log"]

ADMITTING = ("admit", "override")
"""Decisions that let a deployment go ahead: an admit, or an override of a deny."""


class ReadOnlyLog(DecisionLog, Protocol):
    def page(self, filters: QueryFilter, before: int | None, limit: int) -> list[StoredRecord]:
        """Records matching ``filters`` with ``seq < before`` (any, when None), highest seq first."""
        ...

    def latest_admitted(self, filters: QueryFilter, stage: str) -> list[StoredRecord]:
        """Per deployment (namespace, name), the last record matching ``filters`` that admitted
        it (or overrode its deny) at ``stage``; by namespace, then name."""
        ...

    def counts(self, since: str) -> list[tuple[str, str, int]]:
        """(day, decision, count) of the records from ``since`` on."""
        ...

    def rule_counts(self, since: str, decision: str, limit: int) -> list[tuple[str, int]]:
        """The rules most often named by records with ``decision`` since ``since``, with counts."""
        ...


class _Reads(SqlDecisionLog):
    """The read-only queries, shared by both backends (constant SQL, values as parameters)."""

    def page(self, filters: QueryFilter, before: int | None, limit: int) -> list[StoredRecord]:
        where, params = where_clause(filters)
        if before is not None:
            where, params = _and(where, params, "seq < ?", [before])
        with self._guard("query records"):
            return self._records(
                f"{_SELECT_RECORDS}{where} ORDER BY seq DESC LIMIT ?", [*params, limit], custom_plan=True
            )

    def latest_admitted(self, filters: QueryFilter, stage: str) -> list[StoredRecord]:
        where, params = where_clause(filters)
        where, params = _and(where, params, "stage = ? AND decision IN (?, ?)", [stage, *ADMITTING])
        last = f"SELECT max(seq) FROM records{where} GROUP BY namespace, name"
        with self._guard("query records"):
            return self._records(
                f"{_SELECT_RECORDS} WHERE seq IN ({last}) ORDER BY namespace, name", params, custom_plan=True
            )

    def counts(self, since: str) -> list[tuple[str, str, int]]:
        with self._guard("count records"):
            rows = self._execute(
                "SELECT substr(timestamp, 1, 10) AS day, decision, count(*) FROM records "
                "WHERE timestamp >= ? GROUP BY substr(timestamp, 1, 10), decision ORDER BY day",
                (since,),
            )
        return [(str(day), str(decision), int(count)) for day, decision, count in rows]

    def rule_counts(self, since: str, decision: str, limit: int) -> list[tuple[str, int]]:
        with self._guard("count rules"):
            rows = self._execute(
                "SELECT rr.rule, count(*) AS n FROM record_rules rr JOIN records r ON r.seq = rr.seq "
                "WHERE r.timestamp >= ? AND r.decision = ? GROUP BY rr.rule ORDER BY n DESC, rr.rule LIMIT ?",
                (since, decision, limit),
            )
        return [(str(rule), int(count)) for rule, count in rows]

    def _check_schema(self, version: int) -> None:
        if version != SCHEMA_VERSION:
            raise AuditError(
                f"audit log {self._where} is not a fleetgate decision log of schema version "
                f"{SCHEMA_VERSION} (found {version or 'none'})"
            )


def _and(where: str, params: list[Any], clause: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    joined = f"{where} AND {clause}" if where else f" WHERE {clause}"
    return joined, [*params, *values]


class _ReadOnlySqlite(_Reads, SqliteDecisionLog):
    pass


def open_readonly_log(url: str) -> ReadOnlyLog:
    """Open the existing decision log at ``url`` so that no statement can change it."""
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        return _open_sqlite(url)
    if scheme in ("postgresql", "postgres"):
        from fleetgate.audit.store.readonly_postgres import open_readonly_postgres

        return open_readonly_postgres(url)
    raise AuditError(
        f"unsupported audit log URL {url.partition('://')[0]!r}: use sqlite:/// or postgresql://"
    )


def _open_sqlite(url: str) -> ReadOnlyLog:
    path = sqlite_path(url)
    if path == ":memory:" or not Path(path).is_file():
        raise AuditError(f"audit log {path}: no such file (a read-only log must exist)")
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    try:
        # check_same_thread=False: a server thread opens it, request handlers read it; the
        # console never uses one connection from two threads at once.
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise AuditError(f"audit log {path}: could not open: {one_line(str(exc))}") from exc
    log = _ReadOnlySqlite(connection, path)
    try:
        with log._guard("open"):
            log._execute("PRAGMA query_only = ON")
            log._check_schema(log._schema_version())
    except AuditError:
        connection.close()
        raise
    return log
