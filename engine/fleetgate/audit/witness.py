"""Witnessed checkpoints: signed checkpoints kept where a database writer cannot reach them.

A signed checkpoint stored only in the log's own database proves nothing against someone who
can write that database and holds the signing key (or waits for the routine `audit checkpoint`
to sign whatever the database holds). A witness keeps every published checkpoint outside it:

- a git ref (default ``refs/fleetgate/checkpoints``), one commit per checkpoint, its tree one
  file per checkpoint, so the ref's history shows when each was published;
- a folder that auditors keep, one file per checkpoint;
- the file beside the signing key, holding the last checkpoint that key signed.

Every checkpoint in a witness must then be consistent with the log: its records can only have
been appended to since (see :func:`fleetgate.audit.log.verify_log`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from fleetgate.audit import merkle
from fleetgate.audit.checkpoint import MAX_NOTE_BYTES, CheckpointError, open_checkpoint
from fleetgate.audit.log import Problem, proved
from fleetgate.audit.store.interface import AuditError, DecisionLog
from fleetgate.errors import FleetgateError
from fleetgate.git import Git

__all__ = [
    "DEFAULT_REF",
    "DirWitness",
    "GitWitness",
    "Witness",
    "Witnessed",
    "check_witnessed",
    "checkpoint_file",
    "keep_checkpoint",
    "kept_checkpoint",
    "open_witness",
]

DEFAULT_REF = "refs/fleetgate/checkpoints"
_SUFFIX = ".checkpoint"


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint note found outside the log, and where it was found."""

    note: str
    source: str


class Witness(Protocol):
    def exists(self) -> bool:
        """Whether anything was ever published here (publishing creates the witness)."""
        ...

    def checkpoints(self) -> list[Witnessed]:
        """Every checkpoint the witness holds; AuditError when the witness does not exist."""
        ...

    def publish(self, note: str, size: int) -> str:
        """Keep ``note`` (the checkpoint of ``size`` records); where it now is."""
        ...


def open_witness(spec: str, cwd: Path) -> Witness:
    """``git``, ``git:REF`` or ``refs/...``: a ref of the repository at ``cwd``; else a folder."""
    if spec == "git" or spec.startswith(("git:", "refs/")):
        ref = spec.removeprefix("git").removeprefix(":") or DEFAULT_REF
        if not ref.startswith("refs/"):
            raise AuditError(f"witness ref {ref!r} must start with refs/ (e.g. {DEFAULT_REF})")
        return GitWitness(Git.discover(cwd), ref)
    return DirWitness(Path(spec))


def _file_name(size: int) -> str:
    # Zero-padded so that a listing sorts by tree size.
    return f"{size:020d}{_SUFFIX}"


class GitWitness:
    """Checkpoints committed to a git ref, one commit per checkpoint."""

    def __init__(self, git: Git, ref: str) -> None:
        self._git = git
        self.ref = ref

    def checkpoints(self) -> list[Witnessed]:
        try:
            names = [n for n in self._git.tree_names(self.ref) if n.endswith(_SUFFIX)]
            notes = self._git.read(self.ref, names, MAX_NOTE_BYTES)
        except FleetgateError as exc:
            raise AuditError(f"witness {self.ref}: {exc.message}") from None
        return [
            Witnessed(_text(data, f"{self.ref}:{name}"), f"{self.ref}:{name}") for name, data in notes.items()
        ]

    def publish(self, note: str, size: int) -> str:
        name = _file_name(size)
        try:
            existing = self._git.read(self.ref, [name], MAX_NOTE_BYTES) if self.exists() else {}
            if name in existing:
                _same(existing[name], note, f"{self.ref}:{name}")
                return f"{self.ref}:{name}"
            commit = self._git.commit_file(
                self.ref, name, note.encode("utf-8"), f"fleetgate checkpoint: {size} records"
            )
        except AuditError:
            raise
        except FleetgateError as exc:
            raise AuditError(f"witness {self.ref}: {exc.message}") from None
        return f"{self.ref}:{name} (commit {commit[:12]})"

    def exists(self) -> bool:
        try:
            self._git.tree_names(self.ref)
        except FleetgateError:
            return False
        return True


class DirWitness:
    """Checkpoints kept as files in a folder, one per checkpoint."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def exists(self) -> bool:
        return self.folder.is_dir()

    def checkpoints(self) -> list[Witnessed]:
        if not self.folder.is_dir():
            raise AuditError(f"witness folder {self.folder} does not exist")
        return [Witnessed(_read(path), str(path)) for path in sorted(self.folder.glob(f"*{_SUFFIX}"))]

    def publish(self, note: str, size: int) -> str:
        path = self.folder / _file_name(size)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if path.exists():
                _same(_read(path).encode("utf-8"), note, str(path))
                return str(path)
            _write_new(path, note)
        except OSError as exc:
            raise AuditError(f"{path}: cannot publish the checkpoint: {exc.strerror}") from None
        return str(path)


def check_witnessed(
    log: DecisionLog,
    witnessed: Sequence[Witnessed],
    verifier_key: str | None,
    origin: str | None,
    tree: tuple[int, bytes | None],
    problems: list[Problem],
) -> tuple[int, ...]:
    """Sizes of the witnessed checkpoints the log extends; ``tree`` is its size and recomputed root.

    Each must be signed by ``verifier_key``, and an RFC 6962 consistency proof from it to the
    current tree must verify; every other one adds a problem naming both tree sizes.
    """
    anchors = _open_witnessed(witnessed, verifier_key, origin, problems)
    return _consistent(log, anchors, *tree, problems)


def _open_witnessed(
    witnessed: Sequence[Witnessed], verifier_key: str | None, origin: str | None, problems: list[Problem]
) -> list[tuple[Witnessed, int, bytes]]:
    """(where, size, root) of each witnessed checkpoint whose signature verifies."""
    if verifier_key is None:
        raise AuditError("checking witnessed checkpoints needs the verifier key (--key or audit.verifierKey)")
    opened = []
    for found in witnessed:
        try:
            _, size, root = open_checkpoint(found.note, verifier_key, origin)
        except CheckpointError as exc:
            problems.append(Problem(None, f"witnessed checkpoint {found.source}: {exc.message}"))
            continue
        opened.append((found, size, root))
    return opened


def _consistent(
    log: DecisionLog,
    anchors: list[tuple[Witnessed, int, bytes]],
    size: int,
    current: bytes | None,
    problems: list[Problem],
) -> tuple[int, ...]:
    consistent: list[int] = []
    for found, old_size, old_root in sorted(anchors, key=lambda anchor: anchor[1]):
        about = f"witnessed checkpoint {found.source} (tree size {old_size})"
        if old_size > size:
            problems.append(
                Problem(size, f"{about} is larger than the log (tree size {size}): records were removed")
            )
            continue
        if old_size == 0:
            consistent.append(old_size)
            continue
        try:
            proof = proved(log, partial(merkle.consistency_proof, old_size, size))
        except (LookupError, ValueError) as exc:
            problems.append(Problem(None, f"{about}: no consistency proof to tree size {size}: {exc}"))
            continue
        if current is None or not merkle.verify_consistency(old_size, size, old_root, current, proof):
            problems.append(
                Problem(
                    None, f"{about} is not consistent with the log (tree size {size}): history was rewritten"
                )
            )
            continue
        consistent.append(old_size)
    return tuple(consistent)


def checkpoint_file(path: Path) -> Witnessed:
    """A checkpoint note given as a file (``audit verify --checkpoint FILE``)."""
    return Witnessed(_read(path), str(path))


def kept_checkpoint(key: Path) -> Witnessed | None:
    """The last checkpoint signed with the key at ``key``, from the file beside it (if any)."""
    path = _kept_path(key)
    return Witnessed(_read(path), str(path)) if path.exists() else None


def keep_checkpoint(key: Path, note: str) -> Path:
    """Replace the file beside the key with ``note`` (atomically: never half written)."""
    path = _kept_path(key)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(note)
        os.replace(temporary, path)
    except OSError as exc:
        raise AuditError(f"{path}: cannot keep the checkpoint: {exc.strerror}") from None
    return path


def _kept_path(key: Path) -> Path:
    return key.with_name(key.name + _SUFFIX)


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NOTE_BYTES + 1)
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the checkpoint: {exc.strerror}") from None
    return _text(data, str(path))


def _text(data: bytes, where: str) -> str:
    if len(data) > MAX_NOTE_BYTES:
        raise AuditError(f"{where}: larger than {MAX_NOTE_BYTES} bytes: not a checkpoint")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise AuditError(f"{where}: not UTF-8: not a checkpoint") from None


def _same(existing: bytes, note: str, where: str) -> None:
    if existing != note.encode("utf-8"):
        raise AuditError(f"{where}: a different checkpoint of this size is already published")


def _write_new(path: Path, note: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(note)
