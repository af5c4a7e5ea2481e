"""What the decisions page and a decision's page show, read from the log's hashed bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgate.audit.store.interface import QueryFilter, StoredRecord
from fleetgate.audit.store.readonly import ReadOnlyLog
from fleetgate.console.filters import Filters

__all__ = ["Finding", "Listed", "Page", "decisions_page", "document", "findings", "overrides_of", "waivers"]

_BATCH = 200  # records read per step when a filter is checked on the bodies
_MAX_SCAN = 20_000  # records a page may read before it stops and offers to continue


@dataclass(frozen=True)
class Finding:
    outcome: str  # "denied" | "warned" | "waived"
    rule: str
    file: str
    line: int | None
    message: str
    waiver: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Listed:
    record: StoredRecord
    document: Mapping[str, Any]

    @property
    def approvers(self) -> list[str]:
        return sorted({str(w.get("approvedBy")) for w in waivers(self.document)})

    @property
    def denied_by(self) -> list[str]:
        return sorted({f.rule for f in findings(self.document) if f.outcome == "denied"})


@dataclass(frozen=True)
class Page:
    rows: tuple[Listed, ...]
    next_before: int | None  # the cursor of the next (older) page, None at the end


def document(record: StoredRecord) -> dict[str, Any]:
    try:
        parsed = json.loads(record.body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def decisions_page(log: ReadOnlyLog, filters: Filters, before: int | None, limit: int) -> Page:
    """One page of matching records, newest (highest sequence number) first.

    Filters the store cannot index (``waived_only``) are checked on each body; such a page
    reads at most ``_MAX_SCAN`` records and then offers the next page from where it stopped.
    """
    if not filters.waived_only:
        found = log.page(filters.query, before, limit + 1)
        rows = tuple(Listed(r, document(r)) for r in found[:limit])
        return Page(rows, rows[-1].record.seq if len(found) > limit else None)
    kept: list[Listed] = []
    cursor, scanned = before, 0
    while scanned < _MAX_SCAN:
        batch = log.page(filters.query, cursor, _BATCH)
        for record in batch:
            listed = Listed(record, document(record))
            if waivers(listed.document):
                kept.append(listed)
                if len(kept) == limit:
                    return Page(tuple(kept), record.seq)
        if len(batch) < _BATCH:
            return Page(tuple(kept), None)
        cursor, scanned = batch[-1].seq, scanned + len(batch)
    return Page(tuple(kept), cursor)


def findings(doc: Mapping[str, Any]) -> list[Finding]:
    """Every finding of a record: denied, waived (with the waiver that covered it), then warned."""
    result = doc.get("result")
    result = result if isinstance(result, Mapping) else {}
    found: list[Finding] = []
    for key in ("violations", "waived"):
        for item in _list(result.get(key)):
            if not isinstance(item, Mapping):
                continue
            outcome = (
                "waived" if key == "waived" else ("denied" if item.get("severity") == "deny" else "warned")
            )
            waiver = item.get("waiver")
            line = item.get("line")
            found.append(
                Finding(
                    outcome,
                    str(item.get("rule")),
                    str(item.get("file") or ""),
                    line if isinstance(line, int) else None,
                    str(item.get("message") or ""),
                    waiver if isinstance(waiver, Mapping) else None,
                )
            )
    order = {"denied": 0, "waived": 1, "warned": 2}
    return sorted(found, key=lambda f: order[f.outcome])


def waivers(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [w for w in _list(doc.get("waivers")) if isinstance(w, Mapping)]


def overrides_of(log: ReadOnlyLog, record: StoredRecord) -> list[StoredRecord]:
    """The override records that name ``record`` (they share its deployment)."""
    if record.decision != "deny":
        return []
    nearby = log.page(
        QueryFilter(namespace=record.namespace, name=record.name, kinds=("override",)), None, 500
    )
    return [r for r in nearby if r.seq > record.seq and document(r).get("overrides") == record.decision_id]


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else []
