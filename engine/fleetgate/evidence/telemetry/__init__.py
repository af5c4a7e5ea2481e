"""The ``telemetry`` fact: is the current rung healthy enough to step up (SPEC section 12)?

A deployment-scope collector, gathered only for a promotion: ``rolloutPercentage`` rises and
the artifact (``rollout.newArtifactFields``) is unchanged. For every segment it reports an
outcome with its breaches and reasons (:mod:`fleetgate.telemetry.health`); for the deployment,
the hours baked at the current rung (:mod:`fleetgate.telemetry.history`). Under ``report``, which
the decision log keeps and the policies do not see: each segment's values, the previous
version's in the same window as ``baseline``, and the queries asked.

* no ``telemetry:`` configured: nothing is read, the fact stays absent;
* the snapshot the configuration names is missing, or the source cannot answer:
  ``{"status": "absent" | "unavailable", "reason": ...}`` (the rule warns at pre-merge and
  denies at pre-deploy);
* a malformed snapshot: :class:`~fleetgate.errors.ConfigError` (exit 2).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from fleetgate.evidence.interface import CollectorContext
from fleetgate.telemetry.fields import deployment_of, part, rollout_percentage
from fleetgate.telemetry.health import Thresholds, assess, overall
from fleetgate.telemetry.history import BranchLog, rung_history
from fleetgate.telemetry.interface import Reading, TelemetrySource, TelemetryUnavailable
from fleetgate.telemetry.sources import SourceMissing, open_source

__all__ = ["COLLECTOR", "TelemetryCollector", "is_promotion"]

# What the policies see of each segment: the verdict and what it rests on. The measured series
# (each segment's values, the previous version's as baseline, the newest sample) and the queries
# go under ``report``: recorded in the decision log with the decision, not given to the policies,
# because the embedded engine reads its input at about 0.3 us a byte, and 20 segments of values
# were 90 % of a promotion's policy input (4 ms of each evaluation).
_JUDGED = ("segment", "outcome", "ageMinutes", "breaches", "reasons")
_MEASURED = ("values", "baseline", "newestSample")


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
        self._logs: tuple[tuple[str, str] | None, BranchLog | None] = (None, None)

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
        current = deployment_of(context.manifest)
        # The current version's reading needs nothing from git: it is asked while the base
        # branch's history is walked for the bake time and the version before this one.
        ahead = _Ahead(lambda: source.read(current, at))
        try:
            fact: dict[str, Any] = {
                "source": source.description,
                "evaluatedAt": _iso(at),
                **_bake(context, fields, at, self._log(context)),
            }
        finally:
            ahead.join()
        previous_version = fact.pop("previousVersion")
        try:
            reading = ahead.result()
            before = replace(current, version=previous_version) if previous_version else None
            baseline = source.read(before, at) if before is not None else None
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
            "segments": [{k: s[k] for k in _JUDGED} for s in segments],
            "report": {
                "queries": [*reading.queries, *(baseline.queries if baseline is not None else ())],
                "segments": [{k: s[k] for k in ("segment", *_MEASURED)} for s in segments],
            },
        }

    def _log(self, context: CollectorContext) -> BranchLog | None:
        """The base branch's history, walked once for every promotion of a check (a commit's
        history never changes, so the base commit names it)."""
        if context.git is None or context.base_commit is None:
            return None
        key = (str(context.git.root), context.base_commit)
        if self._logs[0] != key:
            self._logs = (key, BranchLog(context.git, context.base_commit))
        return self._logs[1]

    def _source(self, context: CollectorContext) -> TelemetrySource | SourceMissing:
        # One source (one snapshot parse) per check: the check's moment and trusted revision
        # name it, so a later check in the same process never reuses a stale one.
        operator = context.settings.get("operatorSnapshot")
        key = (id(context.trusted), str(operator), str(context.settings.get("at")))
        if key not in self._sources:
            self._sources = {key: open_source(context.settings["source"], context.trusted, operator)}
        return self._sources[key]


class _Ahead:
    """A reading started now on a thread of its own; its result, or its error, taken later."""

    def __init__(self, read: Callable[[], Reading]) -> None:
        self._outcome: list[Reading | Exception] = []
        self._thread = threading.Thread(target=self._run, args=(read,), daemon=True)
        self._thread.start()

    def _run(self, read: Callable[[], Reading]) -> None:
        try:
            self._outcome.append(read())
        except Exception as exc:  # handed to the caller by result()
            self._outcome.append(exc)

    def join(self) -> None:
        self._thread.join()

    def result(self) -> Reading:
        self.join()
        found = self._outcome[0]
        if isinstance(found, Exception):
            raise found
        return found


def _bake(
    context: CollectorContext, fields: list[str], at: dt.datetime, log: BranchLog | None
) -> dict[str, Any]:
    """Hours at the current rung and the version before this one.

    The previous version always comes from the base branch's history; the bake starts at the
    first admitted pre-deploy record at this rung when a decision log is configured, else at
    the base branch's first commit at this rung.
    """
    if log is None or context.previous_file is None:
        return {"bakeHours": None, "bakeSince": None, "previousVersion": None}
    assert context.previous is not None
    found = rung_history(log, context.previous_file, context.previous, fields)
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
