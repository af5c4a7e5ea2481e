"""What the model fact depends on, computed without parsing the model.

The artifact digest covers the ``.onnx`` file only; weights kept in external data files are
outside it, so the key also records each external file's size and modification time. The
external locations are found by a byte search for the protobuf encoding of the
``location`` key of ``TensorProto.external_data`` (``0a 08 "location" 12 <len> <value>``),
which costs a memory-mapped scan instead of an onnx import and a full parse.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

__all__ = ["external_stats"]

_LOCATION_KEY = b"\x0a\x08location\x12"
_MAX_LOCATIONS = 4096


def external_stats(path: Path) -> list[dict[str, Any]]:
    """Size and mtime of every external-data file the model at ``path`` appears to name."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            locations = _locations(data)
    except (OSError, ValueError):  # unreadable or empty: the collector reports it
        return []
    return [_stat(path.parent, location) for location in sorted(locations)]


def _locations(data: mmap.mmap) -> set[str]:
    found: set[str] = set()
    start = data.find(_LOCATION_KEY)
    while start >= 0 and len(found) < _MAX_LOCATIONS:
        cursor = start + len(_LOCATION_KEY)
        length, cursor = _varint(data, cursor)
        if 0 < length <= 4096:
            found.add(data[cursor : cursor + length].decode("utf-8", "replace"))
        start = data.find(_LOCATION_KEY, cursor)
    return found


def _varint(data: mmap.mmap, cursor: int) -> tuple[int, int]:
    value = shift = 0
    while cursor < len(data) and shift < 35:
        byte = data[cursor]
        cursor += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
    return value, cursor


def _stat(folder: Path, location: str) -> dict[str, Any]:
    try:
        info = (folder / location).stat()
    except (OSError, ValueError):
        return {"location": location, "missing": True}
    return {"location": location, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
