"""The ``evidence.model`` section of fleetgate.yaml, checked as it is read.

Kept free of heavy imports: the gate reads the settings (for the cache key) before it knows
whether the fact must be gathered at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.evidence._kit import contained
from fleetgate.files import GateFiles, repo_path

__all__ = ["DEFAULT_MAX_BYTES", "ModelSettings", "parse_settings"]

# Protobuf cannot hold more than 2 GiB in one message; larger models keep their weights in
# external data files, which count against the same cap.
DEFAULT_MAX_BYTES = 2 << 30
_KEYS = ("allowedOperators", "maxBytes")


@dataclass(frozen=True)
class ModelSettings:
    """How the model fact is measured: the size cap and the operator target."""

    max_bytes: int = DEFAULT_MAX_BYTES
    allowed_operators: Path | None = None  # absolute, inside the repository
    allowed_operators_shown: str | None = None  # as written in fleetgate.yaml


def parse_settings(
    settings: Mapping[str, Any], root: Path, trusted: GateFiles | None = None
) -> ModelSettings:
    """The settings, or ConfigError naming the bad key; the operators file must lie inside ``root``.

    The operators file decides what the runtime-ops rule accepts: with ``trusted`` (the trusted
    revision's gate files) it is a private copy of that revision's file, never the head's.
    """
    if not isinstance(settings, Mapping):
        raise ConfigError("fleetgate.yaml: evidence.model: expected a mapping")
    for key in settings:
        if key not in _KEYS:
            known = ", ".join(_KEYS)
            raise ConfigError(f"fleetgate.yaml: evidence.model.{key}: unknown key (known: {known})")
    max_bytes = settings.get("maxBytes", DEFAULT_MAX_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigError("fleetgate.yaml: evidence.model.maxBytes: expected a positive integer (bytes)")
    shown = settings.get("allowedOperators")
    if shown is None:
        return ModelSettings(max_bytes=max_bytes)
    if trusted is not None and isinstance(shown, str):
        path = trusted.materialize(
            repo_path(shown, what="evidence.model.allowedOperators"), 1 << 20, "operator config"
        )
        return ModelSettings(max_bytes, path, shown)
    return ModelSettings(max_bytes, _operators_path(shown, root), shown)


def _operators_path(shown: object, root: Path) -> Path:
    where = "fleetgate.yaml: evidence.model.allowedOperators"
    if not isinstance(shown, str) or not shown.strip():
        raise ConfigError(f"{where}: expected a path relative to the repository root")
    if PurePosixPath(shown).is_absolute() or PureWindowsPath(shown).is_absolute():
        raise ConfigError(f"{where}: {shown} is absolute; give a path relative to the repository root")
    path = contained(root / shown, root)
    if path is None:
        raise ConfigError(f"{where}: {shown} lies outside the repository")
    if not path.is_file():
        raise ConfigError(f"{where}: {shown} is not a file")
    return path
