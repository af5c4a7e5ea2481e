"""The overview: decisions per day, the rules that deny most, waivers about to expire,
overrides, and the state of the log (its size, latest checkpoint, last verification)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgate.audit.store.interface import Checkpoint, QueryFilter, StoredRecord
from fleetgate.audit.store.readonly import ReadOnlyLog
from fleetgate.console.records import document, waivers

__all__ = ["Overview", "overview"]

DAYS = 30
WAIVER_SCAN = 2000  # newest records searched for waivers in force


@dataclass(frozen=True)
class Overview:
    size: int
    per_day: list[tuple[str, str, int]]
    top_denying: list[tuple[str, int]]
    expiring: list[tuple[Mapping[str, Any], StoredRecord]]
    overrides: list[StoredRecord]
    checkpoint: Checkpoint | None
    since: str

    @property
    def signers(self) -> list[str]:
        """The key names on the latest checkpoint's signature lines (unverified: see the log state)."""
        if self.checkpoint is None:
            return []
        lines = self.checkpoint.note.splitlines()
        return [line.split()[1] for line in lines if line.startswith("\u2014 ") and len(line.split()) > 2]


def overview(log: ReadOnlyLog, today: dt.date) -> Overview:
    since = (today - dt.timedelta(days=DAYS - 1)).isoformat()
    checkpoints = log.checkpoints()
    return Overview(
        size=log.size(),
        per_day=log.counts(since),
        top_denying=log.rule_counts(since, "deny", 10),
        expiring=_expiring(log, today),
        overrides=log.page(QueryFilter(kinds=("override",)), None, 20),
        checkpoint=checkpoints[-1] if checkpoints else None,
        since=since,
    )


def _expiring(log: ReadOnlyLog, today: dt.date) -> list[tuple[Mapping[str, Any], StoredRecord]]:
    """Waivers applied by recent records that expire within ``DAYS`` days, soonest first."""
    horizon = (today + dt.timedelta(days=DAYS)).isoformat()
    seen: dict[tuple[str, str, str], tuple[Mapping[str, Any], StoredRecord]] = {}
    for record in log.page(QueryFilter(), None, WAIVER_SCAN):
        for waiver in waivers(document(record)):
            expires = str(waiver.get("expires") or "")
            key = (str(waiver.get("rule")), str(waiver.get("target")), expires)
            if today.isoformat() <= expires <= horizon and key not in seen:
                seen[key] = (waiver, record)
    return sorted(seen.values(), key=lambda item: str(item[0].get("expires")))
