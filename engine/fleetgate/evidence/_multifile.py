"""An artifact made of several files: every byte that reaches a device is part of the artifact.

Two shapes ship more than one file:

* an ONNX model with external data: the ``.onnx`` file and every file its external tensors
  name (found by :mod:`fleetgate.evidence._onnx_files`), named relative to the model's folder;
* a model directory (``modelUri`` names a folder): every regular file under it, named relative
  to it. As model-signing does by default, ``.git``, ``.github``, ``.gitattributes`` and
  ``.gitignore`` at its top are not part of the model; a symlink inside it is refused.

The artifact's digest is then the file-set digest (:func:`file_set_digest`), so
``spec.checksum`` pins every file, and a signature must cover each of them by name.
"""

from __future__ import annotations

import hashlib
import mmap
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import contained
from fleetgate.evidence._onnx_files import external_locations
from fleetgate.evidence.interface import Artifact, ArtifactFile

__all__ = [
    "external_names",
    "file_set_digest",
    "hash_file",
    "is_onnx_name",
    "multi_file",
    "read_directory",
    "read_external",
]

# model-signing's default ignored paths: files of the repository, not of the model.
IGNORED = frozenset({".git", ".github", ".gitattributes", ".gitignore"})
_CHUNK = 1 << 20


def file_set_digest(files: Iterable[ArtifactFile]) -> str:
    """SHA-256 over each file's raw SHA-256 digest, in name order."""
    root = hashlib.sha256()
    for item in sorted(files, key=lambda f: f.name):
        root.update(bytes.fromhex(item.digest.removeprefix("sha256:")))
    return "sha256:" + root.hexdigest()


def multi_file(
    uri: str, path: Path, source: str, files: Iterable[ArtifactFile], directory: bool = False
) -> Artifact:
    """The artifact made of ``files`` (its digest the file-set digest, its size their total)."""
    ordered = tuple(sorted(files, key=lambda f: f.name))
    return Artifact(
        uri=uri,
        path=path,
        digest=file_set_digest(ordered),
        size=sum(f.size for f in ordered),
        source=source,
        files=ordered,
        directory=directory,
    )


def is_onnx_name(uri: str, path: Path) -> bool:
    """Whether the URI or the file is named ``*.onnx`` (only ONNX models carry external data)."""
    return any(name.lower().endswith(".onnx") for name in (uri.split("?")[0], path.name))


def external_names(uri: str, path: Path) -> list[str]:
    """The external-data files the model at ``path`` names, as normalised names in its folder.

    Bytes that are not a model name nothing (the model collector judges them). EvidenceError
    for a location that is empty, absolute or climbs out of the model's folder.
    """
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            locations = _parsed(data)
    except (OSError, ValueError):  # unreadable, or empty (mmap refuses a zero-length file)
        return []
    return sorted({_checked_name(uri, location) for location in locations} - {path.name})


def _parsed(data: mmap.mmap) -> set[str]:
    # Caught here, inside the mapping: a traceback holding views of it would keep it from closing.
    try:
        return external_locations(data)
    except ValueError:
        return set()


def _checked_name(uri: str, location: str) -> str:
    where = f"{uri}: external data location {location!r}"
    if not location or "\x00" in location:
        raise EvidenceError(f"{uri}: an external tensor names no data file")
    if PurePosixPath(location).is_absolute() or PureWindowsPath(location).is_absolute():
        raise EvidenceError(f"{where} is an absolute path")
    parts = [p for p in location.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise EvidenceError(f"{where} escapes the model's folder")
    return "/".join(parts)


def read_external(uri: str, model: Path, names: Iterable[str]) -> list[ArtifactFile]:
    """Hash each external-data file beside ``model``; EvidenceError naming a missing or unsafe one."""
    folder = model.parent
    files: list[ArtifactFile] = []
    for name in names:
        target = contained(folder / name, folder)
        if target is None:
            raise EvidenceError(f"{uri}: external data file {name} resolves outside the model's folder")
        files.append(ArtifactFile(name, *_hash_regular(uri, target, name)))
    return files


def read_directory(uri: str, folder: Path) -> list[ArtifactFile]:
    """Hash every regular file under ``folder``; EvidenceError for a symlink or a special file."""
    files: list[ArtifactFile] = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name.split("/")[0] in IGNORED:
            continue
        if path.is_symlink():
            raise EvidenceError(f"{uri}: {name} is a symlink; a model directory holds regular files only")
        if path.is_dir():
            continue
        files.append(ArtifactFile(name, *_hash_regular(uri, path, name)))
    if not files:
        raise EvidenceError(f"{uri}: the model directory holds no files")
    return files


def _hash_regular(uri: str, path: Path, name: str) -> tuple[str, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise EvidenceError(f"{uri}: {name}, a file of the artifact, is missing") from None
    except OSError as exc:
        raise EvidenceError(f"{uri}: cannot read {name} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise EvidenceError(f"{uri}: {name} is not a regular file")
    try:
        return hash_file(path)
    except OSError as exc:
        raise EvidenceError(f"{uri}: cannot read {name} ({exc.strerror})") from None


def hash_file(path: Path) -> tuple[str, int]:
    """``("sha256:<hex>", size)`` of ``path``, read once in large chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return "sha256:" + digest.hexdigest(), size
