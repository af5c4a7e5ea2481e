"""The fleet a deployment reaches and what reaching it costs (SPEC §11, FinOps).

``fleet:`` in fleetgate.yaml names two gate files, a ``FleetInventory`` and a ``PriceSheet``;
:func:`load_fleet` reads them from the trusted revision and :func:`project_cost` turns one
manifest change into the ``cost`` fact, in exact decimal money.

The names below load their module on first use: every report format shows amounts through
:mod:`fleetgate.fleet.display`, and a check that prices nothing should not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DEVICE_CLASSES",
    "Fleet",
    "FleetMissing",
    "Measured",
    "PriceSheet",
    "Segment",
    "load_fleet",
    "project_cost",
    "read_inventory",
    "read_prices",
]

_HOME = {
    "DEVICE_CLASSES": "model",
    "Fleet": "model",
    "FleetMissing": "model",
    "PriceSheet": "model",
    "Segment": "model",
    "Measured": "cost",
    "project_cost": "cost",
    "load_fleet": "load",
    "read_inventory": "load",
    "read_prices": "load",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
