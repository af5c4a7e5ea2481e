"""``fleetgate.yaml``: where manifests are, which policies apply, and their thresholds.

The file is schema-checked as it is loaded (a typo is an error naming file and line, never a
silently ignored setting). Every default of the gate can be overridden here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fleetgate.conform import Check, quick_check
from fleetgate.errors import ConfigError, ManifestError
from fleetgate.evidence.artifact import Download
from fleetgate.evidence.registry import FACTS, settings_schema
from fleetgate.files import GateFiles, repo_path
from fleetgate.manifest import Limits, format_path, read_documents
from fleetgate.telemetry.interface import METRICS as TELEMETRY_METRICS

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_CACHE",
    "FACTS",
    "Config",
    "EvidenceConfig",
    "FleetFiles",
    "GateSettings",
    "ManifestSelector",
    "load_config",
]

CONFIG_FILE = "fleetgate.yaml"
STAGES = ("pre-merge", "pre-deploy")
# The facts the evidence collectors can gather, in the order they run.
# Stands for "the cache folder of the repository" until the check knows where that is.
DEFAULT_CACHE = Path("<repository cache>")
_MAX_CONFIG = 1024 * 1024

_PROMETHEUS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "url"],
    "properties": {
        "kind": {"const": "prometheus"},
        "url": {"type": "string", "pattern": "^https?://"},
        "queries": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                m: {"type": "string", "minLength": 1} for m in (*TELEMETRY_METRICS, "newestSample")
            },
        },
        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
    },
}
_SNAPSHOT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "path"],
    "properties": {"kind": {"const": "snapshot"}, "path": {"type": "string", "minLength": 1}},
}

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "manifests": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "exclude": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "stage": {"enum": list(STAGES)},
        "policies": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "dirs": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "replaceBuiltin": {"type": "boolean"},
                "data": {"type": "object"},
                "engine": {"enum": ["embedded", "opa", "opa-golib"]},
                "opa": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "url": {"type": "string", "pattern": "^https?://"},
                        "path": {"type": "string", "minLength": 1},
                        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
                        "concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
                    },
                },
            },
        },
        "waivers": {"type": "string", "minLength": 1},
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "maxFileBytes": {"type": "integer", "minimum": 1024},
                "maxDepth": {"type": "integer", "minimum": 8, "maximum": 512},
                "maxNodes": {"type": "integer", "minimum": 100},
            },
        },
        "evidence": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "collect": {"type": "array", "items": {"enum": list(FACTS)}, "uniqueItems": True},
                "artifactRoot": {"type": "string", "minLength": 1},
                "download": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "maxBytes": {"type": "integer", "minimum": 1},
                        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0},
                        "caBundle": {"type": "string", "minLength": 1},
                    },
                },
                "cache": {"type": ["string", "boolean"], "minLength": 1},
                # Each collector's settings, checked here at load (and again by the collector).
                **settings_schema(),
            },
        },
        "trust": {"type": "string", "minLength": 1},
        "gate": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "allowedSigners": {"type": "string", "minLength": 1},
                "approvers": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["principals"],
                            "properties": {
                                "principals": {
                                    "type": "array",
                                    "items": {"type": "string", "minLength": 1},
                                    "uniqueItems": True,
                                    "minItems": 1,
                                },
                                "threshold": {"type": "integer", "minimum": 1},
                            },
                        },
                    ]
                },
            },
        },
        # The fleet inventory and price sheet of the cost fact (SPEC section 11): gate files.
        "fleet": {
            "type": "object",
            "additionalProperties": False,
            "required": ["inventory", "prices"],
            "properties": {
                "inventory": {"type": "string", "minLength": 1},
                "prices": {"type": "string", "minLength": 1},
            },
        },
        # Where device telemetry is read for promotions (SPEC section 12); a snapshot is a gate file.
        "telemetry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["source"],
            "properties": {
                "source": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"enum": ["prometheus", "snapshot"]}},
                    # By kind, so a typo is named as an unknown setting of that kind.
                    "allOf": [
                        {"if": {"properties": {"kind": {"const": k}}}, "then": schema}
                        for k, schema in (("prometheus", _PROMETHEUS), ("snapshot", _SNAPSHOT))
                    ],
                }
            },
        },
        # Settings of the audit log are checked by the audit commands.
        "audit": {"type": "object"},
    },
}


@dataclass(frozen=True)
class EvidenceConfig:
    """Which facts to gather about artifacts, where artifacts are, and the trust file.

    ``cache`` is ``None`` when caching is off; ``DEFAULT_CACHE`` lets the check pick the
    repository's git folder.
    """

    collect: tuple[str, ...] = FACTS
    artifact_root: Path | None = None
    download: Download = field(default_factory=Download)
    cache: Path | None = DEFAULT_CACHE
    trust: str | None = None  # repository path, read from the trusted revision
    ca_bundle: str | None = None  # repository path of extra CA certificates for downloads
    collectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class GateSettings:
    """``gate:``: who may approve waivers and changes to the gate itself (SSH-signed commits)."""

    allowed_signers: str | None = None  # repository path of an SSH allowed_signers file
    approvers: tuple[str, ...] = ()
    threshold: int = 1


@dataclass(frozen=True)
class FleetFiles:
    """``fleet:``: the repository paths of the fleet inventory and the price sheet."""

    inventory: str
    prices: str


@dataclass(frozen=True)
class ManifestSelector:
    """Which repo-relative paths may hold manifests (globs with ``**``)."""

    include: tuple[str, ...] = ("**/*.yaml", "**/*.yml")
    exclude: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        return any(_glob(p).match(path) for p in self.include) and not any(
            _glob(p).match(path) for p in self.exclude
        )


@dataclass(frozen=True)
class Config:
    """The effective configuration (defaults merged with ``fleetgate.yaml``)."""

    root: Path
    source: str | None = None  # the config file's repository path; None: built-in defaults
    trusted: GateFiles | None = field(default=None, compare=False, repr=False)
    selector: ManifestSelector = field(default_factory=ManifestSelector)
    stage: str = "pre-merge"
    policy_dirs: tuple[str, ...] = ()  # repository paths
    replace_builtin: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    engine: str = "embedded"  # policies.engine: a name of fleetgate.policy.engines.ENGINES
    engine_settings: Mapping[str, Any] = field(default_factory=dict)  # policies.<engine>
    waivers: str = "fleetgate-waivers.yaml"
    limits: Limits = field(default_factory=Limits)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    gate: GateSettings = field(default_factory=GateSettings)
    fleet: FleetFiles | None = None
    # ``telemetry.source``, a snapshot's path made a repository path; None: no telemetry.
    telemetry: Mapping[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The line of every field of the config file, so later checks of its values can point at them.
    lines: Mapping[Any, int] = field(default_factory=dict, repr=False, compare=False)


def load_config(files: GateFiles, path: str = CONFIG_FILE, required: bool = False) -> Config:
    """Read the config file ``path`` from ``files`` (the trusted revision).

    A missing file means the built-in defaults, unless ``required`` (``--config`` named it).
    Paths inside it are relative to its folder and stay repository paths (see :mod:`fleetgate.files`).
    """
    root = files.root
    data = files.read(path, _MAX_CONFIG, "config file")
    if data is None:
        if required:
            raise ConfigError(f"{path}: config file not found{_at(files)}")
        return Config(root=root, trusted=files)
    raw, lines = read_mapping(data, path)
    _check(raw, path, lines)
    policies = raw.get("policies", {})
    limits = raw.get("limits", {})
    folder = posixpath.dirname(path)

    def named(text: str, what: str) -> str:
        line = _line(lines, what)
        return repo_path(text, folder, f"{path}:{line}: {what}")

    return Config(
        root=root,
        source=path,
        trusted=files,
        selector=ManifestSelector(
            tuple(raw.get("manifests", ManifestSelector.include)), tuple(raw.get("exclude", ()))
        ),
        stage=raw.get("stage", "pre-merge"),
        policy_dirs=tuple(named(d, "policies.dirs") for d in policies.get("dirs", ())),
        replace_builtin=policies.get("replaceBuiltin", False),
        data=policies.get("data", {}),
        engine=policies.get("engine", "embedded"),
        engine_settings=policies.get(policies.get("engine", "embedded"), {}),
        waivers=named(raw.get("waivers", "fleetgate-waivers.yaml"), "waivers"),
        limits=Limits(
            max_bytes=limits.get("maxFileBytes", Limits.max_bytes),
            max_depth=limits.get("maxDepth", Limits.max_depth),
            max_nodes=limits.get("maxNodes", Limits.max_nodes),
        ),
        evidence=_evidence(raw.get("evidence", {}), raw.get("trust"), root / folder, named),
        gate=_gate(raw.get("gate", {}), named),
        fleet=FleetFiles(
            named(raw["fleet"]["inventory"], "fleet.inventory"), named(raw["fleet"]["prices"], "fleet.prices")
        )
        if "fleet" in raw
        else None,
        telemetry=_telemetry(raw["telemetry"]["source"], named) if "telemetry" in raw else None,
        extra={k: raw[k] for k in ("audit",) if k in raw},
        lines=lines,
    )


def read_mapping(data: bytes, path: str) -> tuple[dict[str, Any], dict[Any, int]]:
    """A gate file that holds one YAML mapping, and the line of each of its keys.

    Hostile or malformed YAML (and duplicate keys) is a :class:`ConfigError` naming the line.
    """
    try:
        documents = read_documents(data, path)
    except ManifestError as exc:
        raise ConfigError(exc.message) from None
    if len(documents) != 1 or not isinstance(documents[0].value, dict):
        raise ConfigError(f"{path}: expected one YAML mapping")
    return documents[0].value, documents[0].lines


def _at(files: GateFiles) -> str:
    return "" if files.revision == "worktree" else f" at {files.describe()}"


def _line(lines: Mapping[Any, int], dotted: str) -> int:
    path = tuple(dotted.split("."))
    return next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), 1)


def _gate(raw: Mapping[str, Any], named: Callable[[str, str], str]) -> GateSettings:
    approvers = raw.get("approvers", [])
    if isinstance(approvers, dict):
        principals, threshold = approvers.get("principals", []), approvers.get("threshold", 1)
    else:
        principals, threshold = approvers, 1
    signers = raw.get("allowedSigners")
    return GateSettings(
        allowed_signers=named(signers, "gate.allowedSigners") if signers is not None else None,
        approvers=tuple(principals),
        threshold=threshold,
    )


def _telemetry(source: Mapping[str, Any], named: Callable[[str, str], str]) -> Mapping[str, Any]:
    if source["kind"] == "snapshot":
        return {**source, "path": named(source["path"], "telemetry.source.path")}
    return dict(source)


def _evidence(
    raw: Mapping[str, Any], trust: str | None, folder: Path, named: Callable[[str, str], str]
) -> EvidenceConfig:
    download = raw.get("download", {})
    cache = raw.get("cache", True)
    return EvidenceConfig(
        collect=tuple(raw.get("collect", FACTS)),
        artifact_root=(folder / raw["artifactRoot"]).resolve() if "artifactRoot" in raw else None,
        download=Download(
            enabled=download.get("enabled", False),
            max_bytes=download.get("maxBytes", Download.max_bytes),
            timeout_seconds=float(download.get("timeoutSeconds", Download.timeout_seconds)),
        ),
        ca_bundle=named(download["caBundle"], "evidence.download.caBundle")
        if "caBundle" in download
        else None,
        cache=DEFAULT_CACHE if cache is True else None if cache is False else (folder / cache).resolve(),
        trust=named(trust, "trust") if trust is not None else None,
        collectors={k: v for k, v in raw.items() if k in FACTS},
    )


def _check(raw: dict[str, Any], display: str, lines: dict[Any, int]) -> None:
    if _conforms(raw):
        return  # valid: the common case, without jsonschema's import and validator build
    from jsonschema import Draft202012Validator

    for error in Draft202012Validator(_SCHEMA).iter_errors(raw):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = list(error.schema.get("properties", {}))
            unknown = sorted(set(error.instance) - set(known))
            path = (*path, unknown[0])
            import difflib

            close = difflib.get_close_matches(str(unknown[0]), known, n=1)
            hint = f" (did you mean {format_path((*path[:-1], close[0]))!r}?)" if close else ""
            message = f"unknown setting {format_path(path)!r}{hint}"
        else:
            message = f"{format_path(path) or 'config'}: {error.message}"
        line = next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)
        raise ConfigError(f"{display}:{line}: {message}")


def _conforms(raw: dict[str, Any]) -> bool:
    return _quick_check()(raw)


@cache
def _quick_check() -> Check:
    return quick_check(_SCHEMA)


_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    """Translate a ``**``-aware glob: ``*`` stays in one folder, ``**/`` spans any number."""
    if pattern not in _GLOBS:
        out, i = [], 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            elif pattern.startswith("**", i):
                out.append(".*")
                i += 2
            elif pattern[i] == "*":
                out.append("[^/]*")
                i += 1
            elif pattern[i] == "?":
                out.append("[^/]")
                i += 1
            else:
                out.append(re.escape(pattern[i]))
                i += 1
        _GLOBS[pattern] = re.compile("".join(out) + r"\Z")
    return _GLOBS[pattern]
