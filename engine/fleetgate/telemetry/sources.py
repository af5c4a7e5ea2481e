"""Build the telemetry source ``fleetgate.yaml`` (or ``check --telemetry``) names.

A snapshot inside the repository is a gate file, read from the trusted revision through
:class:`~fleetgate.files.GateFiles`: a pull request cannot write its own health. A snapshot
named on the command line is operator input (a CI artifact) read from disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate._read import read_regular
from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles
from fleetgate.telemetry.interface import TelemetrySource

__all__ = ["SourceMissing", "open_source"]


class SourceMissing(str):
    """Why there is no source to read (the snapshot the trusted revision lacks)."""


def open_source(
    settings: Mapping[str, Any], trusted: GateFiles | None, operator_file: str | None
) -> TelemetrySource | SourceMissing:
    """The configured source; ``operator_file`` (``--telemetry``) wins over ``fleetgate.yaml``."""
    if operator_file is not None:
        return _operator_snapshot(Path(operator_file))
    if settings.get("kind") == "prometheus":
        # Each kind imports only its own reader: a check against Prometheus never loads csv.
        from fleetgate.telemetry.prometheus import DEFAULT_QUERIES, PrometheusSource

        return PrometheusSource(
            url=str(settings["url"]),
            queries={**DEFAULT_QUERIES, **settings.get("queries", {})},
            timeout_seconds=float(settings.get("timeoutSeconds", 5.0)),
        )
    from fleetgate.telemetry.snapshot import MAX_SNAPSHOT_BYTES, load_snapshot

    path = str(settings["path"])
    if trusted is None:
        return SourceMissing(f"{path}: no trusted revision to read the telemetry snapshot from")
    data = trusted.read(path, MAX_SNAPSHOT_BYTES, "telemetry snapshot")
    if data is None:
        return SourceMissing(f"{path}: no such telemetry snapshot at {trusted.describe()}")
    return load_snapshot(data, path)


def _operator_snapshot(path: Path) -> TelemetrySource:
    from fleetgate.telemetry.snapshot import MAX_SNAPSHOT_BYTES, load_snapshot

    try:
        data = read_regular(path, MAX_SNAPSHOT_BYTES, "telemetry snapshot", ConfigError)
    except FileNotFoundError:
        raise ConfigError(f"{path}: telemetry snapshot not found") from None
    return load_snapshot(data, str(path))
