"""The settings of the facts about a rollout's history: rollback targets and telemetry health."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fleetgate.config import Config, EvidenceConfig

if TYPE_CHECKING:
    from fleetgate.commands.check import CheckOptions

__all__ = ["with_rollout_facts"]


def with_rollout_facts(
    settings: EvidenceConfig, config: Config, data: Mapping[str, Any], options: CheckOptions, at: dt.datetime
) -> EvidenceConfig:
    """The settings of the facts about a rollout's history: ``rollback`` always, ``telemetry``
    when a source is configured (its thresholds from ``data.fleetgate.config.telemetry``)."""
    rollout = data.get("rollout")
    fields = rollout.get("newArtifactFields") if isinstance(rollout, Mapping) else None
    start = rollout.get("initialMax") if isinstance(rollout, Mapping) else None
    collectors = {**settings.collectors, "rollback": {"artifactFields": fields, "initialMax": start}}
    if config.telemetry is not None or options.telemetry is not None:
        thresholds = data.get("telemetry")
        collectors["telemetry"] = {
            "source": config.telemetry or {"kind": "snapshot"},
            "operatorSnapshot": str(options.telemetry) if options.telemetry is not None else None,
            "thresholds": thresholds if isinstance(thresholds, Mapping) else {},
            "artifactFields": fields,
            "at": at,
            # A configured decision log is the bake-time clock; else the base branch's history.
            "decisionLog": options.audit_log or (config.extra.get("audit") or {}).get("log"),
        }
    return replace(settings, collectors=collectors)
