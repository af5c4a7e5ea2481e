"""Field-level difference between the base and head version of one manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetgate.manifest import Path, format_path

__all__ = ["FieldChange", "diff_fields"]


@dataclass(frozen=True)
class FieldChange:
    """One leaf that differs: ``old`` is ``None`` for an added field, ``new`` for a removed one."""

    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


def diff_fields(old: Any, new: Any) -> list[FieldChange]:
    """Every leaf path whose value differs, in document order of ``new`` then removed paths.

    Mappings are compared key by key and lists index by index, so a changed region shows up as
    ``spec.targetDevices.regions[1]``. Depth is bounded by the manifest reader's nesting limit.
    """
    changes: list[FieldChange] = []
    _walk((), old, new, changes)
    return changes


def _walk(path: Path, old: Any, new: Any, out: list[FieldChange]) -> None:
    if _both(old, new, dict):
        old, new = old or {}, new or {}
        for key in [*new, *(k for k in old if k not in new)]:
            _walk((*path, key), old.get(key), new.get(key), out)
    elif _both(old, new, list):
        old, new = old or [], new or []
        for index in range(max(len(old), len(new))):
            _walk(
                (*path, index),
                old[index] if index < len(old) else None,
                new[index] if index < len(new) else None,
                out,
            )
    elif old != new or type(old) is not type(new):
        out.append(FieldChange(format_path(path), old, new))


def _both(old: Any, new: Any, kind: type) -> bool:
    """Both sides are ``kind`` or absent (so an added or removed subtree is walked to its leaves)."""
    sides = [v for v in (old, new) if v is not None]
    return bool(sides) and all(isinstance(v, kind) for v in sides)
