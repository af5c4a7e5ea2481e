"""``fleetgate verify ARTIFACT --trust FILE``: what can be proven about one artifact file.

The same collectors as ``fleetgate check`` run on a single local file: its digest, its
signature and its provenance, against the trust file. Nothing is cached and nothing is recorded:
this is the release engineer's and the auditor's way to ask "is this the file we signed?".

For an ML-BOM (``--format cyclonedx``) the model collector reads the file too (format and
quantization, in its bounded child process), and ``--manifest`` names the deployment whose
claims the BOM records as declared. Only an admitted artifact gets a BOM: proven, and its
model readable.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate import __version__
from fleetgate.errors import ConfigError, FleetgateError, GitError
from fleetgate.evidence import CollectorContext
from fleetgate.evidence.artifact import hashed_artifact
from fleetgate.evidence.registry import spec
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
    model: Mapping[str, Any] | None = None  # the model fact, read for a BOM
    declared: Mapping[str, Any] | None = None  # the manifest deploying the artifact, when named

    @property
    def proven(self) -> bool:
        checks = [fact.get("status") == "verified" for fact in self.facts.values()]
        return bool(checks) and all(checks) and self.checksum_matches is not False

    @property
    def admitted(self) -> bool:
        """Proven, and its model readable when it was read: only such an artifact gets a BOM."""
        return self.proven and not (self.model is not None and "error" in self.model)

    def to_json(self) -> dict[str, Any]:
        model = {} if self.model is None else {"model": dict(self.model)}
        return {
            "artifact": dict(self.artifact),
            "checksum_matches": self.checksum_matches,
            **{name: dict(fact) for name, fact in self.facts.items()},
            **model,
            "proven": self.proven,
        }

    def bom(self, timestamp: str, serial: str) -> dict[str, Any]:
        """The CycloneDX ML-BOM of this artifact (:mod:`fleetgate.format.cyclonedx`)."""
        from fleetgate.format.cyclonedx import ml_bom

        facts = dict(self.facts)
        for name in ("signature", "provenance"):
            facts.setdefault(name, {"status": "absent", "reason": f"the trust file names no {name} check"})
        if self.model is not None:
            facts["model"] = self.model
        return ml_bom(
            self.artifact,
            facts,
            declared=self.declared,
            tool_version=__version__,
            timestamp=timestamp,
            serial=serial,
        )


def run_verify(
    path: Path,
    trust_path: Path,
    checksum: str | None = None,
    *,
    model: bool = False,
    manifest: Path | None = None,
) -> Verified:
    """Hash ``path`` once, then verify its signature and provenance as the trust file asks.

    ``model`` also reads the model (format, quantization); ``manifest`` is the deployment
    naming the artifact: its ``spec.checksum`` is required like ``checksum`` when that is not given.
    """
    declared = _declared(manifest) if manifest is not None else None
    if checksum is None and declared is not None:
        found = declared["spec"].get("checksum")
        checksum = found if isinstance(found, str) else None
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
    read = _model_fact(context) if model else None
    return Verified(artifact.to_fact(context.root), facts, matches, read, declared)


def _declared(path: Path) -> Mapping[str, Any]:
    """The one OnDeviceModel document of ``path``, schema-checked."""
    from fleetgate.manifest import read_manifests, validate

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FleetgateError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    documents = read_manifests(data, str(path))
    if len(documents) != 1:
        raise FleetgateError(f"{path}: expected one OnDeviceModel document, found {len(documents)}")
    [document] = documents
    violations = validate(document.body)
    if violations:
        first = violations[0]
        raise FleetgateError(f"{path}:{document.line_of(first.path)}: {first.message}")
    return document.body


def _model_fact(context: CollectorContext) -> Mapping[str, Any]:
    """The model fact as a check gathers it; absent with the reason when it cannot be read here."""
    assert context.artifact is not None
    model_format = context.artifact.format
    extra, libraries = spec("model").requirements(model_format)
    for library in libraries:
        if importlib.util.find_spec(library) is None:
            return {
                "status": "absent",
                "reason": f"{library} is not installed here (pip install 'fleetgate[{extra}]')",
            }
    collector = importlib.import_module("fleetgate.evidence.model").COLLECTOR
    try:
        fact: Mapping[str, Any] | None = collector.collect(context)
    except ConfigError:
        raise
    except FleetgateError as exc:
        return {"error": exc.diagnostics()}
    if fact is None:
        return {"status": "absent", "reason": f"no reader measures {model_format} artifacts"}
    return fact


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
