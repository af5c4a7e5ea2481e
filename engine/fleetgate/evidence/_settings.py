"""Checking a collector's section of ``evidence:`` in ``fleetgate.yaml``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from fleetgate.errors import ConfigError

__all__ = ["bounded_int", "checked_settings"]


def checked_settings(settings: Any, section: str, allowed: Collection[str]) -> Mapping[str, Any]:
    """``settings`` as a mapping; ConfigError naming ``evidence.<section>`` or its unknown key."""
    if not isinstance(settings, Mapping):
        raise ConfigError(f"fleetgate.yaml: evidence.{section}: expected a mapping")
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ConfigError(f"fleetgate.yaml: evidence.{section}.{unknown[0]}: unknown setting")
    return settings


def bounded_int(
    settings: Mapping[str, Any], section: str, key: str, default: int, low: int, high: int
) -> int:
    """The integer setting ``key`` (``default`` when absent); ConfigError outside ``low..high``."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"fleetgate.yaml: evidence.{section}.{key}: expected an integer from {low} to {high}"
        )
    return value
