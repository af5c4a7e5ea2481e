"""Finding and reading a signature bundle beside its artifact, refusing anything outside that folder."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from pathlib import Path

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import contained
from fleetgate.evidence.interface import Artifact

__all__ = ["BundleFile", "read_bundle"]


@dataclass(frozen=True)
class BundleFile:
    """The bundle's expected location and, when it exists, its bytes and their digest."""

    path: Path
    data: bytes | None = None
    digest: str | None = None  # "sha256:<hex>" of ``data``


def read_bundle(template: str, artifact: Artifact, max_bytes: int) -> BundleFile:
    """The bundle named by ``template`` next to ``artifact``; ``data`` is None when there is none.

    Raises EvidenceError when the bundle (or a symlink on the way) leads outside the artifact's
    folder, is not a regular file, is larger than ``max_bytes`` or cannot be read.
    """
    folder = artifact.path.parent
    path = folder / template.replace("{artifact}", artifact.path.name)
    try:
        path.lstat()
    except FileNotFoundError:
        return BundleFile(path)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read the signature bundle ({exc.strerror})") from None
    try:
        path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling or looping symlink
        raise EvidenceError(f"{path}: the signature bundle path does not resolve") from None
    real = contained(path, folder)
    if real is None:
        raise EvidenceError(f"{path}: the signature bundle path leads outside the artifact's folder")
    return BundleFile(path, *_read_capped(real, path, max_bytes))


def _read_capped(real: Path, path: Path, max_bytes: int) -> tuple[bytes, str]:
    try:
        if not stat.S_ISREG(real.stat().st_mode):
            raise EvidenceError(f"{path}: the signature bundle is not a regular file")
        with real.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read the signature bundle ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise EvidenceError(f"{path}: the signature bundle is larger than {max_bytes} bytes")
    return data, "sha256:" + hashlib.sha256(data).hexdigest()
