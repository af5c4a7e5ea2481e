"""What every evidence collector receives and returns.

A collector gathers one fact (SPEC: policy input ``facts``) about the artifact a manifest points
to. Collectors are independent: none imports another, and each imports its heavy libraries
(onnxruntime, fairlearn, sigstore, in-toto) inside :meth:`Collector.collect`, so a run that
does not need a fact never pays for its imports.

The contract of ``collect``:

* return a JSON-ready mapping: the fact;
* return ``None`` when the fact cannot be gathered here (no trust config, no ``evaluation``
  block, no artifact): the fact stays absent and ``evidence.missing`` speaks for it;
* raise :class:`~fleetgate.errors.EvidenceError` with a one-line message naming the file when
  the evidence is bad (hostile or malformed model, unreadable bundle). The gate records the
  message as ``{"error": message}`` and the policies deny on it.

A verification that runs and fails (tampered model, wrong signer) is a *result*, not an error:
the signature and provenance facts report ``"status": "failed"`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fleetgate.files import GateFiles
    from fleetgate.git import Git

from fleetgate.evidence._kit import shown

__all__ = ["SILENT", "Artifact", "ArtifactFile", "Collector", "CollectorContext", "Progress", "TrustConfig"]


@dataclass(frozen=True)
class ArtifactFile:
    """One file of a multi-file artifact."""

    name: str  # POSIX path relative to the artifact's folder (the model's folder, or the directory)
    digest: str  # "sha256:<64 lowercase hex>"
    size: int


@dataclass(frozen=True)
class Artifact:
    """The local bytes a ``modelUri`` resolved to, hashed once per run.

    A single file: ``digest`` is its SHA-256 and ``files`` is empty. Several files (an ONNX
    model with external data, or a model directory): ``files`` lists each one by name, ``size``
    is their total and ``digest`` is the file-set digest, the SHA-256 over the files' raw
    SHA-256 digests in name order (model-signing's root digest over the same files).
    """

    uri: str
    path: Path  # the model file (a download lands in the cache first), or the model directory
    digest: str  # "sha256:<64 lowercase hex>"
    size: int
    source: str  # "file" | "mirror" | "https" | "git"
    files: tuple[ArtifactFile, ...] = ()
    directory: bool = False
    # "onnx" | "ort" | "tflite" | "coreml" | "unknown", from the bytes (fleetgate.evidence._format)
    format: str = "unknown"

    def to_fact(self, root: Path) -> dict[str, Any]:
        """The ``artifact`` fact; the path is shown relative to the repository when inside it."""
        fact: dict[str, Any] = {
            "uri": self.uri,
            "path": shown(self.path, root),
            "digest": self.digest,
            "size": self.size,
            "source": self.source,
            "format": self.format,
        }
        if self.files:
            fact["files"] = [{"name": f.name, "digest": f.digest, "size": f.size} for f in self.files]
        return fact


# Keys, roots, certificate chains and layouts are small; anything larger is not one.
MAX_TRUST_MATERIAL_BYTES = 16 << 20


@dataclass(frozen=True)
class TrustConfig:
    """The trust file (``attestations/trust.schema.json``), validated, sections still raw.

    Paths inside a section are relative to the trust file's folder, and every file they name is
    read through the same gate-file reader as the trust file (the trusted revision): a change
    under review cannot swap the keys it is judged by.
    """

    path: Path  # as shown in messages (a repository path)
    digest: str  # sha256 of the trust file's bytes, recorded with every fact that used it
    files: GateFiles = field(compare=False, repr=False)
    base: str = ""  # the trust file's folder, a repository path
    signature: Mapping[str, Any] | None = None
    provenance: Mapping[str, Any] | None = None

    def resolve(self, relative: str, what: str = "trust material") -> Path:
        """A private copy of the trust material ``relative`` names (see GateFiles.materialize).

        An operator's trust file outside any repository may also name absolute paths.
        """
        from fleetgate.files import WORKTREE, repo_path

        if self.files.revision == WORKTREE and Path(relative).is_absolute():
            return Path(relative)
        path = repo_path(relative, self.base, f"{self.path}: {relative}")
        return self.files.materialize(path, MAX_TRUST_MATERIAL_BYTES, what)


class Progress(Protocol):
    """Where long collectors report progress. The CLI supplies a TTY bar or one-line log."""

    def start(self, task: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...

    def finish(self, summary: str) -> None: ...


class _Silent:
    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, summary: str) -> None:
        pass


SILENT: Progress = _Silent()


@dataclass(frozen=True)
class CollectorContext:
    """Everything one collector may look at for one manifest change.

    ``settings`` is this collector's section of ``evidence:`` in ``fleetgate.yaml`` (``{}``
    when absent). ``base_artifact`` is the previous version's artifact when the change replaced
    the artifact and the old bytes are reachable, so regressions are measured in the same run.
    """

    manifest: Mapping[str, Any]
    previous: Mapping[str, Any] | None
    root: Path
    artifact: Artifact | None = None
    base_artifact: Artifact | None = None
    trust: TrustConfig | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    progress: Progress = SILENT
    # The trusted revision's files, for evidence that is a yardstick (the evaluation dataset).
    trusted: GateFiles | None = field(default=None, compare=False, repr=False)
    # The facts already gathered for this change: a deployment-scope collector (cost) reads the
    # artifact's measured size and digest from them.
    facts: Mapping[str, Any] = field(default_factory=dict)
    # The base branch's history and where the previous version lives in it (the telemetry
    # collector measures the bake time at the current rung from it).
    git: Git | None = field(default=None, compare=False, repr=False)
    base_commit: str | None = None
    previous_file: str | None = None


class Collector(Protocol):
    """One kind of evidence. Implementations are module-level objects named ``COLLECTOR``."""

    @property
    def fact(self) -> str:
        """The key under ``facts`` this collector fills, e.g. ``"model"``."""
        ...

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """What the fact depends on beyond the code (digests, settings), or ``None`` to never cache.

        Two contexts with equal keys must yield equal facts; the gate adds the fleetgate
        version and the collector's name.
        """
        ...

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Gather the fact (see the module docstring for the contract)."""
        ...
