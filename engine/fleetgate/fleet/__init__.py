"""The fleet a deployment reaches and what reaching it costs (SPEC §11, FinOps).

``fleet:`` in fleetgate.yaml names two gate files, a ``FleetInventory`` and a ``PriceSheet``;
:func:`load_fleet` reads them from the trusted revision and :func:`project_cost` turns one
manifest change into the ``cost`` fact, in exact decimal money.
"""

from __future__ import annotations

from fleetgate.fleet.cost import Measured, project_cost
from fleetgate.fleet.load import load_fleet, read_inventory, read_prices
from fleetgate.fleet.model import DEVICE_CLASSES, Fleet, FleetMissing, PriceSheet, Segment

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
