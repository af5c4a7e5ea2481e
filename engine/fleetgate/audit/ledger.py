"""The decision log as the cost ledger: what a namespace already spent in a trailing window.

Each decision record carries the change's projected cost (``"cost": {"currency", "egress"}``,
and ``"fallback"``, the monthly cloud-fallback estimate, when there is one; written by
:mod:`fleetgate.audit.events`). The window envelope sums the egress of every change *admitted at
pre-deploy* in one namespace since a moment, and the fallback budget takes each deployment's
latest admitted monthly fallback (a monthly bill replaces the previous one, it does not add up),
both from one pass over the log's own filtered query:
namespace, stage, decision, kind and time are indexed columns, so the sum walks one namespace's
index entries and never scans the whole log. The table schema is unchanged: amounts are read
from the matching records' bodies, in exact decimals.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fleetgate.audit.store.interface import DecisionLog, QueryFilter, StoredRecord

__all__ = ["LedgerSum", "admitted_spend", "projected_cost"]

_PAGE = 1000
# Every record of one decision shares its timestamp; the page that ends on a timestamp reads
# all records of that instant at once, so paging by time never skips or repeats one.
_ONE_INSTANT = 1_000_000


@dataclass(frozen=True)
class LedgerSum:
    """What a namespace's pre-deploy admissions since ``since`` cost, in ``currency``."""

    amount: Decimal  # egress, summed over the admissions
    records: int  # records summed
    other_currency: int  # records priced in another currency: not summed, only counted
    since: str
    # deployment name -> the monthly fallback of its latest admission that had an estimate
    # (a deployment whose latest admission had none is left out: nothing known falls back)
    fallback: Mapping[str, Decimal] = field(default_factory=dict)


def projected_cost(policy_input: Mapping[str, Any] | None) -> dict[str, str] | None:
    """What a decision record keeps of the change's cost fact: currency, exact egress and, when
    estimated, the exact monthly fallback."""
    facts = (policy_input or {}).get("facts")
    cost = facts.get("cost") if isinstance(facts, Mapping) else None
    if not isinstance(cost, Mapping) or not isinstance(cost.get("egress"), str):
        return None
    kept = {"currency": str(cost.get("currency")), "egress": cost["egress"]}
    fallback = cost.get("fallbackPerMonth")
    if isinstance(fallback, Mapping) and isinstance(fallback.get("amount"), str):
        kept["fallback"] = fallback["amount"]
    return kept


def admitted_spend(log: DecisionLog, namespace: str, currency: str, since: str) -> LedgerSum:
    """The projected egress of the pre-deploy admissions of ``namespace`` since ``since``,
    summed, and the latest monthly fallback of each of its deployments."""
    wanted = QueryFilter(
        namespace=namespace, stage="pre-deploy", decision="admit", since=since, kinds=("decision",)
    )
    amount, records, other = Decimal(0), 0, 0
    fallback: dict[str, Decimal] = {}
    seen: set[str] = set()
    for record in _window(log, wanted):  # newest first
        cost = _cost_of(record)
        if cost is None:
            continue
        if cost[0] != currency:
            other += 1
            continue
        amount += cost[1]
        records += 1
        if record.name is not None and record.name not in seen:
            seen.add(record.name)
            if cost[2] is not None:
                fallback[record.name] = cost[2]
    return LedgerSum(amount, records, other, since, fallback)


def _window(log: DecisionLog, wanted: QueryFilter) -> list[StoredRecord]:
    """Every record matching ``wanted``, newest first, read a page at a time."""
    found: list[StoredRecord] = []
    until: str | None = None
    while True:
        page = log.query(_bounded(wanted, until=until), limit=_PAGE)
        if len(page) < _PAGE:
            return found + page
        oldest = page[-1].timestamp
        found += [r for r in page if r.timestamp != oldest]
        found += log.query(_bounded(wanted, since=oldest, until=_next_instant(oldest)), limit=_ONE_INSTANT)
        until = oldest


def _bounded(wanted: QueryFilter, since: str | None = None, until: str | None = None) -> QueryFilter:
    fields = {k: getattr(wanted, k) for k in QueryFilter.__dataclass_fields__}
    if since is not None:
        fields["since"] = since
    fields["until"] = until
    return QueryFilter(**fields)


def _next_instant(timestamp: str) -> str:
    """The next microsecond: records carry fixed-width RFC 3339 UTC times with microseconds."""
    moment = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ") + dt.timedelta(microseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _cost_of(record: StoredRecord) -> tuple[str, Decimal, Decimal | None] | None:
    """(currency, egress, monthly fallback or None) of a record's projection."""
    try:
        cost = json.loads(record.body).get("cost")
        if not isinstance(cost, dict):
            return None
        fallback = Decimal(str(cost["fallback"])) if "fallback" in cost else None
        return str(cost["currency"]), Decimal(str(cost["egress"])), fallback
    except (ValueError, KeyError, InvalidOperation, AttributeError):
        return None  # a record without a readable projection contributes nothing
