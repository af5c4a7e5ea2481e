"""The decision log as auditors use it: append, checkpoint, verify, prove.

Verification, in order (the first failing step names the sequence number it is about):

1. every sequence number from 0 to size-1 is present (a deleted record leaves a gap);
2. each record's bytes carry its own sequence number (a reordered pair is caught even when the
   bytes are untouched) and hash to the stored leaf hash and level-0 node (a flipped byte);
   every queryable column and rule row equals what the hashed bytes say (a flipped column);
3. each stored checkpoint is signed by a trusted key (a forged checkpoint) and does not claim
   more records than the log holds (a truncated tail);
4. the root recomputed from the records equals each checkpoint's signed root, and consecutive
   checkpoints are consistent through the stored tree nodes (history was only appended to, and
   the nodes proofs are served from are the right ones).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from fleetgate.audit import merkle
from fleetgate.audit.record import record_columns
from fleetgate.audit.store.interface import AuditError, Checkpoint, DecisionLog, SealedRow

__all__ = [
    "Problem",
    "VerifyReport",
    "default_log_url",
    "inclusion_bundle",
    "make_checkpoint",
    "verify_bundle",
    "verify_log",
]


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str


@dataclass(frozen=True)
class VerifyReport:
    size: int
    checkpoints: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


def default_log_url(root: Path | None) -> str:
    """Where a check records its decision when no log is configured.

    Inside a repository: next to its git data (never committed, one log per clone); elsewhere
    the user's state directory.
    """
    if root is not None and (root / ".git").is_dir():
        return f"sqlite:///{(root / '.git' / 'fleetgate-audit.db').as_posix()}"
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return f"sqlite:///{(state / 'fleetgate' / 'audit.db').as_posix()}"


def make_checkpoint(log: DecisionLog, origin: str, signer_key: str, now: str) -> Checkpoint:
    """Sign the log's current size and root, store the checkpoint and return it."""
    from fleetgate.audit.checkpoint import sign_checkpoint

    size = log.size()
    root = merkle.root(size, log.node)
    note = sign_checkpoint(origin, size, root, signer_key)
    checkpoint = Checkpoint(size, root, note, now)
    log.add_checkpoint(checkpoint)
    return checkpoint


def verify_log(log: DecisionLog, verifier_key: str | None, origin: str | None = None) -> VerifyReport:
    """Recompute the whole tree from the stored records and check it against every checkpoint.

    One pass over the records: the roots at every checkpoint size come from a running stack of
    perfect subtrees, so the cost is one hash per record and node whatever the checkpoint count.
    """
    size = log.size()
    problems: list[Problem] = []
    checkpoints = log.checkpoints()
    roots = _roots_at(log, size, {c.size for c in checkpoints}, problems)
    previous: Checkpoint | None = None
    record_problems = [p.seq for p in problems if p.seq is not None]
    for checkpoint in checkpoints:
        problem = _check_checkpoint(checkpoint, previous, roots, size, verifier_key, origin)
        if problem is None:
            previous = checkpoint
            continue
        explained = [seq for seq in record_problems if seq < checkpoint.size]
        if explained and problem.seq is not None and problem.seq < min(explained):
            # The root differs because of a record already found bad: point at that record.
            problem = Problem(min(explained), problem.message)
        problems.append(problem)
    problems.extend(_check_consistency(log, [c for c in checkpoints if c.size <= size]))
    return VerifyReport(size, len(checkpoints), tuple(problems))


def _check_consistency(log: DecisionLog, checkpoints: list[Checkpoint]) -> list[Problem]:
    """Consecutive checkpoints must be consistent through the log's stored tree nodes.

    The records were already checked against each signed root; this also checks the stored
    nodes that inclusion and consistency proofs are served from.
    """
    problems: list[Problem] = []
    published = [c for c in checkpoints if c.size > 0]
    for old, new in pairwise(published):
        try:
            proof = merkle.consistency_proof(old.size, new.size, log.node)
        except (LookupError, ValueError) as exc:
            problems.append(Problem(old.size, f"no consistency proof from {old.size} to {new.size}: {exc}"))
            continue
        if not merkle.verify_consistency(old.size, new.size, old.root, new.root, proof):
            problems.append(Problem(old.size, f"checkpoints {old.size} and {new.size} are not consistent"))
    return problems


class _RunningRoot:
    """Roots of growing prefixes of the log, from a stack of perfect subtree hashes."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing

    def push(self, leaf: bytes) -> None:
        height, current = 0, leaf
        while self.stack and self.stack[-1][0] == height:
            _, left = self.stack.pop()
            current = merkle.node_hash(left, current)
            height += 1
        self.stack.append((height, current))

    def root(self) -> bytes:
        if not self.stack:
            return merkle.root_from_leaves([])
        current = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            current = merkle.node_hash(left, current)
        return current


def _roots_at(log: DecisionLog, size: int, sizes: set[int], problems: list[Problem]) -> dict[int, bytes]:
    running = _RunningRoot()
    roots: dict[int, bytes] = {0: running.root()} if 0 in sizes else {}
    expected = 0
    for row in log.sealed(0, size):
        if row.seq != expected:
            problems.append(Problem(expected, f"records {expected}..{row.seq - 1} are missing"))
            while expected < row.seq:  # a gap cannot match any signed root: hash a placeholder
                running.push(b"")
                expected += 1
                if expected in sizes:
                    roots[expected] = running.root()
        leaf = merkle.leaf_hash(row.body)
        message = _record_problem(row, leaf)
        if message:
            problems.append(Problem(row.seq, message))
        running.push(leaf)
        expected += 1
        if expected in sizes:
            roots[expected] = running.root()
    if expected < size:
        problems.append(Problem(expected, f"records {expected}..{size - 1} are missing"))
    return roots


def _record_problem(row: SealedRow, leaf: bytes) -> str | None:
    document = _document(row.body)
    seq = document.get("seq") if document is not None else None
    if seq != row.seq:
        return f"record {row.seq} carries sequence number {seq}: records were moved or reordered"
    if leaf != row.leaf_hash or row.node != leaf:
        return f"record {row.seq} does not match its leaf hash: its bytes were changed"
    assert document is not None  # its seq matched
    expected, stored = record_columns(document).columns(), row.columns.columns()
    changed = [name for name in expected if expected[name] != stored[name]]
    if not changed:
        return None
    details = "; ".join(
        f"{_COLUMN_NAMES.get(name, name)} is {_shown(stored[name])}, the record says {_shown(expected[name])}"
        for name in changed
    )
    return f"record {row.seq}: stored columns differ from the hashed record: {details}"


_COLUMN_NAMES = {"rules": "record_rules"}


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return repr(value)[:200]


def _document(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _check_checkpoint(
    checkpoint: Checkpoint,
    previous: Checkpoint | None,
    roots: dict[int, bytes],
    size: int,
    verifier_key: str | None,
    origin: str | None,
) -> Problem | None:
    if verifier_key is not None:
        from fleetgate.audit.checkpoint import CheckpointError, open_checkpoint

        try:
            _, signed_size, signed_root = open_checkpoint(checkpoint.note, verifier_key, origin)
        except CheckpointError as exc:
            return Problem(None, f"checkpoint of size {checkpoint.size}: {exc.message}")
        if (signed_size, signed_root) != (checkpoint.size, checkpoint.root):
            return Problem(None, f"checkpoint of size {checkpoint.size} differs from its signed note")
    if checkpoint.size > size:
        return Problem(
            size, f"log truncated: checkpoint commits to {checkpoint.size} records, the log has {size}"
        )
    if roots.get(checkpoint.size) != checkpoint.root:
        start = previous.size if previous else 0
        return Problem(start, f"records {start}..{checkpoint.size - 1} differ from the signed checkpoint")
    return None


def inclusion_bundle(log: DecisionLog, decision_id: str) -> dict[str, Any]:
    """Everything a third party needs to check that a record is in the log (see verify_bundle)."""
    record = log.find(decision_id)
    if record is None:
        raise AuditError(f"no record with decision_id {decision_id}")
    covering = [c for c in log.checkpoints() if c.size > record.seq]
    if not covering:
        raise AuditError(
            f"no checkpoint covers record {record.seq} yet: run `fleetgate audit checkpoint` first"
        )
    checkpoint = covering[-1]
    proof = merkle.inclusion_proof(record.seq, checkpoint.size, log.node)
    return {
        "decision_id": decision_id,
        "seq": record.seq,
        "record": record.body.decode("utf-8"),
        "tree_size": checkpoint.size,
        "checkpoint": checkpoint.note,
        "proof": [h.hex() for h in proof],
    }


def verify_bundle(bundle: dict[str, Any], verifier_key: str, origin: str | None = None) -> bool:
    """Standalone check of an inclusion bundle: signed checkpoint, then the Merkle path."""
    from fleetgate.audit.checkpoint import CheckpointError, open_checkpoint

    try:
        _, size, root = open_checkpoint(str(bundle["checkpoint"]), verifier_key, origin)
        proof: Sequence[bytes] = [bytes.fromhex(h) for h in bundle["proof"]]
        leaf = merkle.leaf_hash(str(bundle["record"]).encode("utf-8"))
        seq = int(bundle["seq"])
    except (CheckpointError, KeyError, ValueError, TypeError):
        return False
    record = json.loads(bundle["record"])
    if not isinstance(record, dict) or record.get("seq") != seq or size != bundle.get("tree_size"):
        return False
    if record.get("decision_id") != bundle.get("decision_id"):
        return False  # a valid proof of one record must not vouch for another
    return merkle.verify_inclusion(leaf, seq, size, proof, root)
