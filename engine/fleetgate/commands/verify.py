"""``fleetgate verify ARTIFACT --trust FILE``: what can be proven about one artifact file.

The same collectors as ``fleetgate check`` run on a single local file: its digest, its
signature and its provenance, against the trust file. Nothing is cached and nothing is recorded:
this is the release engineer's and the auditor's way to ask "is this the file we signed?".
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate.errors import ConfigError, FleetgateError, GitError
from fleetgate.evidence import CollectorContext
from fleetgate.evidence.artifact import hashed_artifact
from fleetgate.evidence.trust import load_trust
from fleetgate.files import GateFiles
from fleetgate.git import Git

__all__ = ["Verified", "run_verify"]


@dataclass(frozen=True)
class Verified:
    """The facts proven about one artifact; ``proven`` only when every configured check verified."""

    artifact: Mapping[str, Any]
    facts: Mapping[str, Mapping[str, Any]]
    checksum_matches: bool | None

    @property
    def proven(self) -> bool:
        checks = [fact.get("status") == "verified" for fact in self.facts.values()]
        return bool(checks) and all(checks) and self.checksum_matches is not False

    def to_json(self) -> dict[str, Any]:
        return {
            "artifact": dict(self.artifact),
            "checksum_matches": self.checksum_matches,
            **{name: dict(fact) for name, fact in self.facts.items()},
            "proven": self.proven,
        }


def run_verify(path: Path, trust_path: Path, checksum: str | None = None) -> Verified:
    """Hash ``path`` once, then verify its signature and provenance as the trust file asks."""
    trust_root = _root(trust_path.resolve().parent)
    trust = load_trust(GateFiles.on_disk(trust_root), trust_path.resolve().relative_to(trust_root).as_posix())
    if not path.is_file():
        raise FleetgateError(f"{path}: no such artifact file")
    resolved = path.resolve()
    # As the check hashes it: a model's external-data files are part of the artifact.
    artifact = hashed_artifact(f"file:{path}", resolved, "file")
    context = CollectorContext(
        manifest={}, previous=None, root=_root(resolved.parent), artifact=artifact, trust=trust
    )
    facts: dict[str, Mapping[str, Any]] = {}
    for name in ("signature", "provenance"):
        if getattr(trust, name) is None:
            continue
        fact = _collect(name, context)
        if fact is not None:
            facts[name] = fact
    if not facts:
        raise FleetgateError(f"{trust_path}: names neither signature nor provenance requirements")
    matches = None if checksum is None else checksum == artifact.digest
    return Verified(artifact.to_fact(context.root), facts, matches)


def _root(folder: Path) -> Path:
    """The repository holding ``folder`` (paths are shown relative to it), else the folder itself."""
    try:
        return Git.discover(folder).root.resolve()
    except GitError:
        return folder


def _collect(name: str, context: CollectorContext) -> Mapping[str, Any] | None:
    collector = importlib.import_module(f"fleetgate.evidence.{name}").COLLECTOR
    try:
        fact: Mapping[str, Any] | None = collector.collect(context)
    except ConfigError:
        raise
    except FleetgateError as exc:
        return {"status": "failed", "reason": exc.diagnostics()}
    except Exception as exc:
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    return fact
