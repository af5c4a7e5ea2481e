"""Diff stage: which deployments a change adds, modifies or deletes.

A deployment's identity is ``(namespace, name)``, not its file: a manifest moved to another file
is a modification, and one file may hold several deployments. Only the files that differ
between base and head are read, in one ``git cat-file`` batch per side.
"""

from __future__ import annotations

import os
import posixpath
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from fleetgate.config import ManifestSelector
from fleetgate.diff import FieldChange, diff_fields
from fleetgate.errors import FleetgateError, GitError, ManifestError
from fleetgate.git import INDEX, WORKTREE, Git, Revision, read_bounded
from fleetgate.manifest import Identity, Limits, Manifest, read_documents, read_manifests
from fleetgate.parallel import map_in_workers

__all__ = [
    "ChangeKind",
    "ChangeSet",
    "GitContext",
    "ManifestChange",
    "changes_between",
    "changes_in_paths",
    "deployed_manifests",
    "match_changes",
    "repository_links",
    "submodules_under_globs",
    "with_dependents",
]

ChangeKind = Literal["added", "modified", "deleted"]
_GITLINK = "160000"


@dataclass(frozen=True)
class ManifestChange:
    """One deployment whose manifest differs between base and head."""

    kind: ChangeKind
    head: Manifest | None
    base: Manifest | None
    reasons: tuple[str, ...] = ("manifest changed",)
    # Other documents anywhere under the globs that define the same deployment (a deny).
    conflicts: tuple[str, ...] = ()

    @property
    def manifest(self) -> Manifest:
        """The version the decision is about: head, or base for a deletion."""
        found = self.head or self.base
        assert found is not None
        return found

    def field_changes(self) -> list[FieldChange]:
        if self.kind != "modified":
            return []
        assert self.head is not None and self.base is not None
        return diff_fields(self.base.body, self.head.body)


@dataclass(frozen=True)
class GitContext:
    repo: str | None = None
    head_commit: str | None = None
    base_commit: str | None = None
    base_committed_at: str | None = None
    head_ref: str = "worktree"

    def to_json(self) -> dict[str, str | None]:
        return {
            "repo": self.repo,
            "head": self.head_ref,
            "head_commit": self.head_commit,
            "base_commit": self.base_commit,
            "base_committed_at": self.base_committed_at,
        }


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[ManifestChange, ...]
    context: GitContext
    # Every repository path that differs between base and head (manifests or not).
    paths: tuple[str, ...] = ()
    # The changed paths that are git submodules at head.
    links: tuple[str, ...] = ()


def changes_between(
    git: Git, base_ref: str | None, head: Revision, selector: ManifestSelector, limits: Limits
) -> ChangeSet:
    """Deployments that differ between commit ``base_ref`` and ``head`` (commit, index or worktree).

    ``base_ref`` ``None`` stands for the empty base of a repository with no commit yet.
    """
    base = git.commit(base_ref) if base_ref is not None else None
    head_commit = git.head() if head in (INDEX, WORKTREE) else git.commit(head)
    head_rev = head if head in (INDEX, WORKTREE) or head_commit is None else head_commit.sha
    entries = git.changed_entries(base.sha if base else None, head_rev)
    changed = sorted(entries)
    paths = [p for p in changed if selector.matches(p)]
    sides = [(base.sha, paths)] if base else []
    *old, new = git.read_revisions([*sides, (head_rev, paths)], limits.max_bytes)
    before = _manifests(old[0], limits) if old else []
    after = _manifests(new, limits)
    context = GitContext(
        repo=str(git.root),
        head_commit=head_commit.sha if head_commit else None,
        base_commit=base.sha if base else None,
        base_committed_at=base.committed_at if base else None,
        head_ref={INDEX: "index", WORKTREE: "worktree"}.get(head, head),
    )
    matched = _with_conflicts(git, head_rev, selector, limits, match_changes(before, after), set(paths))
    matched = _hidden(git, base.sha if base else None, head_rev, matched, entries, limits)
    links = tuple(p for p in changed if entries[p] == _GITLINK)
    return ChangeSet(tuple(matched), context, tuple(changed), links)


def changes_in_paths(
    root: Path,
    paths: Sequence[str],
    selector: ManifestSelector,
    limits: Limits,
    git: Git | None,
    jobs: int = 1,
) -> ChangeSet:
    """Every manifest under ``paths`` (files or folders), each as if newly added.

    Folders are searched with the manifest globs (and ``.gitignore`` inside a repository);
    a file named explicitly is always read. A large scan reads its files in ``jobs`` workers.
    """
    files: list[str] = []
    for given in paths or ["."]:
        full = (Path.cwd() / given).resolve()
        if not full.exists():
            raise FleetgateError(f"{given}: no such file or directory")
        rel = _relative(full, root)
        if full.is_file():
            files.append(rel)
        else:
            found = git.files([rel]) if git is not None else _walk(full, root)
            files.extend(f for f in found if selector.matches(f))

    def read(file: str) -> list[Manifest]:
        return read_manifests(read_bounded(root / file, file, limits.max_bytes), file, limits)

    manifests = [m for found in map_in_workers(read, list(dict.fromkeys(files)), jobs) for m in found]
    head = git.head() if git is not None else None
    context = GitContext(repo=str(root), head_commit=head.sha if head else None)
    return ChangeSet(tuple(match_changes([], manifests)), context)


def submodules_under_globs(links: Sequence[str], selector: ManifestSelector) -> list[str]:
    """The submodules among ``links`` where the manifest globs could find files.

    The gate does not read inside submodules, so a manifest there would be invisible to it.
    """
    probes = ("x.yaml", "x.yml", "x/x.yaml", "x/x.yml")
    return sorted(p for p in links if any(selector.matches(f"{p}/{probe}") for probe in probes))


def repository_links(git: Git) -> list[str]:
    """Every submodule of the staging area (for a scan of the working tree)."""
    entries = [r.split("\t", 1) for r in _split_z(git.run("ls-files", "-s", "-z"))]
    return [path for meta, path in entries if meta.split()[0] == _GITLINK]


def _with_conflicts(
    git: Git,
    head: Revision,
    selector: ManifestSelector,
    limits: Limits,
    changes: list[ManifestChange],
    read: set[str],
) -> list[ManifestChange]:
    """Added deployments that another, unchanged document under the globs already defines.

    ``git grep`` finds the few files that mention the name; only those are read and parsed.
    """
    added = {c.manifest.identity: c for c in changes if c.kind == "added"}
    if not added:
        return changes
    names = sorted({name for _, name in added})
    where = ["--cached"] if head == INDEX else ["--untracked"] if head == WORKTREE else [head]
    patterns = [arg for name in names for arg in ("-e", name)]
    try:
        out = git.run("grep", "-l", "-z", "-F", "--no-color", *patterns, *where, "--")
    except GitError as exc:
        if exc.message.endswith("failed: exit 1"):
            return changes  # git grep says "no match" with exit status 1 and nothing on stderr
        raise
    prefix = "" if head in (INDEX, WORKTREE) else f"{head}:"
    files = [p.removeprefix(prefix) for p in _split_z(out)]
    candidates = [f for f in files if selector.matches(f) and f not in read]
    found: dict[Identity, list[str]] = {}
    for other in _manifests(git.read(head, candidates, limits.max_bytes), limits):
        if other.identity in added:
            found.setdefault(other.identity, []).append(f"{other.file}:{other.line_of(())}")
    return [
        replace(
            c, conflicts=tuple(f"deployment {c.manifest.target} is also defined in {w}" for w in found[key])
        )
        if (key := c.manifest.identity) in found and c.kind == "added"
        else c
        for c in changes
    ]


def _hidden(
    git: Git,
    base: str | None,
    head: Revision,
    changes: list[ManifestChange],
    entries: dict[str, str],
    limits: Limits,
) -> list[ManifestChange]:
    """A deployment that vanishes from a file that keeps as many documents is not a plain deletion.

    Un-deploying is always allowed, by removing the document (or the file): a document turned
    into something the gate does not read (another kind) would otherwise pass as a deletion.
    """
    suspects = [
        c
        for c in changes
        if c.kind == "deleted"
        and c.base is not None
        and entries.get(c.base.file, "000000") not in ("000000", _GITLINK)
    ]
    if not suspects or base is None:
        return changes
    files = sorted({c.manifest.file for c in suspects})
    before = {
        f: len(read_documents(d, f, limits)) for f, d in git.read(base, files, limits.max_bytes).items()
    }
    after = {f: len(read_documents(d, f, limits)) for f, d in git.read(head, files, limits.max_bytes).items()}
    out = []
    for change in changes:
        file = change.manifest.file
        if change in suspects and after.get(file, 0) >= before.get(file, 1):
            why = (
                f"deployment {change.manifest.target} is no longer defined in {file}, which keeps its "
                "documents: un-deploy by removing its document, not by turning it into something the gate "
                "does not read"
            )
            change = replace(change, conflicts=(why,))
        out.append(change)
    return out


def with_dependents(
    git: Git,
    head: Revision,
    selector: ManifestSelector,
    limits: Limits,
    changes: ChangeSet,
    gate_changed: bool,
) -> ChangeSet:
    """Add the deployments whose manifest is unchanged but whose evaluation depends on what changed.

    A deployment is evaluated again when its repository artifact, a file beside it (signature
    bundle, external data, in-toto links) or its evaluation dataset changed, and every deployment
    is when a gate file changed (the "policy change impact"). Each says why in ``reasons``.
    """
    others = [p for p in changes.paths if not selector.matches(p)]
    if not gate_changed and not others:
        return changes
    evaluated = {c.manifest.identity for c in changes.changes}
    added: list[ManifestChange] = []
    for manifest in _all_manifests(git, head, selector, limits):
        if manifest.identity in evaluated:
            continue
        reasons = _dependency_reasons(manifest, others)
        if gate_changed:
            reasons.append("gate configuration changed")
        if reasons:
            added.append(ManifestChange("modified", manifest, manifest, tuple(reasons)))
    if not added:
        return changes
    ordered = sorted((*changes.changes, *added), key=lambda c: c.manifest.identity)
    return replace(changes, changes=tuple(ordered))


def deployed_manifests(git: Git, commit: str, selector: ManifestSelector, limits: Limits) -> list[Manifest]:
    """Every OnDeviceModel document under the globs at ``commit`` (the deployed state)."""
    return _all_manifests(git, commit, selector, limits)


def _all_manifests(git: Git, head: Revision, selector: ManifestSelector, limits: Limits) -> list[Manifest]:
    if head == WORKTREE:
        files = git.files()
    elif head == INDEX:
        files = _split_z(git.run("ls-files", "-z", "--cached"))
    else:
        files = _split_z(git.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", head))
    return _manifests(git.read(head, [f for f in files if selector.matches(f)], limits.max_bytes), limits)


def _dependency_reasons(manifest: Manifest, changed: Sequence[str]) -> list[str]:
    spec = manifest.body.get("spec")
    if not isinstance(spec, dict):
        return []
    reasons: list[str] = []
    artifact = _repository_artifact(spec.get("modelUri"))
    if artifact is not None:
        folder = posixpath.dirname(artifact)
        for path in changed:
            if path == artifact:
                reasons.append(f"artifact {path} changed")
            elif posixpath.dirname(path) == folder or (folder and path.startswith(f"{folder}/")):
                reasons.append(f"{_role(path)} {path} changed")
    evaluation = spec.get("evaluation")
    dataset = evaluation.get("dataset") if isinstance(evaluation, dict) else None
    if isinstance(dataset, str) and posixpath.normpath(dataset) in changed:
        reasons.append(f"evaluation dataset {posixpath.normpath(dataset)} changed")
    return reasons


def _role(path: str) -> str:
    name = posixpath.basename(path)
    if name.endswith((".sig", ".sigstore.json", ".sigstore")):
        return "signature bundle"
    if name.endswith(".link") or "/in-toto/" in f"/{path}":
        return "provenance link"
    return "file beside the artifact"


def _repository_artifact(uri: Any) -> str | None:
    """The repository path a ``file:`` or relative modelUri names (no file system access)."""
    if not isinstance(uri, str) or ("://" in uri and not uri.startswith("file://")):
        return None
    local = urllib.parse.unquote(uri.removeprefix("file://").removeprefix("file:"))
    if not local or local.startswith("/"):
        return None
    normal = posixpath.normpath(local)
    return None if normal.startswith("..") else normal


def _split_z(out: bytes) -> list[str]:
    return [p.decode("utf-8", errors="surrogateescape") for p in out.split(b"\0") if p]


def match_changes(base: Iterable[Manifest], head: Iterable[Manifest]) -> list[ManifestChange]:
    """Pair base and head documents by identity. Pure: no I/O.

    Raises :class:`ManifestError` when one side defines the same deployment twice (which
    version would be deployed is then ambiguous).
    """
    before, after = _by_identity(base), _by_identity(head)
    changes: list[ManifestChange] = []
    for identity in sorted(before.keys() | after.keys()):
        old, new = before.get(identity), after.get(identity)
        if old is None and new is not None:
            changes.append(ManifestChange("added", new, None))
        elif new is None and old is not None:
            changes.append(ManifestChange("deleted", None, old))
        elif old is not None and new is not None and old.body != new.body:
            changes.append(ManifestChange("modified", new, old))
    return changes


def _by_identity(manifests: Iterable[Manifest]) -> dict[Identity, Manifest]:
    found: dict[Identity, Manifest] = {}
    for manifest in manifests:
        first = found.setdefault(manifest.identity, manifest)
        if first is not manifest:
            raise ManifestError(
                manifest.file,
                f"deployment {manifest.target} is also defined in {first.file}:{first.line_of(())}",
                manifest.line_of(()),
            )
    return found


def _manifests(contents: dict[str, bytes], limits: Limits) -> list[Manifest]:
    return [m for path, data in contents.items() for m in read_manifests(data, path, limits)]


def _relative(full: Path, root: Path) -> str:
    try:
        return full.relative_to(root).as_posix() or "."
    except ValueError:
        raise FleetgateError(f"{full}: outside the repository {root}") from None


def _walk(folder: Path, root: Path) -> list[str]:
    found: list[str] = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(_relative(Path(current) / n, root) for n in sorted(names))
    return found
