"""The previous version of a repository artifact, read from the base commit and nowhere else.

The steps, each raising EvidenceError naming the path:

1. the path the base manifest names is resolved inside the base commit: every component is
   looked up with ``git ls-tree``, and a symlink stored in the commit is followed inside the
   commit (at most 40 links, never out of the repository). The head work tree, where a change
   may have moved or re-pointed folders, is never consulted;
2. each blob is written to a private folder this run created (mode 0700) under a fresh name:
   no file found in a shared or cached folder is ever read in its place, at any stage;
3. the written bytes are hashed again with git's object hash and must match the blob's id;
   their sha256 is what the collectors compare;
4. a multi-file artifact is read the same way, file by file: the external-data files the base
   model names (resolved in the base commit, inside the model's folder there), or every file
   of a model directory (:mod:`fleetgate.evidence._multifile`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fleetgate.errors import EvidenceError, FleetgateError
from fleetgate.evidence._format import with_format
from fleetgate.evidence._multifile import IGNORED, external_names, is_onnx_name, multi_file
from fleetgate.evidence.interface import Artifact, ArtifactFile
from fleetgate.git import Git

__all__ = ["CommitFile", "export_artifact", "export_verified", "resolve_in_commit"]

_MAX_LINKS = 40
_MAX_LINK_BYTES = 4096
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CommitFile:
    """One entry of the base commit, after following the commit's own symlinks."""

    path: str  # repository-relative, symlink-free
    kind: str  # "blob" | "tree"
    oid: str


def resolve_in_commit(git: Git, commit: str, path: str) -> CommitFile | None:
    """Where ``path`` leads inside ``commit`` (None when it names nothing there)."""
    pending = list(PurePosixPath(path).parts)
    done: list[str] = []
    links = 0
    entry: CommitFile | None = None
    while pending:
        part = pending.pop(0)
        if part in ("", ".", "/"):
            continue
        if part == "..":
            if not done:
                raise EvidenceError(f"{path}: leaves the repository in the base commit; refused")
            done.pop()
            entry = None
            continue
        candidate = "/".join([*done, part])
        entry = _entry(git, commit, candidate)
        if entry is None:
            return None
        if entry.kind == "link":
            links += 1
            if links > _MAX_LINKS:
                raise EvidenceError(f"{path}: too many symlinks in the base commit")
            pending = _link_parts(git, commit, candidate, path) + pending
            entry = None
            continue
        if pending and entry.kind != "tree":
            return None
        done.append(part)
    return entry


def _entry(git: Git, commit: str, candidate: str) -> CommitFile | None:
    for mode, kind, oid, name in git.ls_tree(commit, candidate):
        if name == candidate:
            return CommitFile(candidate, "link" if mode == "120000" else kind, oid)
    return None


def _link_parts(git: Git, commit: str, link: str, path: str) -> list[str]:
    try:
        target = git.read(commit, [link], _MAX_LINK_BYTES).get(link, b"").decode("utf-8")
    except (FleetgateError, UnicodeDecodeError):
        raise EvidenceError(f"{path}: the symlink {link} in the base commit cannot be read") from None
    if not target or target.startswith("/"):
        raise EvidenceError(f"{path}: the symlink {link} in the base commit leaves the repository")
    # Relative to the folder holding the link: the caller's resolved prefix is that folder.
    return list(PurePosixPath(target).parts)


def export_verified(git: Git, commit: str, entry: CommitFile, target: Path) -> tuple[str, int]:
    """Write the blob ``entry`` to ``target``; ``("sha256:<hex>", size)`` of the bytes checked.

    EvidenceError when the blob is missing or the bytes written are not the blob's.
    """
    if not git.export(commit, entry.path, target):
        raise EvidenceError(f"{entry.path}: not in the base commit")
    size = target.stat().st_size
    object_hash = hashlib.sha256() if len(entry.oid) == 64 else hashlib.sha1()
    object_hash.update(f"blob {size}\0".encode())
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            object_hash.update(chunk)
            digest.update(chunk)
    if object_hash.hexdigest() != entry.oid:
        raise EvidenceError(f"{entry.path}: the bytes read from the base commit are not blob {entry.oid}")
    return "sha256:" + digest.hexdigest(), size


def export_artifact(git: Git, commit: str, uri: str, relative: str, folder: Path) -> Artifact:
    """The artifact ``relative`` names in ``commit``, every file of it written under ``folder``,
    with its format (EvidenceError when its name contradicts its bytes)."""
    return with_format(_exported(git, commit, uri, relative, folder))


def _exported(git: Git, commit: str, uri: str, relative: str, folder: Path) -> Artifact:
    entry = resolve_in_commit(git, commit, relative)
    if entry is None:
        raise EvidenceError(f"{uri}: {relative} is not in the base commit {commit[:12]}")
    if entry.kind == "tree":
        return _export_directory(git, commit, uri, entry, folder)
    if entry.kind != "blob":
        raise EvidenceError(f"{uri}: {relative} is not a file in the base commit")
    target = folder / PurePosixPath(entry.path).name
    digest, size = export_verified(git, commit, entry, target)
    external = external_names(uri, target) if is_onnx_name(uri, target) else []
    if not external:
        return Artifact(uri=uri, path=target, digest=digest, size=size, source="git")
    files = [ArtifactFile(target.name, digest, size)]
    model_dir = PurePosixPath(entry.path).parent
    for name in external:
        found = resolve_in_commit(git, commit, (model_dir / name).as_posix())
        if found is None or found.kind != "blob":
            raise EvidenceError(f"{uri}: {name}, a file of the artifact, is not in the base commit")
        if str(model_dir) != "." and not PurePosixPath(found.path).is_relative_to(model_dir):
            raise EvidenceError(f"{uri}: external data file {name} resolves outside the model's folder")
        files.append(ArtifactFile(name, *export_verified(git, commit, found, folder / name)))
    return multi_file(uri, target, "git", files)


def _export_directory(git: Git, commit: str, uri: str, entry: CommitFile, folder: Path) -> Artifact:
    target = folder / PurePosixPath(entry.path).name
    files: list[ArtifactFile] = []
    for mode, kind, oid, path in git.ls_tree(commit, entry.path, recursive=True):
        name = PurePosixPath(path).relative_to(entry.path).as_posix()
        if name.split("/")[0] in IGNORED:
            continue
        if mode == "120000" or kind != "blob":
            raise EvidenceError(
                f"{uri}: {name} is a symlink or a submodule; a model directory holds files only"
            )
        blob = CommitFile(path, "blob", oid)
        files.append(ArtifactFile(name, *export_verified(git, commit, blob, target / name)))
    if not files:
        raise EvidenceError(f"{uri}: the model directory holds no files in the base commit")
    return multi_file(uri, target, "git", files, directory=True)
