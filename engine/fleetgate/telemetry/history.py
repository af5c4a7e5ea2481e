"""How long a deployment has sat at its current rung, and which version came before it.

Read from the base branch's history (trusted: it is what was merged): walking the first-parent
commits that touched the manifest's file, newest first, the bake started at the oldest commit
of the newest unbroken run in which the deployment had this artifact at this rung. The previous
version is the ``spec.version`` of the first older commit with another version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgate.errors import FleetgateError
from fleetgate.git import Git
from fleetgate.manifest import KIND, read_documents

__all__ = ["RungHistory", "previous_versions", "rung_history"]

# Enough for years of weekly rollouts; older history does not change a bake measured in hours.
MAX_COMMITS = 500
_MAX_MANIFEST = 4 << 20


@dataclass(frozen=True)
class RungHistory:
    since: dt.datetime | None  # when the base branch reached this rung with this artifact
    commit: str | None
    previous_version: str | None


def rung_history(
    git: Git, base_commit: str, file: str, deployed: Mapping[str, Any], fields: Sequence[str]
) -> RungHistory:
    """Walk ``file``'s history up to ``base_commit`` for the deployment ``deployed`` (its base body)."""
    metadata = _part(deployed, "metadata")
    identity = (str(metadata.get("namespace") or "default"), str(metadata.get("name")))
    spec = deployed.get("spec") if isinstance(deployed.get("spec"), dict) else None
    target, version = _state(spec, fields), _version(spec)
    since: dt.datetime | None = None
    commit: str | None = None
    in_run = True
    commits = git.history(base_commit, file, MAX_COMMITS)
    try:
        contents = git.versions([c.sha for c in commits], file, _MAX_MANIFEST)
    except FleetgateError:
        contents = {}  # a version too large to read holds no rung: the bake stays unknown
    for entry in commits:
        older = _spec_in(contents.get(entry.sha), file, identity)
        if in_run and target is not None and _state(older, fields) == target:
            since, commit = dt.datetime.fromisoformat(entry.committed_at), entry.sha
            continue
        in_run = False
        found = _version(older)
        if found is not None and found != version:
            return RungHistory(since, commit, found)
    return RungHistory(since, commit, None)


def previous_versions(
    git: Git, ref: str, deployed: Sequence[tuple[str, tuple[str, str], str]]
) -> dict[tuple[str, str], str]:
    """The version before the current one of each ``(file, identity, version)`` deployed at ``ref``.

    One walk for the whole fleet (``watch``): a git log of the first-parent history, and for each
    commit one batched read of the deployments' files it changed, as they were before it.
    """
    pending: dict[str, dict[tuple[str, str], str]] = {}
    for file, identity, version in deployed:
        pending.setdefault(file, {})[identity] = version
    found: dict[tuple[str, str], str] = {}
    for sha, changed in git.touched(ref, MAX_COMMITS):
        files = [f for f in changed if f in pending]
        if not files:
            continue
        try:
            before = git.read(f"{sha}^", files, _MAX_MANIFEST)
        except FleetgateError:
            continue  # the root commit has no parent; an unreadable file holds no version
        for file, data in before.items():
            for identity, version in _versions(data, file, pending[file]).items():
                if version != pending[file][identity]:
                    found[identity] = version
                    del pending[file][identity]
            if not pending[file]:
                del pending[file]
        if not pending:
            break
    return found


def _versions(data: bytes, file: str, wanted: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    try:
        documents = read_documents(data, file)
    except FleetgateError:
        return {}
    found = {}
    for document in documents:
        body = document.value
        if not isinstance(body, dict) or body.get("kind") != KIND:
            continue
        metadata = _part(body, "metadata")
        identity = (str(metadata.get("namespace") or "default"), str(metadata.get("name")))
        version = _version(_part(body, "spec"))
        if identity in wanted and version is not None:
            found[identity] = version
    return found


def _spec_in(data: bytes | None, file: str, identity: tuple[str, str]) -> Mapping[str, Any] | None:
    try:
        documents = read_documents(data, file) if data is not None else []
    except FleetgateError:
        return None  # a version of the file that does not parse holds no rung
    for document in documents:
        body = document.value
        if not isinstance(body, dict) or body.get("kind") != KIND:
            continue
        metadata = _part(body, "metadata")
        if (metadata.get("namespace") or "default", metadata.get("name")) == identity:
            spec = body.get("spec")
            return spec if isinstance(spec, dict) else None
    return None


def _state(spec: Mapping[str, Any] | None, fields: Sequence[str]) -> tuple[Any, ...] | None:
    if spec is None:
        return None
    strategy = _part(spec, "updateStrategy")
    return (*(repr(spec.get(f)) for f in fields), repr(strategy.get("rolloutPercentage")))


def _version(spec: Mapping[str, Any] | None) -> str | None:
    version = spec.get("version") if spec is not None else None
    return version if isinstance(version, str) else None


def _part(body: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """``body[key]`` when it is a mapping, else an empty one (schema errors are judged elsewhere)."""
    value = body.get(key) if body is not None else None
    return value if isinstance(value, dict) else {}
