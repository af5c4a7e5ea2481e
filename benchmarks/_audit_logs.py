"""Where the decision-log benchmark keeps its logs (fresh SQLite files or PostgreSQL schemas), and
the baselines each figure is set beside: the same rows and bytes through the bare driver.

Baselines, measured in the same run on the same machine:

- appends: the records-table rows of the same sealed records inserted into a fresh log's
  ``records`` table (same columns, same indexes, same durability) with plain driver calls, the
  same number per transaction; no sealing, no rule rows, no tree nodes, no checks;
- verify: every stored body read in sequence order, ``hashlib.sha256`` over each.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fleetgate.audit.store.interface import COLUMN_NAMES

POSTGRES_ENV = "FLEETGATE_TEST_POSTGRES_URL"


READ_CHUNK = 1000  # bodies per SELECT in the read-and-hash baseline, as verify reads them
# The records table's columns after seq, decision_id, body and leaf_hash: the record's columns but
# its id and rules. Public names only, so that the benchmark also measures earlier commits.
RAW_COLUMNS = COLUMN_NAMES[1:-1]
_RECORD_COLUMNS = ("seq", "decision_id", "body", "leaf_hash", *RAW_COLUMNS)
_MARKS = ", ".join(["%s"] * len(_RECORD_COLUMNS))
_INSERT = f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) VALUES ({_MARKS})"
_BODIES = "SELECT body FROM records WHERE seq >= %s AND seq < %s ORDER BY seq"


def hash_bodies(read: Any, size: int) -> int:
    """Read every body with ``read(sql, (start, end))`` and hash each; the bytes hashed."""
    sha256, hashed = hashlib.sha256, 0
    for start in range(0, size, READ_CHUNK):
        for (body,) in read(_BODIES, (start, start + READ_CHUNK)):
            sha256(b"\x00" + body).digest()
            hashed += len(body)
    return hashed


class Backend(ABC):
    """Makes fresh, empty logs of one kind and says how much room one takes."""

    name = ""

    @abstractmethod
    def raw_insert_seconds(self, rows: Sequence[Sequence[Any]], per_append: int) -> float:
        """Seconds to insert ``rows`` into a fresh log's records table, ``per_append`` per commit."""

    @abstractmethod
    def read_and_hash_seconds(self, url: str, size: int) -> float:
        """Seconds to read the first ``size`` bodies of the log at ``url`` and hash each."""

    @abstractmethod
    def fresh_log(self) -> contextlib.AbstractContextManager[str]:
        """The URL of a new, empty log, removed when the context ends."""

    @abstractmethod
    def disk_bytes(self, url: str) -> int: ...

    @abstractmethod
    def info(self) -> dict[str, Any]: ...


class SqliteBackend(Backend):
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._count = 0

    @contextlib.contextmanager
    def fresh_log(self) -> Iterator[str]:
        self._count += 1
        path = self._folder / f"audit-{self._count}.db"
        try:
            yield f"sqlite:///{path}"  # the folder is absolute: sqlite:////tmp/...
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def disk_bytes(self, url: str) -> int:
        path = url.removeprefix("sqlite:///")
        return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))

    def info(self) -> dict[str, Any]:
        return {"sqlite": sqlite3.sqlite_version, "folder": str(self._folder)}

    def raw_insert_seconds(self, rows: Sequence[Sequence[Any]], per_append: int) -> float:
        from fleetgate.audit.store import open_log

        sql = _INSERT.replace("%s", "?")
        with self.fresh_log() as url:
            open_log(url).close()  # fleetgate's schema, then the bare driver
            path = url.removeprefix("sqlite:///")
            connection = sqlite3.connect(path, isolation_level=None)
            connection.execute("PRAGMA synchronous = FULL")  # as fleetgate: WAL, one fsync per commit
            start = time.perf_counter()
            for first in range(0, len(rows), per_append):
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(sql, rows[first : first + per_append])
                connection.execute("COMMIT")
            elapsed = time.perf_counter() - start
            connection.close()
        return elapsed

    def read_and_hash_seconds(self, url: str, size: int) -> float:
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        start = time.perf_counter()
        hash_bodies(lambda sql, params: connection.execute(sql.replace("%s", "?"), params), size)
        elapsed = time.perf_counter() - start
        connection.close()
        return elapsed


class PostgresBackend(Backend):
    name = "PostgreSQL"

    def __init__(self, server: str) -> None:
        self._server = server

    @contextlib.contextmanager
    def fresh_log(self) -> Iterator[str]:
        """A new schema, as tests/unit/audit/conftest.py makes them, dropped afterwards."""
        from psycopg import sql

        name = f"fleetgate_bench_{uuid.uuid4().hex[:16]}"
        self._run(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            separator = "&" if "?" in self._server else "?"
            yield f"{self._server}{separator}options=-csearch_path%3D{name}"
        finally:
            self._run(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))

    def _run(self, statement: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self._server, autocommit=True) as connection:
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description is not None else []

    def disk_bytes(self, url: str) -> int:
        schema = url.rsplit("search_path%3D", 1)[-1]
        rows = self._run(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema,),
        )
        return int(rows[0][0])

    def raw_insert_seconds(self, rows: Sequence[Sequence[Any]], per_append: int) -> float:
        import psycopg

        from fleetgate.audit.store import open_log

        with self.fresh_log() as url:
            open_log(url).close()
            with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
                start = time.perf_counter()
                for first in range(0, len(rows), per_append):
                    if per_append == 1:  # one statement, committed on its own: one round trip
                        cursor.execute(_INSERT, rows[first])
                        continue
                    with connection.transaction():
                        cursor.executemany(_INSERT, rows[first : first + per_append])
                return time.perf_counter() - start

    def read_and_hash_seconds(self, url: str, size: int) -> float:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection, connection.cursor(binary=True) as cursor:
            start = time.perf_counter()
            hash_bodies(lambda sql, params: cursor.execute(sql, params).fetchall(), size)
            return time.perf_counter() - start

    def info(self) -> dict[str, Any]:
        import psycopg

        settings = ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
        found = {name: self._run(f"SHOW {name}")[0][0] for name in settings}
        return {"psycopg": psycopg.__version__, **found}
