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
   the nodes proofs are served from are the right ones);
5. every witnessed checkpoint (kept outside the database) is signed by the trusted key and the
   current tree extends it (an RFC 6962 consistency proof): a history rebuilt and re-signed
   with the real key still cannot reproduce a root that was published before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetgate.audit import merkle
from fleetgate.audit.record import column_values
from fleetgate.audit.store.interface import (
    COLUMN_NAMES,
    AuditError,
    Checkpoint,
    DecisionLog,
    SealedRow,
    rule_rows_text,
)

if TYPE_CHECKING:
    from fleetgate.audit.witness import Witnessed

__all__ = [
    "Problem",
    "ProvenRecord",
    "VerifyReport",
    "default_log_url",
    "inclusion_bundle",
    "make_checkpoint",
    "proved",
    "verify_bundle",
    "verify_log",
]


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """What verification found, and exactly what it proved.

    ``signed_size`` is the largest stored checkpoint whose signature by ``key_id`` verified
    and whose root the records reproduce (None when no signature was checked); ``witnessed``
    the sizes of the checkpoints kept outside the log that the log was found consistent with.
    """

    size: int
    checkpoints: int
    problems: tuple[Problem, ...] = field(default=())
    signed_size: int | None = None
    key_id: str | None = None
    witnessed: tuple[int, ...] = field(default=())
    root: bytes | None = field(default=None, repr=False)

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


def make_checkpoint(
    log: DecisionLog, origin: str, signer_key: str, now: str, witnessed: Sequence[Witnessed] = ()
) -> Checkpoint:
    """Verify the log, then sign its current size and root, store the checkpoint and return it.

    The log must verify first, against its stored checkpoints and every ``witnessed`` one kept
    outside it: signing whatever the database holds would vouch for a rewritten history.
    Raises AuditError, naming the first problem, when it does not.
    """
    from fleetgate.audit.checkpoint import sign_checkpoint, verifier_key_for

    report = verify_log(log, verifier_key_for(signer_key), origin, witnessed)
    if not report.ok or report.root is None:
        first = report.problems[0] if report.problems else Problem(None, "the log could not be read whole")
        where = f"seq {first.seq}: " if first.seq is not None else ""
        raise AuditError(
            f"refusing to sign a checkpoint: the log does not verify ({where}{first.message}); "
            "run `fleetgate audit verify`"
        )
    note = sign_checkpoint(origin, report.size, report.root, signer_key)
    checkpoint = Checkpoint(report.size, report.root, note, now)
    log.add_checkpoint(checkpoint)
    return checkpoint


def verify_log(
    log: DecisionLog,
    verifier_key: str | None,
    origin: str | None = None,
    witnessed: Sequence[Witnessed] = (),
) -> VerifyReport:
    """Recompute the whole tree from the stored records and check it against every checkpoint.

    One pass over the records: the roots at every checkpoint size come from a running stack of
    perfect subtrees, so the cost is one hash per record and node whatever the checkpoint count.
    ``witnessed`` checkpoints (kept outside the log) must be signed by ``verifier_key`` and the
    log must extend each of them (an RFC 6962 consistency proof to the current tree).
    """
    size = log.size()
    problems: list[Problem] = []
    checkpoints = log.checkpoints()
    roots = _roots_at(log, size, {c.size for c in checkpoints} | {size}, problems)
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
    consistent: tuple[int, ...] = ()
    if witnessed:
        from fleetgate.audit.witness import check_witnessed

        consistent = check_witnessed(log, witnessed, verifier_key, origin, (size, roots.get(size)), problems)
    return VerifyReport(
        size,
        len(checkpoints),
        tuple(problems),
        signed_size=previous.size if verifier_key and previous is not None else None,
        key_id=_key_id(verifier_key),
        witnessed=consistent,
        root=roots.get(size),
    )


def proved(log: DecisionLog, build: Callable[[merkle.NodeGetter], list[bytes]]) -> list[bytes]:
    """A proof ``build`` assembles from the log's stored nodes, all read in one query."""
    found = log.nodes(merkle.nodes_needed(build))
    return build(lambda level, index: found.get((level, index)))


def _key_id(verifier_key: str | None) -> str | None:
    if verifier_key is None:
        return None
    from fleetgate.audit.checkpoint import verifier_key_id

    return verifier_key_id(verifier_key)


def _check_consistency(log: DecisionLog, checkpoints: list[Checkpoint]) -> list[Problem]:
    """Consecutive checkpoints must be consistent through the log's stored tree nodes.

    The records were already checked against each signed root; this also checks the stored
    nodes that inclusion and consistency proofs are served from.
    """
    problems: list[Problem] = []
    published = [c for c in checkpoints if c.size > 0]
    for old, new in pairwise(published):
        try:
            proof = proved(log, partial(merkle.consistency_proof, old.size, new.size))
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
        message = _record_problem(log, row, leaf)
        if message:
            problems.append(Problem(row.seq, message))
        running.push(leaf)
        expected += 1
        if expected in sizes:
            roots[expected] = running.root()
    if expected < size:
        problems.append(Problem(expected, f"records {expected}..{size - 1} are missing"))
    return roots


def _record_problem(log: DecisionLog, row: SealedRow, leaf: bytes) -> str | None:
    document = _document(row.body)
    seq = document.get("seq") if document is not None else None
    if seq != row.seq:
        return f"record {row.seq} carries sequence number {seq}: records were moved or reordered"
    if leaf != row.leaf_hash or row.node != leaf:
        return f"record {row.seq} does not match its leaf hash: its bytes were changed"
    assert document is not None  # its seq matched
    expected = column_values(document)
    if expected[:-1] == row.columns and _rule_rows_text(expected[-1]) == row.rules:
        return None
    stored = (*row.columns, log.rule_rows(row.seq))  # the rows one by one, for the message
    details = "; ".join(
        f"{_SHOWN_NAMES.get(name, name)} is {_shown(value)}, the record says {_shown(wanted)}"
        for name, value, wanted in zip(COLUMN_NAMES, stored, expected, strict=True)
        if value != wanted
    )
    return f"record {row.seq}: stored columns differ from the hashed record: {details}"


# A log holds few distinct rule sets (one per kind of finding mix): encode each once.
_rule_rows_text = lru_cache(maxsize=4096)(rule_rows_text)


_SHOWN_NAMES = {"rules": "record_rules"}


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
    proof = proved(log, partial(merkle.inclusion_proof, record.seq, checkpoint.size))
    return {
        "decision_id": decision_id,
        "seq": record.seq,
        "record": record.body.decode("utf-8"),
        "tree_size": checkpoint.size,
        "checkpoint": checkpoint.note,
        "proof": [h.hex() for h in proof],
    }


@dataclass(frozen=True)
class ProvenRecord:
    """A record an inclusion bundle proved to be in the log, and the checkpoint that proves it."""

    record: dict[str, Any]
    seq: int
    tree_size: int
    origin: str
    key_id: str


def verify_bundle(
    bundle: dict[str, Any], verifier_key: str, origin: str | None = None
) -> ProvenRecord | None:
    """Standalone check of an inclusion bundle: signed checkpoint, then the Merkle path.

    Returns the proven record (None when any step fails), so that a caller shows what was
    proved rather than the bundle's unchecked claims.
    """
    from fleetgate.audit.checkpoint import CheckpointError, open_checkpoint, verifier_key_id

    try:
        signed_origin, size, root = open_checkpoint(str(bundle["checkpoint"]), verifier_key, origin)
        proof: Sequence[bytes] = [bytes.fromhex(h) for h in bundle["proof"]]
        leaf = merkle.leaf_hash(str(bundle["record"]).encode("utf-8"))
        seq = int(bundle["seq"])
        record = json.loads(bundle["record"])
    except (CheckpointError, KeyError, ValueError, TypeError):
        return None
    if not isinstance(record, dict) or record.get("seq") != seq or size != bundle.get("tree_size"):
        return None
    if record.get("decision_id") != bundle.get("decision_id"):
        return None  # a valid proof of one record must not vouch for another
    if not merkle.verify_inclusion(leaf, seq, size, proof, root):
        return None
    return ProvenRecord(record, seq, size, signed_origin, verifier_key_id(verifier_key))
