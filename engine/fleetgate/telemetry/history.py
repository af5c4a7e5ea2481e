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
from fleetgate.git import Commit, Git
from fleetgate.manifest import KIND, read_documents
from fleetgate.telemetry.fields import identity_of, part, rollout_percentage, version_of

__all__ = [
    "BranchLog",
    "Restored",
    "RungHistory",
    "last_deployed",
    "previous_versions",
    "restored",
    "rung_history",
]

# Enough for years of weekly rollouts; older history does not change a bake measured in hours.
MAX_COMMITS = 500
_MAX_MANIFEST = 4 << 20

Identity = tuple[str, str]


@dataclass(frozen=True)
class RungHistory:
    since: dt.datetime | None  # when the base branch reached this rung with this artifact
    commit: str | None
    previous_version: str | None


class BranchLog:
    """The base branch's first-parent commits with the files each changed, walked once (one git
    call) for every promotion of a check instead of once per manifest file."""

    def __init__(self, git: Git, base_commit: str) -> None:
        self.git, self.base_commit = git, base_commit
        self._by_file: dict[str, list[Commit]] | None = None
        self._cut_short = False

    def commits(self, file: str) -> list[Commit]:
        """The commits that touched ``file``, newest first (as :meth:`Git.history` lists them)."""
        if self._by_file is None:
            walked = self.git.touched(self.base_commit, MAX_COMMITS)
            # A walk cut short cannot say when a file was touched before it: each file then walks
            # its own history, as far back as MAX_COMMITS of its own commits.
            self._cut_short = len(walked) >= MAX_COMMITS
            self._by_file = {}
            for commit, changed in walked:
                for name in changed:
                    self._by_file.setdefault(name, []).append(commit)
        if self._cut_short:
            return self.git.history(self.base_commit, file, MAX_COMMITS)
        return self._by_file.get(file, [])


def rung_history(
    log: BranchLog, file: str, deployed: Mapping[str, Any], fields: Sequence[str]
) -> RungHistory:
    """Walk ``file``'s history up to the log's base commit for the deployment ``deployed`` (its base body)."""
    identity, target, version = identity_of(deployed), _state(deployed, fields), version_of(deployed)
    git, commits = log.git, log.commits(file)
    try:
        contents = git.versions([c.sha for c in commits], file, _MAX_MANIFEST)
    except FleetgateError:
        contents = {}  # a version too large to read holds no rung: the bake stays unknown
    since: dt.datetime | None = None
    commit: str | None = None
    in_run = True
    for entry in commits:
        older = _bodies(contents.get(entry.sha), file).get(identity)
        if in_run and target is not None and _state(older, fields) == target:
            since, commit = dt.datetime.fromisoformat(entry.committed_at), entry.sha
            continue
        in_run = False
        found = version_of(older)
        if found is not None and found != version:
            return RungHistory(since, commit, found)
    return RungHistory(since, commit, None)


@dataclass(frozen=True)
class Restored:
    """An artifact the base branch deployed before: the newest commit that had it, and the
    highest rollout percentage it ever reached there."""

    version: str | None
    commit: str
    percentage: int | float


def restored(
    git: Git, base_commit: str, file: str, head: Mapping[str, Any], fields: Sequence[str]
) -> Restored | None:
    """Whether ``head``'s artifact is one ``file``'s history up to ``base_commit`` already deployed."""
    identity, wanted = identity_of(head), _artifact(head, fields)
    commits = git.history(base_commit, file, MAX_COMMITS)
    try:
        contents = git.versions([c.sha for c in commits], file, _MAX_MANIFEST)
    except FleetgateError:
        return None
    found: Restored | None = None
    for entry in commits:
        body = _bodies(contents.get(entry.sha), file).get(identity)
        percentage = rollout_percentage(body)
        if body is None or percentage is None or _artifact(body, fields) != wanted:
            continue
        if found is None:
            found = Restored(version_of(body), entry.sha, percentage)
        elif percentage > found.percentage:
            found = Restored(found.version, found.commit, percentage)
    return found


def last_deployed(
    git: Git, ref: str, file: str, identity: Identity, version: str
) -> Mapping[str, Any] | None:
    """The newest body of deployment ``identity`` at ``version`` in ``file``'s history up to ``ref``."""
    commits = git.history(ref, file, MAX_COMMITS)
    try:
        contents = git.versions([c.sha for c in commits], file, _MAX_MANIFEST)
    except FleetgateError:
        return None
    for entry in commits:
        body = _bodies(contents.get(entry.sha), file).get(identity)
        if body is not None and version_of(body) == version:
            return body
    return None


def _artifact(body: Mapping[str, Any], fields: Sequence[str]) -> tuple[str, ...]:
    spec = part(body, "spec")
    return tuple(repr(spec.get(f)) for f in fields)


def previous_versions(
    git: Git, ref: str, deployed: Sequence[tuple[str, Identity, str]]
) -> dict[Identity, str]:
    """The version before the current one of each ``(file, identity, version)`` deployed at ``ref``.

    One walk for the whole fleet (``watch``): a git log of the first-parent history, and for each
    commit one batched read of the deployments' files it changed, as they were before it.
    """
    pending: dict[str, dict[Identity, str]] = {}
    for file, identity, version in deployed:
        pending.setdefault(file, {})[identity] = version
    found: dict[Identity, str] = {}
    for commit, changed in git.touched(ref, MAX_COMMITS):
        files = [f for f in changed if f in pending]
        try:
            before = git.read(f"{commit.sha}^", files, _MAX_MANIFEST) if files else {}
        except FleetgateError:
            continue  # the root commit has no parent; an unreadable file holds no version
        for file, data in before.items():
            for identity, body in _bodies(data, file).items():
                older = version_of(body)
                if identity in pending[file] and older is not None and older != pending[file][identity]:
                    found[identity] = older
                    del pending[file][identity]
            if not pending[file]:
                del pending[file]
        if not pending:
            break
    return found


def _bodies(data: bytes | None, file: str) -> dict[Identity, Mapping[str, Any]]:
    """The OnDeviceModel documents of one version of a file, by identity (none if it does not parse)."""
    try:
        documents = read_documents(data, file) if data is not None else []
    except FleetgateError:
        return {}
    return {
        identity_of(d.value): d.value
        for d in documents
        if isinstance(d.value, dict) and d.value.get("kind") == KIND
    }


def _state(body: Mapping[str, Any] | None, fields: Sequence[str]) -> tuple[str, ...] | None:
    if body is None:
        return None
    spec = part(body, "spec")
    return (*(repr(spec.get(f)) for f in fields), repr(rollout_percentage(body)))
