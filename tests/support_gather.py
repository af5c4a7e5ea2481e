"""Helpers of the gather tests: manifests read as the diff stage reads them, and an EvidenceRun
wired as the check wires it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.changes import ChangeKind, ChangeSet, GitContext, ManifestChange
from fleetgate.config import EvidenceConfig
from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.gather import EvidenceRun, artifact_source, gather_facts
from fleetgate.evidence.interface import SILENT, Collector, Progress, TrustConfig
from fleetgate.git import Git
from fleetgate.manifest import Manifest, read_manifests

from support import manifest, to_yaml

# The fewest runs the latency collector accepts: the tests check the plumbing, not the numbers.
FAST_LATENCY = {"repeats": 1, "warmupRuns": 0, "timedRuns": 2}


def read(doc: dict[str, Any], file: str = "models/deploy.yaml") -> Manifest:
    [found] = read_manifests(to_yaml(doc).encode(), file)
    return found


def deployment(name: str, uri: str, **spec: Any) -> dict[str, Any]:
    return manifest(name, modelUri=uri, **spec)


def change(head: dict[str, Any] | None, base: dict[str, Any] | None = None) -> ManifestChange:
    kind: ChangeKind = "modified" if head and base else "added" if head else "deleted"
    return ManifestChange(kind, read(head) if head else None, read(base) if base else None)


def changeset(*changes: ManifestChange) -> ChangeSet:
    return ChangeSet(tuple(changes), GitContext())


def evidence_run(
    root: Path,
    collect: tuple[str, ...] = ("artifact",),
    *,
    collectors: Mapping[str, Mapping[str, Any]] | None = None,
    cache: Path | None = None,
    trust: TrustConfig | None = None,
    progress: Progress = SILENT,
    supplied: Mapping[str, Collector] | None = None,
    base_commit: str | None = None,
) -> EvidenceRun:
    """An EvidenceRun wired as the check wires it (commands/check.py), on ``root``.

    ``supplied`` collectors replace the ones loaded by name (no module is patched); with
    ``base_commit``, base versions of repository artifacts are read from that commit of ``root``.
    """
    settings = EvidenceConfig(collect=collect, cache=cache, collectors=dict(collectors or {}))
    return EvidenceRun(
        settings=settings,
        source=artifact_source(root, settings, cache),
        cache=FactCache(cache, "0.0.0-test"),
        trust=trust,
        progress=progress,
        git=Git(root) if base_commit is not None else None,
        base_commit=base_commit,
        collectors=dict(supplied or {}),
    )


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gather_one(
    root: Path, uri: str, collect: tuple[str, ...] = ("artifact",), **options: Any
) -> dict[str, Any]:
    """The facts of one added deployment ``production/a`` whose modelUri is ``uri``."""
    return gather_facts(changeset(change(deployment("a", uri))), evidence_run(root, collect, **options))
