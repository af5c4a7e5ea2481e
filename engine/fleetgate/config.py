"""``fleetgate.yaml``: where manifests are, which policies apply, and their thresholds.

The file is schema-checked as it is loaded (a typo is an error naming file and line, never a
silently ignored setting). Every default of the gate can be overridden here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetgate.errors import ConfigError, ManifestError
from fleetgate.git import read_bounded
from fleetgate.manifest import Limits, format_path, read_documents

__all__ = ["CONFIG_FILE", "Config", "ManifestSelector", "load_config"]

CONFIG_FILE = "fleetgate.yaml"
STAGES = ("pre-merge", "pre-deploy")

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
        # Settings of later stages (evidence collectors, trust material, the audit log) are
        # accepted as mappings so one file can serve every version of the gate in a fleet.
        "evidence": {"type": "object"},
        "trust": {"type": ["object", "string"]},
        "audit": {"type": "object"},
    },
}


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
    source: str | None = None
    selector: ManifestSelector = field(default_factory=ManifestSelector)
    stage: str = "pre-merge"
    policy_dirs: tuple[Path, ...] = ()
    replace_builtin: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    waivers: str = "fleetgate-waivers.yaml"
    limits: Limits = field(default_factory=Limits)
    extra: dict[str, Any] = field(default_factory=dict)


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Read ``explicit`` (must exist) or ``<root>/fleetgate.yaml`` (optional)."""
    path = explicit if explicit is not None else root / CONFIG_FILE
    if explicit is None and not path.is_file():
        return Config(root=root)
    display = str(path)
    if not path.is_file():
        raise ConfigError(f"{display}: config file not found")
    try:
        documents = read_documents(read_bounded(path, display, 1024 * 1024), display)
    except ManifestError as exc:
        raise ConfigError(exc.message) from None
    if len(documents) != 1 or not isinstance(documents[0].value, dict):
        raise ConfigError(f"{display}: expected one YAML mapping")
    raw: dict[str, Any] = documents[0].value
    _check(raw, display, documents[0].lines)
    policies = raw.get("policies", {})
    limits = raw.get("limits", {})
    base = path.parent
    return Config(
        root=root,
        source=display,
        selector=ManifestSelector(
            tuple(raw.get("manifests", ManifestSelector.include)), tuple(raw.get("exclude", ()))
        ),
        stage=raw.get("stage", "pre-merge"),
        policy_dirs=tuple((base / d).resolve() for d in policies.get("dirs", ())),
        replace_builtin=policies.get("replaceBuiltin", False),
        data=policies.get("data", {}),
        waivers=raw.get("waivers", "fleetgate-waivers.yaml"),
        limits=Limits(
            max_bytes=limits.get("maxFileBytes", Limits.max_bytes),
            max_depth=limits.get("maxDepth", Limits.max_depth),
            max_nodes=limits.get("maxNodes", Limits.max_nodes),
        ),
        extra={k: raw[k] for k in ("evidence", "trust", "audit") if k in raw},
    )


def _check(raw: dict[str, Any], display: str, lines: dict[Any, int]) -> None:
    from jsonschema import Draft202012Validator

    for error in Draft202012Validator(_SCHEMA).iter_errors(raw):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path = (*path, unknown[0])
            message = f"unknown setting {format_path(path)!r}"
        else:
            message = f"{format_path(path) or 'config'}: {error.message}"
        line = next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)
        raise ConfigError(f"{display}:{line}: {message}")


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
