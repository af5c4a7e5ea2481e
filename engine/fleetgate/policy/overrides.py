"""Threshold overrides (``policies.data`` of fleetgate.yaml), checked against the data they override.

A misspelt key would otherwise leave the default silently in force, and a value of another type
would make the rules that read it fail or never fire: both are located errors instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.manifest import format_path

__all__ = ["DataOrigin", "apply_overrides", "merge_data"]


@dataclass(frozen=True)
class DataOrigin:
    """Where threshold overrides were written: the file, the line of each of its fields (by
    path from the document root) and the path of the overrides in it."""

    file: str
    lines: Mapping[tuple[str | int, ...], int]
    at: tuple[str, ...] = ("policies", "data")


def merge_data(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; anything else in ``override`` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_data(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_overrides(
    defaults: Mapping[str, Any], overrides: Mapping[str, Any], origin: DataOrigin | None = None
) -> dict[str, Any]:
    """``defaults`` with ``overrides`` merged in, after checking every override against them.

    A misspelt key would otherwise leave the default silently in force, and a value of another
    type would make the rules that read it fail or never fire.
    """
    _check_overrides(defaults, overrides, (), origin or DataOrigin("fleetgate.yaml", {}))
    return merge_data(defaults, overrides)


def _check_overrides(
    defaults: Mapping[str, Any], overrides: Mapping[str, Any], path: tuple[str, ...], origin: DataOrigin
) -> None:
    for key, value in overrides.items():
        here = (*path, key)
        if key not in defaults:
            raise _override_error(
                origin, here, f"is not a threshold of the policy library{_suggestion(defaults, here, origin)}"
            )
        default = defaults[key]
        if isinstance(default, Mapping) and isinstance(value, Mapping):
            # An empty default mapping is a table the user fills (cost.envelopes: one entry per
            # namespace): its keys are the user's own, and the policies check its entries.
            if default:
                _check_overrides(default, value, here, origin)
            continue
        if _kind(value) != _kind(default):
            raise _override_error(
                origin,
                here,
                f"is {_a(_kind(value))}, but the default ({_show(default)}) is {_a(_kind(default))}",
            )
        if isinstance(value, list) and default:
            allowed = sorted({_kind(item) for item in default})
            for index, item in enumerate(value):
                if _kind(item) not in allowed:
                    kinds = " or ".join(f"{kind}s" for kind in allowed)
                    raise _override_error(
                        origin, (*here, index), f"is {_a(_kind(item))}, but the default's items are {kinds}"
                    )


def _override_error(origin: DataOrigin, path: tuple[str | int, ...], problem: str) -> ConfigError:
    full = (*origin.at, *path)
    line = next((origin.lines[full[:n]] for n in range(len(full), 0, -1) if full[:n] in origin.lines), None)
    where = f"{origin.file}:{line}" if line is not None else origin.file
    return ConfigError(f"{where}: {format_path(full)} {problem}")


def _suggestion(defaults: Mapping[str, Any], path: tuple[str, ...], origin: DataOrigin) -> str:
    import difflib

    close = difflib.get_close_matches(path[-1], [str(k) for k in defaults], n=1)
    if close:
        return f"; did you mean {format_path((*origin.at, *path[:-1], close[0]))!r}?"
    return ""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping" if isinstance(value, Mapping) else "null"


def _a(kind: str) -> str:
    return "null" if kind == "null" else f"a {kind}"


def _show(value: Any) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= 60 else text[:57] + "..."
