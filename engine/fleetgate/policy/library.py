"""The policy library: Rego modules, default thresholds and rule metadata, loaded once per run.

A policy directory holds ``**/*.rego`` (``*_test.rego`` are tests), an optional ``data.yaml``
at its root whose top level becomes ``data.fleetgate.config``, and ``**/rules.yaml`` files with
each rule's title, rationale and remediation. The built-in library ships inside the package;
a repository's own directories add to it (or replace it with ``replaceBuiltin: true``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate._read import read_capped
from fleetgate.errors import ManifestError, PolicyError
from fleetgate.files import GateFiles
from fleetgate.manifest import read_documents
from fleetgate.policy.interface import PolicyRevision
from fleetgate.policy.overrides import DataOrigin, apply_overrides, merge_data

__all__ = [
    "BUILTIN_LABEL",
    "BundleOrigin",
    "PolicyLibrary",
    "PolicyModule",
    "RuleInfo",
    "builtin_policy_dir",
    "load_library",
    "merge_data",
    "module_of",
    "rule_infos",
]

BUILTIN_LABEL = "builtin:"
_MAX_FILE = 1024 * 1024
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$", re.M)
_RULE_FIELDS = ("title", "severity", "description", "remediation")


@dataclass(frozen=True)
class PolicyModule:
    """One Rego file: ``path`` is how it is shown (``builtin:rollout/ladder.rego`` or repo-relative)."""

    path: str
    source: str
    package: str

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego")

    def line_at(self, offset: int) -> int:
        return self.source.count("\n", 0, max(0, offset)) + 1


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is for and how to fix or waive a finding of it."""

    name: str
    title: str
    severity: str
    description: str
    remediation: str
    config: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundleOrigin:
    """Where a library read from a signed OPA bundle came from."""

    revision: str  # the bundle's .manifest revision
    signer: str  # the key id of its signature


@dataclass(frozen=True)
class PolicyLibrary:
    modules: tuple[PolicyModule, ...]
    data: Mapping[str, Any]
    rules: Mapping[str, RuleInfo]
    revision: str
    bundle: BundleOrigin | None = None

    @property
    def policy_revision(self) -> PolicyRevision:
        """The revision as receipts and the decision name it."""
        origin = self.bundle
        return PolicyRevision(
            self.revision, origin.revision if origin else None, origin.signer if origin else None
        )


def builtin_policy_dir() -> Path:
    """The built-in library: inside the installed wheel, or the checkout's ``policies/``."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "_policies"
    if shipped.is_dir():
        return shipped
    return here.parent.parent / "policies"


def load_library(
    dirs: Sequence[Path],
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
    repository: Sequence[str] = (),
    files: GateFiles | None = None,
    origin: DataOrigin | None = None,
) -> PolicyLibrary:
    """Load every directory in order; later data and metadata override earlier ones.

    ``dirs`` are folders on disk (the built-in library, ``policy test DIR``); ``repository`` are
    the repository's policy folders, read through ``files`` (the trusted revision).
    ``overrides`` (``policies.data`` of fleetgate.yaml, written at ``origin``) may only set
    keys the libraries' data defines, with values of the same type: :class:`ConfigError`.
    """
    sources = [_disk_files(d, root) for d in dirs]
    if repository:
        assert files is not None
        sources += [_revision_files(files, folder) for folder in repository]
    modules: list[PolicyModule] = []
    data: dict[str, Any] = {}
    rules: dict[str, RuleInfo] = {}
    digest = hashlib.sha256()
    for source in sources:
        for display, rel, raw in source:
            digest.update(f"{display}\0{len(raw)}\0".encode())
            digest.update(raw)
            text = _decode(raw, display)
            if rel.endswith(".rego"):
                modules.append(module_of(display, text))
            elif rel == "data.yaml":
                data = merge_data(data, _yaml_mapping(raw, display))
            else:
                rules.update(_rules(raw, display))
    data = apply_overrides(data, overrides or {}, origin)
    digest.update(b"\0data\0" + json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    return PolicyLibrary(tuple(modules), data, rules, f"sha256:{digest.hexdigest()}")


def _wanted(rel: str) -> bool:
    return rel.endswith(".rego") or rel == "data.yaml" or rel.rsplit("/", 1)[-1] == "rules.yaml"


def _disk_files(directory: Path, root: Path | None) -> list[tuple[str, str, bytes]]:
    """The library files of a folder on disk: (display path, path inside the folder, bytes)."""
    directory = directory.resolve()
    if not directory.is_dir():
        raise PolicyError(f"{directory}: policy directory not found")
    label = BUILTIN_LABEL if directory == builtin_policy_dir().resolve() else _label(directory, root)
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if _wanted(rel):
            display = f"{label}{rel}"
            found.append((display, rel, read_capped(path, _MAX_FILE, "policy file", PolicyError, display)))
    return found


def _revision_files(files: GateFiles, folder: str) -> list[tuple[str, str, bytes]]:
    """The library files of a repository policy folder, read from the trusted revision."""
    listing = files.listing(folder, "policy directory")
    prefix = f"{folder}/" if folder else ""
    wanted = [p for p in listing.files if _wanted(p[len(prefix) :])]
    if not listing.files:
        raise PolicyError(f"{folder or '.'}: policy directory not found at {files.describe()}")
    contents = files.read_many(wanted, _MAX_FILE, "policy file", PolicyError)
    return [(path, path[len(prefix) :], contents[path]) for path in wanted if path in contents]


def _label(directory: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return directory.relative_to(root.resolve()).as_posix().rstrip("/") + "/"
        except ValueError:
            pass
    return directory.as_posix().rstrip("/") + "/"


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(f"{display}:{line}: not valid UTF-8") from None


def module_of(display: str, text: str) -> PolicyModule:
    match = _PACKAGE.search(text)
    if match is None:
        raise PolicyError(f"{display}:1: no package declaration")
    return PolicyModule(display, text, match.group(1))


def _yaml_mapping(raw: bytes, display: str) -> dict[str, Any]:
    try:
        documents = read_documents(raw, display)
    except ManifestError as exc:
        raise PolicyError(exc.message) from None
    values = [d.value for d in documents if d.value is not None]
    if not values:
        return {}
    if len(values) != 1 or not isinstance(values[0], dict):
        raise PolicyError(f"{display}: expected one YAML mapping")
    return values[0]


def _rules(raw: bytes, display: str) -> dict[str, RuleInfo]:
    return rule_infos(_yaml_mapping(raw, display).get("rules", {}), display)


def rule_infos(entries: Any, display: str) -> dict[str, RuleInfo]:
    """Rule metadata as ``rules.yaml`` (or a bundle's manifest) writes it: name -> fields."""
    if not isinstance(entries, dict):
        raise PolicyError(f"{display}: 'rules' must map rule names to their metadata")
    rules: dict[str, RuleInfo] = {}
    for name, meta in entries.items():
        if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in _RULE_FIELDS):
            raise PolicyError(f"{display}: rule {name!r} needs string {', '.join(_RULE_FIELDS)}")
        config = meta.get("config", [])
        rules[name] = RuleInfo(
            name,
            meta["title"],
            meta["severity"],
            " ".join(meta["description"].split()),
            " ".join(meta["remediation"].split()),
            tuple(str(c) for c in config) if isinstance(config, list) else (),
        )
    return rules
