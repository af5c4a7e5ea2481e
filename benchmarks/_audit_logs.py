"""Where the decision-log benchmark keeps its logs: fresh SQLite files or PostgreSQL schemas."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

POSTGRES_ENV = "FLEETGATE_TEST_POSTGRES_URL"


class Backend(ABC):
    """Makes fresh, empty logs of one kind and says how much room one takes."""

    name = ""

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

    def info(self) -> dict[str, Any]:
        import psycopg

        settings = ("server_version", "synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
        found = {name: self._run(f"SHOW {name}")[0][0] for name in settings}
        return {"psycopg": psycopg.__version__, **found}
