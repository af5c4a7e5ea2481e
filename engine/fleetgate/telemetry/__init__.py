"""Device telemetry per deployment version and segment: sources, health, bake time (SPEC section 12)."""

from __future__ import annotations

from fleetgate.telemetry.health import Thresholds, assess, overall
from fleetgate.telemetry.interface import (
    METRICS,
    Deployment,
    Reading,
    Series,
    TelemetrySource,
    TelemetryUnavailable,
)

__all__ = [
    "METRICS",
    "Deployment",
    "Reading",
    "Series",
    "TelemetrySource",
    "TelemetryUnavailable",
    "Thresholds",
    "assess",
    "overall",
]
