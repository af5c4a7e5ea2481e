"""The artifacts of one gathering: each resolved and hashed once, base versions from the base commit.

An :class:`ArtifactStore` is frozen: where it reads from (the artifact source, the repository
and its base commit) is fixed when it is built; it only remembers what it has resolved, so every
change naming one artifact shares one digest. It is a context manager: the private folder the
base versions are exported to goes when it closes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from fleetgate.errors import EvidenceError, GitError
from fleetgate.evidence.artifact import ArtifactSource, base_path, resolve_artifact
from fleetgate.evidence.interface import Artifact
from fleetgate.git import Git

__all__ = ["ArtifactStore"]


@dataclass(frozen=True)
class ArtifactStore:
    """Resolves, hashes and exports the artifacts of one gathering (see the module docstring)."""

    source: ArtifactSource
    git: Git | None = None
    base_commit: str | None = None
    _resolved: dict[str, Artifact | EvidenceError | None] = field(default_factory=dict, repr=False)
    _bases: dict[str, Artifact | EvidenceError] = field(default_factory=dict, repr=False)
    # The private folder of exported base versions, made on first use (at most one).
    _scratch: list[Path] = field(default_factory=list, repr=False)

    def __enter__(self) -> ArtifactStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for folder in self._scratch:
            shutil.rmtree(folder, ignore_errors=True)
        self._scratch.clear()

    def artifact(self, uri: str) -> Artifact | None:
        """The hashed artifact for ``uri`` (resolved once; EvidenceError again on every call)."""
        if uri not in self._resolved:
            try:
                self._resolved[uri] = resolve_artifact(uri, self.source)
            except EvidenceError as exc:
                self._resolved[uri] = exc
        found = self._resolved[uri]
        if isinstance(found, EvidenceError):
            raise found
        return found

    def resolved(self, uri: str) -> Artifact | None:
        """The artifact ``uri`` when it was already resolved and hashed; never resolves it."""
        found = self._resolved.get(uri)
        return found if isinstance(found, Artifact) else None

    def base_artifact(self, uri: str) -> Artifact | None:
        """The artifact ``uri`` named at the base commit: from git for repository paths, else as now.

        EvidenceError (or GitError) when a repository path cannot be read from the base commit.
        """
        if self.git is None or self.base_commit is None:
            return self.artifact(uri)
        relative = base_path(uri, self.source.root)
        if relative is None:
            return self.artifact(uri)
        if relative not in self._bases:
            self._bases[relative] = self._export(uri, relative)
        found = self._bases[relative]
        if isinstance(found, EvidenceError):
            raise found
        return found

    def _export(self, uri: str, relative: str) -> Artifact | EvidenceError:
        """Read the base version from the base commit into a private folder, each blob checked
        against its id (see ``_revision``): never a file found anywhere else."""
        assert self.git is not None and self.base_commit is not None
        folder = self._private() / str(len(self._bases))
        try:
            from fleetgate.evidence._revision import export_artifact

            return export_artifact(self.git, self.base_commit, uri, relative, folder)
        except (EvidenceError, GitError) as exc:
            return EvidenceError(exc.message)

    def _private(self) -> Path:
        """A folder only this store writes, made fresh (mode 0700) and removed when it closes."""
        if not self._scratch:
            import tempfile

            self._scratch.append(Path(tempfile.mkdtemp(prefix="fleetgate-base-")))
        return self._scratch[0]
