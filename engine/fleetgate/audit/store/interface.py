"""The decision log's storage: one interface, one module per backend (SQLite, PostgreSQL).

A store keeps, per record: its contiguous sequence number (0, 1, 2, ...), the canonical JSON
bytes that were hashed, the leaf hash, and the columns auditors filter on. It also keeps the
hashes of every *perfect* subtree of the Merkle tree (level L, index i covers leaves
[i * 2**L, (i + 1) * 2**L)), so roots and proofs need O(log n) reads, and the signed
checkpoints. Appends are serialized by the backend so sequence numbers never skip or repeat,
even with several processes (or CI runners) appending at once; each append is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple, Protocol

from fleetgate.errors import FleetgateError

__all__ = [
    "COLUMN_NAMES",
    "AuditError",
    "Checkpoint",
    "DecisionLog",
    "PendingRecord",
    "QueryFilter",
    "RecordColumns",
    "SealedRow",
    "Sealer",
    "StoredRecord",
    "rule_rows_text",
]


class AuditError(FleetgateError):
    """The decision log could not be opened, written, read or verified."""


@dataclass(frozen=True, kw_only=True)
class RecordColumns:
    """The columns a record is indexed and filtered by, before and after it is stored."""

    decision_id: str
    timestamp: str
    stage: str
    kind: str  # "decision" | "override"
    decision: str  # "admit" | "deny" | "override"
    namespace: str | None = None
    name: str | None = None
    model_id: str | None = None
    version: str | None = None
    policy_revision: str | None = None
    artifact_digest: str | None = None
    signer: str | None = None
    rules: tuple[str, ...] = ()

    def columns(self) -> dict[str, Any]:
        """The shared columns by name (to carry them from a pending record to a stored one)."""
        return {name: getattr(self, name) for name in COLUMN_NAMES}


COLUMN_NAMES = tuple(f.name for f in fields(RecordColumns))
"""The fields of :class:`RecordColumns`, in order (the last, ``rules``, is the record_rules rows)."""


@dataclass(frozen=True, kw_only=True)
class PendingRecord(RecordColumns):
    """A record before it has a place in the log: its document and the columns to index."""

    document: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class StoredRecord(RecordColumns):
    seq: int
    body: bytes  # canonical JSON (RFC 8785) of the document with its "seq"
    leaf_hash: bytes


class SealedRow(NamedTuple):
    """What verification reads of a record: its bytes, stored leaf hash, level-0 tree node, the
    columns stored beside it (which no hash covers, so they are recomputed) as a tuple in
    :data:`COLUMN_NAMES` order without ``rules``, and its rule rows as :func:`rule_rows_text`.

    A named tuple, not a frozen dataclass: verify makes one per record of a log that may hold
    millions, and a tuple is built in C."""

    seq: int
    body: bytes
    leaf_hash: bytes
    node: bytes | None
    columns: tuple[Any, ...]
    rules: str


def rule_rows_text(rules: Sequence[str]) -> str:
    """A record's rule rows as one string: ``pos:length:rule`` for each, joined by commas.

    Each item says how long its rule is, so two different lists of rows never give the same
    text: verification compares this text with the one the database builds from the stored
    rows (in position order, positions included) and reads the rows one by one only when they
    differ. Any row whose position or type is out of place makes the texts differ.
    """
    return ",".join(f"{pos}:{len(rule)}:{rule}" for pos, rule in enumerate(rules))


@dataclass(frozen=True)
class Checkpoint:
    """A signed note committing to the log's first ``size`` records (``root``)."""

    size: int
    root: bytes
    note: str  # the full signed note text, as published
    created_at: str = ""


@dataclass(frozen=True)
class QueryFilter:
    """Auditor filters; ``None`` means "any".

    Times are RFC 3339 UTC strings: ``since`` inclusive, ``until`` exclusive.
    """

    model_id: str | None = None
    namespace: str | None = None
    name: str | None = None
    decision: str | None = None
    stage: str | None = None
    rule: str | None = None
    policy_revision: str | None = None
    artifact_digest: str | None = None
    signer: str | None = None
    since: str | None = None
    until: str | None = None
    kinds: tuple[str, ...] = field(default=())


Sealer = Callable[[Mapping[str, Any], int], tuple[bytes, bytes]]
"""(document, seq) -> (canonical bytes with seq, leaf hash). Called inside the append transaction."""


class DecisionLog(Protocol):
    def append(self, pending: Sequence[PendingRecord], seal: Sealer) -> list[StoredRecord]:
        """Give each record the next sequence number, seal it, store it and the new perfect
        subtree hashes, all in one durable transaction; raise :class:`AuditError` on failure."""
        ...

    def size(self) -> int: ...

    def record(self, seq: int) -> StoredRecord | None: ...

    def find(self, decision_id: str) -> StoredRecord | None: ...

    def records(self, start: int, end: int) -> Iterator[StoredRecord]:
        """Records with start <= seq < end, in sequence order (gaps are simply absent)."""
        ...

    def sealed(self, start: int, end: int) -> Iterator[SealedRow]:
        """Records start <= seq < end as verification reads them, in order, in bulk."""
        ...

    def node(self, level: int, index: int) -> bytes | None:
        """Hash of the perfect subtree at (level, index), or None when not stored."""
        ...

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the perfect subtrees ``keys`` (level, index), in one read;
        those not stored are absent."""
        ...

    def rule_rows(self, seq: int) -> tuple[str, ...]:
        """Record ``seq``'s rule rows in position order, ``<missing>`` for each skipped position."""
        ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by increasing size."""
        ...

    def query(self, filters: QueryFilter, limit: int = 1000, offset: int = 0) -> list[StoredRecord]:
        """Records matching every filter, newest first (by timestamp, then sequence number),
        skipping the first ``offset`` of them."""
        ...

    def close(self) -> None: ...
