"""The namespace figures of the envelope rules: what was admitted, plus this check. Pure.

The earlier admissions come from the decision log (:mod:`fleetgate.audit.ledger`); this module
says which namespaces need them and adds them, with the other changes of the same check in that
namespace, to each change's ``cost`` fact, so the rules judge exact figures they did not have to
compute:

* ``window`` (``cost.envelope-window``): the egress admitted in the trailing window, the other
  changes of this check and this change, summed;
* ``namespaceFallback`` (``cost.fallback-budget``): the namespace's monthly cloud-fallback bill
  once this check is admitted: the latest admitted figure of each deployment this check does
  not change, plus this check's changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fleetgate.fleet.display import exact

if TYPE_CHECKING:
    from fleetgate.audit.ledger import LedgerSum

__all__ = [
    "envelope_of",
    "fallback_budget",
    "ledger_days",
    "window_days",
    "window_start",
    "with_fallback",
    "with_window",
]


def envelope_of(data: Mapping[str, Any], namespace: str) -> Mapping[str, Any]:
    """``cost.envelopes.<namespace>`` of the policy data (empty when the namespace has none)."""
    cost = data.get("cost")
    envelopes = cost.get("envelopes") if isinstance(cost, Mapping) else None
    envelope = envelopes.get(namespace) if isinstance(envelopes, Mapping) else None
    return envelope if isinstance(envelope, Mapping) else {}


def window_days(data: Mapping[str, Any], namespace: str) -> int | None:
    """The trailing window of ``namespace``'s envelope, when it has a per-window limit."""
    envelope = envelope_of(data, namespace)
    return _days(envelope) if "maxEgressPerWindow" in envelope else None


def fallback_budget(data: Mapping[str, Any], namespace: str) -> bool:
    """Whether ``namespace``'s envelope has a monthly cloud-fallback budget."""
    return "maxFallbackPerMonth" in envelope_of(data, namespace)


def ledger_days(data: Mapping[str, Any], namespace: str) -> int | None:
    """How far back the ledger is read for ``namespace``: its window, when its envelope has a
    per-window limit or a fallback budget (``None``: the ledger is not needed)."""
    envelope = envelope_of(data, namespace)
    if "maxEgressPerWindow" not in envelope and "maxFallbackPerMonth" not in envelope:
        return None
    return _days(envelope)


def _days(envelope: Mapping[str, Any]) -> int | None:
    days = envelope.get("windowDays", 30)
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None


def window_start(now: dt.datetime, days: int) -> str:
    """The RFC 3339 moment ``days`` before ``now``, in the log's fixed-width form."""
    moment = now.astimezone(dt.UTC) - dt.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def with_window(
    fact: Mapping[str, Any],
    envelope: Mapping[str, Any],
    days: int,
    spent: LedgerSum,
    others: Decimal = Decimal(0),
    other_changes: int = 0,
) -> dict[str, Any]:
    """``fact`` with ``window``: what the ledger holds, this check's other changes of the
    namespace (they are admitted together with this one), this change, and the total."""
    egress = Decimal(fact["egress"]) if isinstance(fact.get("egress"), str) else Decimal(0)
    total = spent.amount + others + egress
    window = {
        "days": days,
        "since": spent.since,
        "admitted": exact(spent.amount),
        "otherChanges": other_changes,
        "others": exact(others),
        "total": exact(total),
    }
    # For reports: how many records the sum read, and the limit it is judged against (the
    # policy reads its own copy from the policy data).
    counted = {
        "admittedRecords": spent.records,
        "otherCurrencyRecords": spent.other_currency,
        "envelope": envelope.get("maxEgressPerWindow"),
    }
    report = {**fact.get("report", {}), "window": counted}
    return {**fact, "window": window, "report": report}


def with_fallback(
    fact: Mapping[str, Any],
    days: int,
    spent: LedgerSum,
    others: Decimal,
    other_changes: int,
) -> dict[str, Any]:
    """``fact`` with ``namespaceFallback``: the namespace's monthly fallback bill with this check.

    ``spent.fallback`` holds only the deployments this check leaves alone (the caller drops the
    ones it changes: their new figure replaces the admitted one), ``others`` the other changes
    of this check in the namespace.
    """
    own = Decimal(fact["fallbackPerMonth"]["amount"])
    admitted = sum(spent.fallback.values(), Decimal(0))
    total = admitted + others + own
    figures = {
        "days": days,
        "since": spent.since,
        "deployments": len(spent.fallback),
        "admitted": exact(admitted),
        "otherChanges": other_changes,
        "others": exact(others),
        "total": exact(total),
    }
    return {**fact, "namespaceFallback": figures}
