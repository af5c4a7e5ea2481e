"""The ``telemetry`` fact: is the current rung healthy enough to step up (SPEC section 12)?

A deployment-scope collector, gathered only for a promotion: ``rolloutPercentage`` rises and
the artifact (``rollout.newArtifactFields``) is unchanged. For every segment it reports the
current version's values, the previous version's in the same window as ``baseline``, and an
outcome (:mod:`fleetgate.telemetry.health`); for the deployment, the hours baked at the current
rung (:mod:`fleetgate.telemetry.history`) and the queries asked, which the decision log keeps.

* no ``telemetry:`` configured: nothing is read, the fact stays absent;
* the snapshot the configuration names is missing, or the source cannot answer:
  ``{"status": "absent" | "unavailable", "reason": ...}`` (the rule warns at pre-merge and
  denies at pre-deploy);
* a malformed snapshot: :class:`~fleetgate.errors.ConfigError` (exit 2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fleetgate.evidence.interface import CollectorContext
from fleetgate.telemetry.fields import deployment_of, part, rollout_percentage
from fleetgate.telemetry.health import Thresholds, assess, overall
from fleetgate.telemetry.history import rung_history
from fleetgate.telemetry.interface import Deployment, Reading, TelemetrySource, TelemetryUnavailable
from fleetgate.telemetry.sources import SourceMissing, open_source

__all__ = ["COLLECTOR", "TelemetryCollector", "is_promotion"]


def is_promotion(manifest: Mapping[str, Any], previous: Mapping[str, Any] | None, fields: list[str]) -> bool:
    """``rolloutPercentage`` rises while every artifact field stays as it was."""
    if previous is None:
        return False
    new, old = part(manifest, "spec"), part(previous, "spec")
    if any(new.get(f) != old.get(f) for f in fields):
        return False
    before, after = rollout_percentage(previous), rollout_percentage(manifest)
    return before is not None and after is not None and after > before


class TelemetryCollector:
    fact = "telemetry"

    def __init__(self) -> None:
        self._sources: dict[tuple[int, str, str], TelemetrySource | SourceMissing] = {}

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        return None  # telemetry changes by the minute

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        settings = context.settings
        fields = list(settings.get("artifactFields") or ["version", "modelUri", "checksum"])
        if "source" not in settings or not is_promotion(context.manifest, context.previous, fields):
            return None
        source = self._source(context)
        if isinstance(source, SourceMissing):
            return {"status": "absent", "reason": str(source)}
        at: dt.datetime = settings["at"]
        fact: dict[str, Any] = {
            "source": source.description,
            "evaluatedAt": _iso(at),
            **_bake(context, fields, at),
        }
        current = deployment_of(context.manifest)
        previous_version = fact.pop("previousVersion")
        try:
            reading, baseline = _both(source, current, previous_version, at)
        except TelemetryUnavailable as exc:
            return {**fact, "status": "unavailable", "reason": exc.message}
        segments = assess(reading, baseline, Thresholds.from_data(settings.get("thresholds", {})), at)
        problems = (*reading.problems, *(baseline.problems if baseline is not None else ()))
        return {
            **fact,
            "version": current.version,
            "previousVersion": previous_version,
            "outcome": overall(segments, problems),
            "reasons": list(problems) or ([] if segments else ["no segment reports this version"]),
            "segments": segments,
            "queries": [*reading.queries, *(baseline.queries if baseline is not None else ())],
        }

    def _source(self, context: CollectorContext) -> TelemetrySource | SourceMissing:
        # One source (one snapshot parse) per check: the check's moment and trusted revision
        # name it, so a later check in the same process never reuses a stale one.
        operator = context.settings.get("operatorSnapshot")
        key = (id(context.trusted), str(operator), str(context.settings.get("at")))
        if key not in self._sources:
            self._sources = {key: open_source(context.settings["source"], context.trusted, operator)}
        return self._sources[key]


def _both(
    source: TelemetrySource, current: Deployment, previous: str | None, at: dt.datetime
) -> tuple[Reading, Reading | None]:
    """The current version's reading and the previous version's, asked together."""
    if previous is None:
        return source.read(current, at), None
    now, before = source.read_many([current, replace(current, version=previous)], at)
    return now, before


def _bake(context: CollectorContext, fields: list[str], at: dt.datetime) -> dict[str, Any]:
    """Hours at the current rung and the version before this one.

    The previous version always comes from the base branch's history; the bake starts at the
    first admitted pre-deploy record at this rung when a decision log is configured, else at
    the base branch's first commit at this rung.
    """
    if context.git is None or context.base_commit is None or context.previous_file is None:
        return {"bakeHours": None, "bakeSince": None, "previousVersion": None}
    assert context.previous is not None
    found = rung_history(context.git, context.base_commit, context.previous_file, context.previous, fields)
    rung = rollout_percentage(context.previous)
    since, source = found.since, f"commit {found.commit}" if found.commit is not None else "git history"
    log_url = context.settings.get("decisionLog")
    if isinstance(log_url, str):
        since, source = _admitted(log_url, context.previous, fields, rung), "decision log"
    return {
        "bakeHours": round((at - since).total_seconds() / 3600, 2) if since is not None else None,
        "bakeSince": _iso(since) if since is not None else None,
        "bakeSource": source,
        "rung": rung,
        "previousVersion": found.previous_version,
    }


def _admitted(url: str, deployed: Mapping[str, Any], fields: list[str], rung: Any) -> dt.datetime | None:
    from fleetgate.commands.audit import opened
    from fleetgate.telemetry.admissions import first_admitted

    with opened(url) as log:
        return first_admitted(log, deployed, fields, rung)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


COLLECTOR = TelemetryCollector()
