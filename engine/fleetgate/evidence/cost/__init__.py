"""The ``cost`` fact: what this change's rollout costs across the fleet (SPEC §11).

A deployment-scope collector: it needs no artifact (a remote ``modelUri`` is priced from
``spec.sizeBytes``) and no library. It reads the inventory and price sheet named by ``fleet:``
once per trusted revision, through that revision's :class:`~fleetgate.files.GateFiles`, and
prices each change with :func:`fleetgate.fleet.project_cost`.

* no ``fleet:`` configured: nothing is read and the fact stays absent (FinOps is opt-in);
* ``fleet:`` names a file the trusted revision lacks: ``{"status": "absent", "reason": ...}``,
  which ``evidence.missing`` reports naming the file;
* a malformed inventory or price sheet: :class:`~fleetgate.errors.ConfigError` (exit 2).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fleetgate.evidence.cache import FactCache
from fleetgate.evidence.interface import CollectorContext
from fleetgate.files import GateFiles
from fleetgate.fleet.cost import Measured, project_cost
from fleetgate.fleet.load import load_fleet
from fleetgate.fleet.model import Fleet, FleetMissing

__all__ = ["COLLECTOR", "CostCollector"]


class CostCollector:
    fact = "cost"

    def __init__(self) -> None:
        # One parse per trusted revision reader, i.e. per check: a 10,000-manifest scan reads
        # the inventory once, and a later check in the same process never sees a stale copy.
        self._loaded: weakref.WeakKeyDictionary[GateFiles, dict[tuple[str, str], Fleet | FleetMissing]] = (
            weakref.WeakKeyDictionary()
        )

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return None

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        inventory, prices = context.settings.get("inventory"), context.settings.get("prices")
        if not isinstance(inventory, str) or not isinstance(prices, str):
            return None
        if context.trusted is None:
            return {"status": "absent", "reason": "no trusted revision to read the fleet files from"}
        fleet = self._fleet(context.trusted, inventory, prices, context.settings.get("cache"))
        if isinstance(fleet, FleetMissing):
            return {"status": "absent", "reason": fleet.reason}
        detail = context.settings.get("segments") is True
        return project_cost(context.manifest, context.previous, fleet, _measured(context), detail)

    def _fleet(self, files: GateFiles, inventory: str, prices: str, cache: Any) -> Fleet | FleetMissing:
        loaded = self._loaded.setdefault(files, {})
        if (inventory, prices) not in loaded:
            parsed = cache if isinstance(cache, FactCache) else None
            loaded[(inventory, prices)] = load_fleet(files, inventory, prices, parsed)
        return loaded[(inventory, prices)]


def _measured(context: CollectorContext) -> Measured:
    artifact, base = context.artifact, context.base_artifact
    model = context.facts.get("model")
    peak = model.get("peak_memory_mb") if isinstance(model, Mapping) else None
    headroom = context.settings.get("memoryHeadroom")
    return Measured(
        size=artifact.size if artifact is not None else None,
        digest=artifact.digest if artifact is not None else None,
        base_digest=base.digest if base is not None else None,
        peak_memory_mb=_decimal(peak),
        memory_headroom=_decimal(headroom),
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))


COLLECTOR = CostCollector()
