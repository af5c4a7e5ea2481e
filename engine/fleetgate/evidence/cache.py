"""Measurements kept by what they depend on, so a re-run with the same inputs is instant.

A cached fact is stored under the SHA-256 of a canonical key: the collector's name, the
fleetgate version and the collector's own :meth:`cache_key` (artifact digest, dataset digest,
settings). Only measurements are cached (model structure, latency, fairness); verification
verdicts (signature, provenance) are computed on every run, because trust material and time
(certificate and layout expiry) change what they mean. A corrupt or unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FactCache"]

_VERSION = "1"


class FactCache:
    """A folder of JSON facts; ``None`` as folder disables caching."""

    def __init__(self, folder: Path | None, version: str, read: bool = True) -> None:
        self.folder = folder
        self.version = version
        self.read = read  # False: measure afresh, still keep the results for later runs

    def _entry(self, collector: str, key: Mapping[str, Any]) -> Path | None:
        if self.folder is None:
            return None
        material = json.dumps(
            {"format": _VERSION, "fleetgate": self.version, "collector": collector, "key": key},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        name = hashlib.sha256(material.encode()).hexdigest()
        return self.folder / "facts" / collector / f"{name}.json"

    def get(self, collector: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        entry = self._entry(collector, key) if self.read else None
        if entry is None:
            return None
        try:
            value = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, collector: str, key: Mapping[str, Any], fact: Mapping[str, Any]) -> None:
        """Store ``fact``; a cache that cannot be written is skipped, never an error."""
        entry = self._entry(collector, key)
        if entry is None:
            return
        import tempfile  # only a run that measured something writes

        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=entry.parent, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8"
            ) as tmp:
                json.dump(fact, tmp, sort_keys=True)
            os.replace(tmp.name, entry)
        except OSError:
            return
