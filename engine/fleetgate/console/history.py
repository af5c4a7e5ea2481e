"""A model's history and what was live at a moment, read from the log's records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fleetgate.audit.store.interface import AuditError, QueryFilter, StoredRecord
from fleetgate.audit.store.readonly import ReadOnlyLog
from fleetgate.console.records import document, findings

__all__ = ["LIVE_STAGE", "Point", "admitted_at", "model_history", "rollout", "rollout_of"]

LIVE_STAGE = "pre-deploy"  # the stage whose admission lets a model reach devices
HISTORY_LIMIT = 500  # newest records drawn on a model's page


@dataclass(frozen=True)
class Point:
    """One record of a model's history, as its chart draws it."""

    record: StoredRecord
    rollout: float | None
    denied_by: tuple[str, ...]


def rollout(doc: Mapping[str, Any]) -> float | None:
    """The rollout percentage the record's manifest asked for (None when it names none)."""
    value: Any = doc.get("input")
    for key in ("manifest", "spec", "updateStrategy", "rolloutPercentage"):
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def rollout_of(log: ReadOnlyLog, record: StoredRecord) -> float | None:
    """The rollout a record admitted: its own, or for an override that of the denial it overrode."""
    doc = document(record)
    if record.kind != "override":
        return rollout(doc)
    overridden = log.find(str(doc.get("overrides")))
    return rollout(document(overridden)) if overridden is not None else None


def model_history(log: ReadOnlyLog, model_id: str, stage: str | None) -> list[Point]:
    """The model's newest records (at ``stage``, or every stage), oldest first."""
    records = log.page(QueryFilter(model_id=model_id, stage=stage), None, HISTORY_LIMIT)
    points = []
    for record in reversed(records):
        doc = document(record)
        denied = tuple(sorted({f.rule for f in findings(doc) if f.outcome == "denied"}))
        points.append(Point(record, rollout_of(log, record), denied))
    return points


def admitted_at(log: ReadOnlyLog, moment: str, filters: QueryFilter) -> list[StoredRecord]:
    """Per deployment, the record that last admitted it at pre-deploy at or before ``moment``.

    ``moment`` is an RFC 3339 time (or a date: midnight UTC). An override of a denied
    pre-deploy decision counts as its admission, from the time it was recorded.
    """
    from fleetgate.commands.audit import query_filter

    until = query_filter({"until": moment}).until
    assert until is not None
    # Stored timestamps have microseconds: "at or before T" is "before T plus one microsecond".
    after = dt.datetime.fromisoformat(until.replace("Z", "+00:00")) + dt.timedelta(microseconds=1)
    bounded = replace(filters, until=after.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), stage=None)
    if filters.stage not in (None, LIVE_STAGE):
        raise AuditError(f"what was live is decided at {LIVE_STAGE}, not at {filters.stage}")
    return log.latest_admitted(bounded, LIVE_STAGE)
