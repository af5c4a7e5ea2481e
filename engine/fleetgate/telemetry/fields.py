"""Reading a deployment's fields from a manifest body that may be malformed (schema errors are
judged elsewhere): a missing or mistyped field reads as absent, never as an exception."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.telemetry.interface import Deployment

__all__ = ["deployment_of", "identity_of", "is_number", "part", "rollout_percentage", "version_of"]


def is_number(value: Any) -> bool:
    """An int or float setting (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def part(body: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    """``body[key]`` when it is a mapping, else an empty one."""
    value = body.get(key) if body is not None else None
    return value if isinstance(value, dict) else {}


def identity_of(body: Mapping[str, Any]) -> tuple[str, str]:
    metadata = part(body, "metadata")
    return str(metadata.get("namespace") or "default"), str(metadata.get("name"))


def version_of(body: Mapping[str, Any] | None) -> str | None:
    version = part(body, "spec").get("version")
    return version if isinstance(version, str) else None


def rollout_percentage(body: Mapping[str, Any] | None) -> int | float | None:
    value = part(part(body, "spec"), "updateStrategy").get("rolloutPercentage")
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def deployment_of(body: Mapping[str, Any]) -> Deployment:
    """The deployment a manifest body describes, as a telemetry query asks for it."""
    namespace, name = identity_of(body)
    spec = part(body, "spec")
    return Deployment(namespace, name, str(spec.get("modelId", "")), str(spec.get("version", "")))
