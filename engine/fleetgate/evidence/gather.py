"""Gather the facts of every change: resolve the artifact, hash it once, run the collectors.

Failures never become passes:

* an artifact that is not reachable leaves every fact absent (``evidence.missing`` decides
  what that costs at the stage);
* a collector that raises :class:`EvidenceError` (hostile model, unreadable bundle) or fails
  unexpectedly leaves ``{"error": "<message>"}`` as its fact, which the policies deny
  (``evidence.failed``);
* a configuration problem (:class:`ConfigError`) stops the check: exit 2.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fleetgate.changes import ChangeSet, ManifestChange
from fleetgate.config import EvidenceConfig
from fleetgate.errors import ConfigError, EvidenceError, GitError
from fleetgate.evidence.artifact import (
    ArtifactSource,
    MissingArtifact,
    base_path,
    may_resolve,
    resolve_artifact,
    unreachable_reason,
)
from fleetgate.evidence.cache import FactCache, check_cache_folder
from fleetgate.evidence.interface import SILENT, Artifact, Collector, CollectorContext, Progress, TrustConfig
from fleetgate.evidence.registry import COLLECTORS as REGISTRY
from fleetgate.evidence.registry import spec as collector_spec
from fleetgate.files import GateFiles
from fleetgate.git import Git
from fleetgate.inputs import ABSENT
from fleetgate.manifest import validate

__all__ = ["COLLECTORS", "EvidenceRun", "gather_facts"]

# The collectors in the order they run (evidence/registry.py is the one list).
COLLECTORS = tuple(c.name for c in REGISTRY)
# The collectors that measure the base artifact beside the head, for the comparison rules.
_COMPARES = frozenset({"latency", "fairness"})


@dataclass
class EvidenceRun:
    """One check's evidence gathering: artifacts are hashed once and shared by every change."""

    settings: EvidenceConfig
    source: ArtifactSource
    cache: FactCache
    trust: TrustConfig | None = None
    progress: Progress = SILENT
    # The trusted revision's files (the evaluation dataset is read from there).
    trusted: GateFiles | None = None
    # Where deployment-scope collectors read their gate files (the fleet files): the reader the
    # configuration came from, inside a repository or not.
    gate_files: GateFiles | None = None
    # Where the base version of a repository artifact is read from: the base commit, only.
    git: Git | None = None
    base_commit: str | None = None
    _artifacts: dict[str, Artifact | EvidenceError | None] = field(default_factory=dict)
    _base_blobs: dict[str, Artifact | EvidenceError] = field(default_factory=dict)
    _collectors: dict[str, Collector] = field(default_factory=dict)
    _scratch: Path | None = None

    def artifact(self, uri: str) -> Artifact | None:
        """The hashed artifact for ``uri`` (memoised: every change naming it shares one digest)."""
        if uri not in self._artifacts:
            try:
                self._artifacts[uri] = resolve_artifact(uri, self.source)
            except EvidenceError as exc:
                self._artifacts[uri] = exc
        found = self._artifacts[uri]
        if isinstance(found, EvidenceError):
            raise found
        return found

    def base_artifact(self, uri: str) -> Artifact | None:
        """The artifact ``uri`` named at the base commit: from git for repository paths, else as now.

        EvidenceError (or GitError) when a repository path cannot be read from the base commit.
        """
        if self.git is None or self.base_commit is None:
            return self.artifact(uri)
        relative = base_path(uri, self.source.root)
        if relative is None:
            return self.artifact(uri)
        if relative not in self._base_blobs:
            self._base_blobs[relative] = self._export(uri, relative)
        found = self._base_blobs[relative]
        if isinstance(found, EvidenceError):
            raise found
        return found

    def _export(self, uri: str, relative: str) -> Artifact | EvidenceError:
        """Read the base version from the base commit into a private folder (see ``_revision``)."""
        assert self.git is not None and self.base_commit is not None
        folder = self._private() / str(len(self._base_blobs))
        try:
            from fleetgate.evidence._revision import export_artifact

            return export_artifact(self.git, self.base_commit, uri, relative, folder)
        except (EvidenceError, GitError) as exc:
            return EvidenceError(exc.message)

    def _private(self) -> Path:
        """A folder only this run writes: base artifacts are never looked for anywhere else."""
        if self._scratch is None:
            import atexit
            import shutil
            import tempfile

            self._scratch = Path(tempfile.mkdtemp(prefix="fleetgate-base-"))  # mode 0700
            atexit.register(shutil.rmtree, self._scratch, ignore_errors=True)
        return self._scratch

    def collector(self, name: str) -> Collector:
        if name not in self._collectors:
            module = importlib.import_module(collector_spec(name).module)
            self._collectors[name] = module.COLLECTOR
        return self._collectors[name]


def gather_facts(changes: ChangeSet, run: EvidenceRun) -> dict[str, dict[str, Any]]:
    """The facts of each change, keyed by ``namespace/name``: about its artifact when that is
    reachable, and about its deployment (the cost fact) for every added or modified change."""
    facts: dict[str, dict[str, Any]] = {}
    for change in changes.changes:
        gathered = _facts_of(change, run) if "artifact" in run.settings.collect else {}
        gathered.update(_deployment_facts(change, gathered, run))
        if gathered:
            facts[change.manifest.target] = gathered
    return facts


def _facts_of(change: ManifestChange, run: EvidenceRun) -> dict[str, Any]:
    if change.kind == "deleted":
        return {}
    spec = change.manifest.body.get("spec")
    uri = spec.get("modelUri") if isinstance(spec, dict) else None
    if not isinstance(uri, str):
        return {}
    # A manifest that fails the schema is judged by schema.invalid alone: nothing is read for it.
    # The cheap reachability test first keeps a scan of remote-only manifests from validating twice.
    if not may_resolve(uri, run.source):
        why = unreachable_reason(uri, run.source)
        return {ABSENT: {name: why for name in ("artifact", *COLLECTORS) if name in run.settings.collect}}
    if validate(change.manifest.body):
        return {}
    try:
        artifact = run.artifact(uri)
    except MissingArtifact as missing:
        return {"artifact": missing.to_fact()}
    except EvidenceError as exc:
        return {"artifact": {"uri": uri, "error": exc.message}}
    if artifact is None:
        return {}
    facts: dict[str, Any] = {"artifact": artifact.to_fact(run.source.root)}
    wanted = [name for name in COLLECTORS if name in run.settings.collect and name not in DEPLOYMENT_SCOPE]
    base, uncompared = _base_artifact(change, artifact, run) if _COMPARES & set(wanted) else (None, None)
    context = CollectorContext(
        manifest=change.manifest.body,
        previous=change.base.body if change.base is not None else None,
        root=run.source.root,
        artifact=artifact,
        base_artifact=base,
        trust=run.trust,
        progress=run.progress,
        trusted=run.trusted,
    )
    for name in wanted:
        fact = _collect(name, context, run)
        if fact is not None:
            facts[name] = dict(fact)
        elif run.trust is None and collector_spec(name).needs_trust:
            facts.setdefault(ABSENT, {})[name] = "no trust file is configured (trust: in fleetgate.yaml)"
    if uncompared is not None:
        _mark_uncompared(facts, uncompared)
    _share_peak_memory(facts)
    return facts


# -- Deployment scope -------------------------------------------------------------------------
# Facts about where a deployment goes rather than what its artifact is. They are gathered for
# every added or modified change, remote modelUri or not, after the artifact facts (whose
# measured size and digest they prefer when present).

DEPLOYMENT_SCOPE = tuple(c.name for c in REGISTRY if c.deployment_scope)


def _deployment_facts(change: ManifestChange, facts: Mapping[str, Any], run: EvidenceRun) -> dict[str, Any]:
    # A collector without settings (no `fleet:` for cost) has nothing to read: skip it, so a
    # manifest-only run pays nothing for it. The manifest is not validated again here (a scan
    # would pay for it twice): these collectors read any shape, and the gate judges a manifest
    # that fails the schema by schema.invalid alone.
    wanted = [n for n in DEPLOYMENT_SCOPE if n in run.settings.collect and run.settings.collectors.get(n)]
    if not wanted or change.kind == "deleted":
        return {}
    artifact = _gathered_artifact(facts, run)
    context = CollectorContext(
        manifest=change.manifest.body,
        previous=change.base.body if change.base is not None else None,
        root=run.source.root,
        artifact=artifact,
        base_artifact=_previous_artifact(change, run) if artifact is not None else None,
        progress=run.progress,
        trusted=run.gate_files,
        facts=facts,
        git=run.git,
        base_commit=run.base_commit,
        previous_file=change.base.file if change.base is not None else None,
    )
    found: dict[str, Any] = {}
    for name in wanted:
        settings = run.settings.collectors.get(name, {})
        fact = _guarded(name, run.collector(name).collect, replace(context, settings=settings))
        if fact is not None:
            found[name] = fact
    return found


def _previous_artifact(change: ManifestChange, run: EvidenceRun) -> Artifact | None:
    """The base version's artifact when its bytes are here, identical or not: the cost of a
    step depends on whether the bytes changed, whatever the checksum text says."""
    spec = change.base.body.get("spec") if change.base is not None else None
    uri = spec.get("modelUri") if isinstance(spec, dict) else None
    if not isinstance(uri, str):
        return None
    try:
        return run.base_artifact(uri)
    except (EvidenceError, GitError):
        return None  # unreachable: the base's spec.checksum stands in for its digest


def _gathered_artifact(facts: Mapping[str, Any], run: EvidenceRun) -> Artifact | None:
    """The artifact the artifact step already resolved for this change (never resolved here)."""
    fact = facts.get("artifact")
    if not isinstance(fact, Mapping) or "error" in fact:
        return None
    found = run._artifacts.get(fact.get("uri", ""))
    return found if isinstance(found, Artifact) else None


def _base_artifact(
    change: ManifestChange, head: Artifact, run: EvidenceRun
) -> tuple[Artifact | None, str | None]:
    """The previous version's artifact when the change replaced it, or why it cannot be read.

    ``(None, None)``: nothing to compare (an added deployment, the same bytes). A base that
    names another artifact it cannot produce is a reason, never a silent skip: the comparison
    rules then cannot decide (``evidence.failed``).
    """
    if change.base is None:
        return None, None
    spec = change.base.body.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    uri = spec.get("modelUri")
    if not isinstance(uri, str) or spec.get("checksum") == head.digest:
        return None, None  # no artifact named, or pinned to the very bytes the head ships
    try:
        base = run.base_artifact(uri)
    except (EvidenceError, GitError) as exc:
        return None, f"the previous artifact {uri} cannot be read ({exc.diagnostics()})"
    if base is None:
        return None, f"the previous artifact {uri} is not reachable here"
    return (None, None) if base.digest == head.digest else (base, None)


def _mark_uncompared(facts: dict[str, Any], reason: str) -> None:
    """Each comparing fact says its comparison could not run (the policies deny on ``base.error``)."""
    for name in _COMPARES:
        fact = facts.get(name)
        if isinstance(fact, dict) and "error" not in fact and fact.get("status") != "absent":
            facts[name] = {**fact, "base": {"error": reason}}


def _collect(name: str, context: CollectorContext, run: EvidenceRun) -> Mapping[str, Any] | None:
    model_format = context.artifact.format if context is not None and context.artifact is not None else ""
    missing = _missing_library(name, model_format)
    if missing is not None:
        extra = collector_spec(name).requirements(model_format)[0]
        return {
            "status": "absent",
            "reason": f"{missing} is not installed here (pip install 'fleetgate[{extra}]')",
        }
    collector = run.collector(name)
    settings = run.settings.collectors.get(name, {})
    context = CollectorContext(**{**context.__dict__, "settings": settings})
    return _cached(name, collector, context, run.cache, lambda: _guarded(name, collector.collect, context))


def _cached(
    name: str,
    collector: Collector,
    context: CollectorContext,
    cache: FactCache,
    compute: Callable[[], Mapping[str, Any] | None],
) -> Mapping[str, Any] | None:
    key = _guarded_key(name, collector, context) if collector_spec(name).cacheable else None
    if key is not None:
        hit = cache.get(name, key)
        if hit is not None:
            return hit
    fact = compute()
    # Errors are not cached: the next run tries again and reports afresh.
    if key is not None and fact is not None and "error" not in fact:
        cache.put(name, key, fact)
    return fact


def _guarded_key(name: str, collector: Collector, context: CollectorContext) -> Mapping[str, Any] | None:
    try:
        key = collector.cache_key(context)
    except Exception:
        return None
    return None if key is None else {**key, "settings": dict(context.settings)}


def _guarded(
    name: str, collect: Callable[[CollectorContext], Mapping[str, Any] | None], context: CollectorContext
) -> Mapping[str, Any] | None:
    """Run a collector; every failure but a configuration error becomes an ``error`` fact."""
    try:
        return collect(context)
    except ConfigError:
        raise
    except EvidenceError as exc:
        return {"error": exc.diagnostics()}
    except Exception as exc:
        return {"error": f"the {name} collector failed unexpectedly: {type(exc).__name__}: {exc}"}


def _missing_library(name: str, model_format: str = "") -> str | None:
    """The first library ``name`` needs for ``model_format`` that is not installed (found
    without importing it)."""
    # A light install (the pre-commit hook's own environment) gathers what it can; a collector
    # whose libraries are missing leaves its fact absent, never an error.
    for module in collector_spec(name).requirements(model_format)[1]:
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            return module
    return None


def _share_peak_memory(facts: dict[str, Any]) -> None:
    """The latency run measures the model's peak memory; the memory rule reads it from ``model``."""
    model, latency = facts.get("model"), facts.get("latency")
    if isinstance(model, dict) and isinstance(latency, dict) and "peak_memory_mb" in latency:
        facts["model"] = {**model, "peak_memory_mb": latency["peak_memory_mb"]}


def artifact_source(root: Path, settings: EvidenceConfig, cache_dir: Path | None) -> ArtifactSource:
    """Where this check looks for artifacts; ConfigError for a cache folder in the work tree."""
    check_cache_folder(cache_dir, root)
    return ArtifactSource(
        root=root,
        mirror=settings.artifact_root,
        download=settings.download,
        downloads=cache_dir / "downloads" if cache_dir is not None else None,
    )
