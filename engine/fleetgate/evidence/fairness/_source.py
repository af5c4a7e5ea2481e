"""Find and read the evaluation dataset: inside the repository, a regular file, within the size cap.

Light on purpose (hashlib and os only): the cache key hashes the dataset before deciding whether
the model needs to run.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from fleetgate.errors import EvidenceError, FleetgateError
from fleetgate.evidence._kit import contained
from fleetgate.files import GateFiles, repo_path

__all__ = ["DatasetBytes", "dataset_digest", "locate_dataset", "read_dataset"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetBytes:
    """The dataset as read once: the bytes that are evaluated are the bytes that are hashed."""

    shown: str  # path relative to the repository root, with forward slashes
    data: bytes
    digest: str  # "sha256:<hex>"


def locate_dataset(root: Path, relative: str) -> tuple[Path, str]:
    """The dataset's resolved path and its root-relative name.

    Absolute paths and paths that leave the repository (through ``..`` or a symlink) are
    refused with :class:`EvidenceError`: a manifest may not make the gate read outside its repo.
    """
    if "\x00" in relative or PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).anchor:
        raise EvidenceError(f"{relative}: the evaluation dataset must be a path relative to the repository")
    target = contained(root / relative, root)
    if target is None:  # through .., a symlink, or a loop
        raise EvidenceError(f"{relative}: the evaluation dataset lies outside the repository")
    return target, target.relative_to(root.resolve()).as_posix()


def read_dataset(root: Path, relative: str, max_bytes: int, trusted: GateFiles | None = None) -> DatasetBytes:
    """Read the dataset once, refusing a missing file, a non-regular file or one over ``max_bytes``.

    The dataset is the yardstick of the fairness rules, so it is read from the trusted revision
    when it exists there (a change cannot rewrite the data it is measured on); a dataset the
    change adds is read from the working tree, and the change reports it as a gate file.
    """
    if trusted is not None:
        found = _trusted(trusted, relative, max_bytes)
        if found is not None:
            return found
    path, shown = locate_dataset(root, relative)
    data = _read_capped(path, shown, max_bytes)
    return DatasetBytes(shown=shown, data=data, digest="sha256:" + hashlib.sha256(data).hexdigest())


def dataset_digest(root: Path, relative: str, max_bytes: int, trusted: GateFiles | None = None) -> str:
    """The dataset's sha256 digest, streamed (for the cache key; same refusals as :func:`read_dataset`)."""
    if trusted is not None and (found := _trusted(trusted, relative, max_bytes)) is not None:
        return found.digest
    path, shown = locate_dataset(root, relative)
    digest = hashlib.sha256()
    with _open_regular(path, shown, max_bytes) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _read_capped(path: Path, shown: str, max_bytes: int) -> bytes:
    with _open_regular(path, shown, max_bytes) as handle:
        data = handle.read(max_bytes + 1)
    # The file may have grown since fstat: the cap holds on what was actually read.
    if len(data) > max_bytes:
        raise EvidenceError(f"{shown}: the evaluation dataset is larger than {max_bytes} bytes")
    return data


def _trusted(trusted: GateFiles, relative: str, max_bytes: int) -> DatasetBytes | None:
    try:
        shown = repo_path(relative, what="spec.evaluation.dataset")
    except FleetgateError as exc:
        raise EvidenceError(exc.message) from None
    data = trusted.read(shown, max_bytes, "evaluation dataset", EvidenceError)
    if data is None:
        return None
    return DatasetBytes(shown=shown, data=data, digest="sha256:" + hashlib.sha256(data).hexdigest())


def _open_regular(path: Path, shown: str, max_bytes: int) -> io.FileIO:
    # O_NONBLOCK so that a FIFO planted at the path cannot hang the gate before fstat refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise EvidenceError(f"{shown}: the evaluation dataset does not exist") from exc
    except OSError as exc:
        raise EvidenceError(f"{shown}: the evaluation dataset cannot be opened: {exc.strerror}") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise EvidenceError(f"{shown}: the evaluation dataset is not a regular file")
    if info.st_size > max_bytes:
        os.close(fd)
        raise EvidenceError(
            f"{shown}: the evaluation dataset has {info.st_size} bytes, more than the {max_bytes} allowed"
        )
    return io.FileIO(fd, "rb", closefd=True)
