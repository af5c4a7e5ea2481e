"""Gather the facts of every change: resolve the artifact, hash it once, run the collectors.

An :class:`EvidenceRun` says what one check gathers and where from; it never changes. Each
gathering builds two frozen parts from it: an :class:`~fleetgate.evidence._store.ArtifactStore`
(resolution, hashing, base versions exported from the base commit and checked against their
blob ids, in a private folder removed when the gathering ends) and a
:class:`~fleetgate.evidence._collecting.CollectorRunner` (libraries, fact cache, one failure shape).

Failures never become passes:

* an artifact that is not reachable leaves every fact absent (``evidence.missing`` decides
  what that costs at the stage);
* a collector that raises :class:`EvidenceError` (hostile model, unreadable bundle) or fails
  unexpectedly leaves ``{"error": "<message>"}`` as its fact, which the policies deny
  (``evidence.failed``);
* a configuration problem (:class:`ConfigError`) stops the check: exit 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetgate.changes import ChangeSet, ManifestChange
from fleetgate.config import EvidenceConfig
from fleetgate.errors import EvidenceError, GitError
from fleetgate.evidence._collecting import CollectorRunner
from fleetgate.evidence._store import ArtifactStore
from fleetgate.evidence.artifact import ArtifactSource, MissingArtifact, may_resolve, unreachable_reason
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


@dataclass(frozen=True)
class EvidenceRun:
    """What one check gathers and where from. Built once by the check and never changed (a
    variant is made with ``dataclasses.replace``); :func:`gather_facts` builds its artifact store
    and collector runner from it."""

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
    # Collectors given as objects instead of loaded by name (a library caller's own).
    collectors: Mapping[str, Collector] = field(default_factory=dict)


def gather_facts(changes: ChangeSet, run: EvidenceRun) -> dict[str, dict[str, Any]]:
    """The facts of each change, keyed by ``namespace/name``: about its artifact when that is
    reachable, and about its deployment (the cost fact) for every added or modified change."""
    facts: dict[str, dict[str, Any]] = {}
    runner = CollectorRunner(run.settings, run.cache, run.collectors)
    with ArtifactStore(run.source, run.git, run.base_commit) as store:
        gathering = _Gathering(run, store, runner)
        for change in changes.changes:
            gathered = _facts_of(change, gathering) if "artifact" in run.settings.collect else {}
            gathered.update(_deployment_facts(change, gathered, gathering))
            if gathered:
                facts[change.manifest.target] = gathered
    return facts


@dataclass(frozen=True)
class _Gathering:
    """One gathering: what the check asked for, its artifacts and its collectors."""

    run: EvidenceRun
    store: ArtifactStore
    runner: CollectorRunner

    def context(self, change: ManifestChange, **fields: Any) -> CollectorContext:
        return CollectorContext(
            manifest=change.manifest.body,
            previous=change.base.body if change.base is not None else None,
            root=self.run.source.root,
            progress=self.run.progress,
            **fields,
        )


def _facts_of(change: ManifestChange, gathering: _Gathering) -> dict[str, Any]:
    run, store = gathering.run, gathering.store
    uri = _model_uri(change.manifest.body) if change.kind != "deleted" else None
    if uri is None:
        return {}
    # A manifest that fails the schema is judged by schema.invalid alone: nothing is read for it.
    # The cheap reachability test first keeps a scan of remote-only manifests from validating twice.
    if not may_resolve(uri, run.source):
        why = unreachable_reason(uri, run.source)
        return {ABSENT: {name: why for name in ("artifact", *COLLECTORS) if name in run.settings.collect}}
    if validate(change.manifest.body):
        return {}
    try:
        artifact = store.artifact(uri)
    except MissingArtifact as missing:
        return {"artifact": missing.to_fact()}
    except EvidenceError as exc:
        return {"artifact": {"uri": uri, "error": exc.message}}
    if artifact is None:
        return {}
    facts: dict[str, Any] = {"artifact": artifact.to_fact(run.source.root)}
    wanted = [name for name in COLLECTORS if name in run.settings.collect and name not in DEPLOYMENT_SCOPE]
    base, uncompared = _base_artifact(change, artifact, store) if _COMPARES & set(wanted) else (None, None)
    context = gathering.context(
        change, artifact=artifact, base_artifact=base, trust=run.trust, trusted=run.trusted
    )
    for name in wanted:
        fact = gathering.runner.collect(name, context)
        if fact is not None:
            facts[name] = dict(fact)
        elif run.trust is None and collector_spec(name).needs_trust:
            facts.setdefault(ABSENT, {})[name] = "no trust file is configured (trust: in fleetgate.yaml)"
    if uncompared is not None:
        _mark_uncompared(facts, uncompared)
    _share_peak_memory(facts)
    return facts


def _model_uri(body: Mapping[str, Any]) -> str | None:
    spec = body.get("spec")
    uri = spec.get("modelUri") if isinstance(spec, dict) else None
    return uri if isinstance(uri, str) else None


# -- Deployment scope -------------------------------------------------------------------------
# Facts about where a deployment goes rather than what its artifact is. They are gathered for
# every added or modified change, remote modelUri or not, after the artifact facts (whose
# measured size and digest they prefer when present).

DEPLOYMENT_SCOPE = tuple(c.name for c in REGISTRY if c.deployment_scope)


def _deployment_facts(
    change: ManifestChange, facts: Mapping[str, Any], gathering: _Gathering
) -> dict[str, Any]:
    # A collector without settings (no `fleet:` for cost) has nothing to read: skip it, so a
    # manifest-only run pays nothing for it. The manifest is not validated again here (a scan
    # would pay for it twice): these collectors read any shape, and the gate judges a manifest
    # that fails the schema by schema.invalid alone.
    run = gathering.run
    wanted = [n for n in DEPLOYMENT_SCOPE if n in run.settings.collect and run.settings.collectors.get(n)]
    if not wanted or change.kind == "deleted":
        return {}
    artifact = _gathered_artifact(facts, gathering.store)
    # The cost of a step depends on whether the bytes changed, whatever the checksum text says:
    # the base version's artifact when its bytes are here, identical or not (when unreachable,
    # the base's spec.checksum stands in for its digest).
    previous = _previous_version(change, gathering.store) if artifact is not None else None
    context = gathering.context(
        change,
        # The first collector's settings: the usual one (cost) then runs on this very context.
        settings=run.settings.collectors.get(wanted[0], {}),
        artifact=artifact,
        base_artifact=previous if isinstance(previous, Artifact) else None,
        trusted=run.gate_files,
        facts=facts,
        git=run.git,
        base_commit=run.base_commit,
        previous_file=change.base.file if change.base is not None else None,
    )
    found: dict[str, Any] = {}
    for name in wanted:
        fact = gathering.runner.collect_uncached(name, context)
        if fact is not None:
            found[name] = fact
    return found


def _gathered_artifact(facts: Mapping[str, Any], store: ArtifactStore) -> Artifact | None:
    """The artifact the artifact step already resolved for this change (never resolved here)."""
    fact = facts.get("artifact")
    if not isinstance(fact, Mapping) or "error" in fact:
        return None
    return store.resolved(fact.get("uri", ""))


def _previous_version(change: ManifestChange, store: ArtifactStore) -> Artifact | str | None:
    """The artifact the base version of ``change`` names, or why it cannot be read; None when
    the base names no artifact."""
    uri = _model_uri(change.base.body) if change.base is not None else None
    if uri is None:
        return None
    try:
        base = store.base_artifact(uri)
    except (EvidenceError, GitError) as exc:
        return f"the previous artifact {uri} cannot be read ({exc.diagnostics()})"
    return base if base is not None else f"the previous artifact {uri} is not reachable here"


def _base_artifact(
    change: ManifestChange, head: Artifact, store: ArtifactStore
) -> tuple[Artifact | None, str | None]:
    """The previous version's artifact when the change replaced it, or why it cannot be read.

    ``(None, None)``: nothing to compare (an added deployment, the same bytes). A base that
    names another artifact it cannot produce is a reason, never a silent skip: the comparison
    rules then cannot decide (``evidence.failed``).
    """
    spec = change.base.body.get("spec") if change.base is not None else None
    if isinstance(spec, dict) and spec.get("checksum") == head.digest:
        return None, None  # pinned to the very bytes the head ships: nothing to read
    previous = _previous_version(change, store)
    if isinstance(previous, str):
        return None, previous
    if previous is None or previous.digest == head.digest:
        return None, None
    return previous, None


def _mark_uncompared(facts: dict[str, Any], reason: str) -> None:
    """Each comparing fact says its comparison could not run (the policies deny on ``base.error``)."""
    for name in _COMPARES:
        fact = facts.get(name)
        if isinstance(fact, dict) and "error" not in fact and fact.get("status") != "absent":
            facts[name] = {**fact, "base": {"error": reason}}


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
