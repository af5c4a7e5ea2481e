"""What the SQLite and PostgreSQL decision logs share: the schema, the queries and the append.

The backends differ only in how they connect, how they serialize writers (``BEGIN IMMEDIATE``
vs an advisory lock) and their column type names. Every statement here is a constant with
``?`` placeholders; values always travel as parameters, never inside the SQL text.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar

from fleetgate.audit.merkle import NodeGetter, new_perfect_nodes, right_edge
from fleetgate.audit.store._filters import where_clause
from fleetgate.audit.store.interface import (
    AuditError,
    Checkpoint,
    PendingRecord,
    QueryFilter,
    SealedRow,
    Sealer,
    StoredRecord,
)

__all__ = ["SCHEMA_VERSION", "SqlDecisionLog", "one_line", "redact_url", "schema_statements"]

SCHEMA_VERSION = 1

_RECORD_COLUMNS = (
    "seq",
    "decision_id",
    "body",
    "leaf_hash",
    "timestamp",
    "stage",
    "kind",
    "decision",
    "namespace",
    "name",
    "model_id",
    "version",
    "policy_revision",
    "artifact_digest",
    "signer",
)
# Each index ends with seq so "newest first, limit N" walks one index backwards and stops early.
_RECORD_INDEXES = {
    # Each filter column, then time: a filtered query walks its index newest first and stops
    # at the limit instead of reading every record of, say, a model.
    "model_id": "model_id, timestamp, seq",
    "namespace_name": "namespace, name, timestamp, seq",
    "name": "name, timestamp, seq",
    "decision": "decision, timestamp, seq",
    "stage": "stage, timestamp, seq",
    "policy_revision": "policy_revision, timestamp, seq",
    "artifact_digest": "artifact_digest, timestamp, seq",
    "signer": "signer, timestamp, seq",
    "timestamp": "timestamp, seq",
}
_SELECT_RECORDS = f"SELECT {', '.join(_RECORD_COLUMNS)} FROM records"
_SEALED_COLUMNS = ", ".join(f"r.{column}" for column in _RECORD_COLUMNS)
# Where sealed() finds each part of a row: seq, decision_id, body, leaf_hash, then the columns.
_DECISION_ID, _BODY, _LEAF, _COLUMNS_FROM = 1, 2, 3, 4
_INSERT_RECORD = (
    f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) VALUES ({', '.join('?' for _ in _RECORD_COLUMNS)})"
)
_INSERT_RULE = "INSERT INTO record_rules (seq, pos, rule) VALUES (?, ?, ?)"
_INSERT_NODE = "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)"
_NODES_PER_QUERY = 200  # SQLite allows 500 terms in a compound SELECT
_CHUNK = 1000  # rows per read when streaming records, and ids per IN (...) list


def schema_statements(*, bigint: str, blob: str, key_only_tables: str = "") -> list[str]:
    """CREATE statements of schema version 1, in a backend's type names.

    ``bigint`` must make ``seq`` the table's key (``INTEGER`` in SQLite, where that aliases the
    rowid); ``key_only_tables`` is appended to tables that are all primary key.
    """
    tables = [
        f"""CREATE TABLE IF NOT EXISTS records (
            seq {bigint} PRIMARY KEY CHECK (seq >= 0),
            decision_id TEXT NOT NULL UNIQUE,
            body {blob} NOT NULL,
            leaf_hash {blob} NOT NULL,
            timestamp TEXT NOT NULL,
            stage TEXT NOT NULL,
            kind TEXT NOT NULL,
            decision TEXT NOT NULL,
            namespace TEXT, name TEXT, model_id TEXT, version TEXT,
            policy_revision TEXT, artifact_digest TEXT, signer TEXT)""",
        f"""CREATE TABLE IF NOT EXISTS record_rules (
            seq {bigint} NOT NULL REFERENCES records (seq),
            pos INTEGER NOT NULL,
            rule TEXT NOT NULL,
            PRIMARY KEY (seq, pos)){key_only_tables}""",
        f"""CREATE TABLE IF NOT EXISTS nodes (
            level INTEGER NOT NULL CHECK (level >= 0),
            idx {bigint} NOT NULL CHECK (idx >= 0),
            hash {blob} NOT NULL,
            PRIMARY KEY (level, idx)){key_only_tables}""",
        f"""CREATE TABLE IF NOT EXISTS checkpoints (
            size {bigint} PRIMARY KEY CHECK (size >= 0),
            root {blob} NOT NULL,
            note TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS record_rules_rule ON record_rules (rule, seq)",
    ]
    indexes = [
        f"CREATE INDEX IF NOT EXISTS records_{name} ON records ({columns})"
        for name, columns in _RECORD_INDEXES.items()
    ]
    return tables + indexes


def one_line(text: str) -> str:
    return " ".join(text.split())


def redact_url(url: str) -> str:
    """``url`` with any password (in the user info or a ``password=`` parameter) replaced by ***."""
    url = re.sub(r"^([^:/?#]*://[^:/?#@]*):[^/?#]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SqlDecisionLog(ABC):
    """A :class:`~fleetgate.audit.store.interface.DecisionLog` over a DB-API style connection."""

    _database_errors: ClassVar[tuple[type[Exception], ...]] = ()
    # An expression over the record aliased r: rule_rows_text of its rule rows, in SQL.
    _RULE_ROWS_TEXT: ClassVar[str]

    def __init__(self, where: str) -> None:
        self._where = where  # shown in errors: a path or a URL without its password

    # -- what a backend provides --------------------------------------------------------------

    @abstractmethod
    def _execute(
        self, sql: str, params: Sequence[Any] = (), *, custom_plan: bool = False
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; ``custom_plan``: planned for these values, never a cached plan."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _write_transaction(self) -> AbstractContextManager[None]:
        """One transaction that holds the log's single writer lock until it commits."""

    @abstractmethod
    def close(self) -> None: ...

    def _append_transaction(self) -> AbstractContextManager[None]:
        """The write transaction of an append (a backend may batch its round trips)."""
        return self._write_transaction()

    def _describe(self, error: Exception) -> str:
        return one_line(str(error)) or type(error).__name__

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except AuditError:
            raise
        except self._database_errors as exc:
            raise AuditError(f"audit log {self._where}: could not {action}: {self._describe(exc)}") from exc

    # -- writing ------------------------------------------------------------------------------

    def append(self, pending: Sequence[PendingRecord], seal: Sealer) -> list[StoredRecord]:
        if not pending:
            return []
        ids = [item.decision_id for item in pending]
        if len(set(ids)) != len(ids):
            repeated = next(i for i in ids if ids.count(i) > 1)
            raise AuditError(f"decision_id {repeated!r} appears twice in one append; nothing was appended")
        with self._guard("append"), self._append_transaction():
            start, taken, edge = self._append_head(ids)
            if taken:
                raise AuditError(f"decision_id {taken[0]!r} is already in the log; nothing was appended")
            stored = [_sealed(item, start + n, seal) for n, item in enumerate(pending)]
            try:
                nodes = new_perfect_nodes(start, [r.leaf_hash for r in stored], _getter(edge))
            except LookupError as exc:
                raise AuditError(f"audit log {self._where} is inconsistent: {exc}; run audit verify") from exc
            self._insert(stored, nodes)
        return stored

    def _append_head(self, ids: Sequence[str]) -> tuple[int, list[str], dict[tuple[int, int], bytes]]:
        """Inside the write transaction: the log's size, which of ``ids`` it holds already (in
        their order) and the perfect subtrees on its right edge, the only stored nodes an
        append reads."""
        taken = self._existing_ids(ids)
        size = self._size()
        return size, taken, self._nodes(right_edge(size))

    def _insert(self, stored: Sequence[StoredRecord], nodes: Sequence[tuple[int, int, bytes]]) -> None:
        self._executemany(_INSERT_RECORD, [_record_row(record) for record in stored])
        rules = [(r.seq, pos, rule) for r in stored for pos, rule in enumerate(r.rules)]
        if rules:
            self._executemany(_INSERT_RULE, rules)
        self._executemany(_INSERT_NODE, nodes)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        created_at = checkpoint.created_at or _now()
        with self._guard("store a checkpoint"), self._write_transaction():
            size = self._size()
            if not 0 <= checkpoint.size <= size:
                raise AuditError(f"checkpoint size {checkpoint.size} is outside the log (size {size})")
            rows = self._execute("SELECT root, note FROM checkpoints WHERE size = ?", (checkpoint.size,))
            if rows and (bytes(rows[0][0]), rows[0][1]) != (checkpoint.root, checkpoint.note):
                raise AuditError(f"a different checkpoint for size {checkpoint.size} is already stored")
            if not rows:
                self._execute(
                    "INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)",
                    (checkpoint.size, checkpoint.root, checkpoint.note, created_at),
                )

    def _existing_ids(self, ids: Sequence[str]) -> list[str]:
        taken: list[str] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = self._execute(f"SELECT decision_id FROM records WHERE decision_id IN ({marks})", chunk)
            taken.extend(row[0] for row in rows)
        position = {decision_id: n for n, decision_id in enumerate(ids)}
        return sorted(taken, key=position.__getitem__)

    # -- reading ------------------------------------------------------------------------------

    def size(self) -> int:
        with self._guard("read its size"):
            return self._size()

    def _size(self) -> int:
        (highest,) = self._execute("SELECT max(seq) FROM records")[0]
        return 0 if highest is None else int(highest) + 1

    def node(self, level: int, index: int) -> bytes | None:
        with self._guard("read a tree node"):
            return self._node(level, index)

    def _node(self, level: int, index: int) -> bytes | None:
        rows = self._execute("SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index))
        return bytes(rows[0][0]) if rows else None

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        with self._guard("read tree nodes"):
            return self._nodes(keys)

    def _nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        # One primary-key lookup per node, joined by UNION ALL: both databases plan each as an
        # index probe, where a list of (level, idx) pairs could make SQLite scan the table.
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[int, int], bytes] = {}
        for start in range(0, len(wanted), _NODES_PER_QUERY):
            chunk = wanted[start : start + _NODES_PER_QUERY]
            sql = " UNION ALL ".join(
                ["SELECT level, idx, hash FROM nodes WHERE level = ? AND idx = ?"] * len(chunk)
            )
            for level, index, digest in self._execute(sql, [value for key in chunk for value in key]):
                found[int(level), int(index)] = bytes(digest)
        return found

    def record(self, seq: int) -> StoredRecord | None:
        with self._guard("read a record"):
            found = self._records(f"{_SELECT_RECORDS} WHERE seq = ?", (seq,))
        return found[0] if found else None

    def find(self, decision_id: str) -> StoredRecord | None:
        with self._guard("read a record"):
            found = self._records(f"{_SELECT_RECORDS} WHERE decision_id = ?", (decision_id,))
        return found[0] if found else None

    def records(self, start: int, end: int) -> Iterator[StoredRecord]:
        position = max(start, 0)
        while position < end:
            with self._guard("read records"):
                chunk = self._records(
                    f"{_SELECT_RECORDS} WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT ?",
                    (position, end, _CHUNK),
                )
            if not chunk:
                return
            yield from chunk
            position = chunk[-1].seq + 1

    def sealed(self, start: int, end: int) -> Iterator[SealedRow]:
        # One statement per chunk: the level-0 node by a join and the rule rows as one string
        # per record, built by the database (rule_rows_text), not as a row each in Python.
        sql = (
            f"SELECT {_SEALED_COLUMNS}, n.hash, {self._RULE_ROWS_TEXT} FROM records r "
            "LEFT JOIN nodes n ON n.level = 0 AND n.idx = r.seq "
            "WHERE r.seq >= ? AND r.seq < ? ORDER BY r.seq LIMIT ?"
        )
        position = max(start, 0)
        while position < end:
            with self._guard("read records"):
                rows = self._execute(sql, (position, end, _CHUNK))
            if not rows:
                return
            for row in rows:
                node = row[-2]
                yield SealedRow(
                    int(row[0]),
                    bytes(row[_BODY]),
                    bytes(row[_LEAF]),
                    None if node is None else bytes(node),
                    # COLUMN_NAMES order: decision_id, then the columns after leaf_hash.
                    (row[_DECISION_ID], *row[_COLUMNS_FROM:-2]),
                    row[-1] or "",
                )
            position = int(rows[-1][0]) + 1

    def rule_rows(self, seq: int) -> tuple[str, ...]:
        """Record ``seq``'s rule rows in position order.

        A row whose position is out of place (a gap, or a row moved) shows as a gap marker so
        that verification sees a difference from the recomputed rules.
        """
        rules: list[str] = []
        with self._guard("read rule rows"):
            rows = self._execute("SELECT pos, rule FROM record_rules WHERE seq = ? ORDER BY pos", (seq,))
        for pos, rule in rows:
            rules.extend(["<missing>"] * (int(pos) - len(rules)))
            rules.append(str(rule))
        return tuple(rules)

    def checkpoints(self) -> list[Checkpoint]:
        with self._guard("read checkpoints"):
            rows = self._execute("SELECT size, root, note, created_at FROM checkpoints ORDER BY size")
        return [Checkpoint(int(size), bytes(root), note, created_at) for size, root, note, created_at in rows]

    def query(self, filters: QueryFilter, limit: int = 1000, offset: int = 0) -> list[StoredRecord]:
        if limit < 0 or offset < 0:
            raise AuditError(f"query limit and offset must not be negative (got {limit}, {offset})")
        where, params = where_clause(filters)
        with self._guard("query records"):
            return self._records(
                f"{_SELECT_RECORDS}{where} ORDER BY timestamp DESC, seq DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
                custom_plan=True,
            )

    def _records(self, sql: str, params: Sequence[Any], *, custom_plan: bool = False) -> list[StoredRecord]:
        """Run a SELECT over records and attach each record's rules, in their recorded order.

        ``custom_plan`` for auditor filters, whose selectivity differs from one query to the next.
        """
        rows = self._execute(sql, params, custom_plan=custom_plan)
        rules: dict[int, list[str]] = {}
        for start in range(0, len(rows), _CHUNK):
            seqs = [row[0] for row in rows[start : start + _CHUNK]]
            marks = ", ".join("?" for _ in seqs)
            for seq, rule in self._execute(
                f"SELECT seq, rule FROM record_rules WHERE seq IN ({marks}) ORDER BY seq, pos", seqs
            ):
                rules.setdefault(int(seq), []).append(rule)
        return [_stored(row, tuple(rules.get(int(row[0]), ()))) for row in rows]


def _sealed(item: PendingRecord, seq: int, seal: Sealer) -> StoredRecord:
    try:
        body, leaf = seal(item.document, seq)
    except Exception as exc:  # the sealer is the caller's: any failure means "not recorded"
        raise AuditError(f"decision {item.decision_id!r} could not be sealed: {one_line(str(exc))}") from exc
    return StoredRecord(seq=seq, body=body, leaf_hash=leaf, **{**item.columns(), "rules": tuple(item.rules)})


def _getter(found: dict[tuple[int, int], bytes]) -> NodeGetter:
    return lambda level, index: found.get((level, index))


def _record_row(record: StoredRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, column) for column in _RECORD_COLUMNS)


def _stored(row: tuple[Any, ...], rules: tuple[str, ...]) -> StoredRecord:
    fields = dict(zip(_RECORD_COLUMNS, row, strict=True))
    fields["seq"] = int(fields["seq"])
    fields["body"] = bytes(fields["body"])
    fields["leaf_hash"] = bytes(fields["leaf_hash"])
    return StoredRecord(**fields, rules=rules)
