"""The ``rollback`` fact: does this change restore an artifact the base branch deployed before?

A deployment-scope collector, gathered for a modified deployment whose artifact
(``rollout.newArtifactFields``) changed. It reads the base branch's history of the manifest's
file (trusted: it is what was merged) and reports the newest commit that had the head's artifact
and the highest percentage that artifact reached. ``rollout.step-limit`` admits a rollback up to
that percentage by rule: going back to what devices already ran is not a new rollout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence.interface import CollectorContext
from fleetgate.telemetry.fields import part, rollout_percentage
from fleetgate.telemetry.history import restored

__all__ = ["COLLECTOR", "RollbackCollector"]


class RollbackCollector:
    fact = "rollback"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return None  # depends on the base commit's history, not on the artifact

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        fields = list(context.settings.get("artifactFields") or ["version", "modelUri", "checksum"])
        previous, head = context.previous, context.manifest
        if previous is None or context.git is None or context.base_commit is None:
            return None
        if context.previous_file is None or part(previous, "spec").get("version") is None:
            return None
        if all(part(previous, "spec").get(f) == part(head, "spec").get(f) for f in fields):
            return None  # the same artifact: not a rollback
        if _allowed_anyway(
            rollout_percentage(head), rollout_percentage(previous), context.settings.get("initialMax")
        ):
            return None
        found = restored(context.git, context.base_commit, context.previous_file, head, fields)
        if found is None:
            return {"restores": None}
        return {
            "restores": {"version": found.version, "commit": found.commit, "percentage": found.percentage}
        }


def _allowed_anyway(percentage: float | None, before: float | None, start: Any) -> bool:
    """Neither a start above the initial maximum nor a rise: rollout.step-limit has nothing to ask."""
    if percentage is None or before is None or not isinstance(start, int | float):
        return False
    return percentage <= min(start, before)


COLLECTOR = RollbackCollector()
