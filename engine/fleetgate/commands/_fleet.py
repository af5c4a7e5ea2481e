"""What a check adds for FinOps: the cost collector's settings and the namespace windows.

I/O at the edge of the cost fact: the fleet files are named by ``fleet:`` (read later by the
collector through the trusted revision's reader), and the trailing-window spend of a namespace
comes from the decision log (:mod:`fleetgate.audit.ledger`), opened only when an envelope needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fleetgate.changes import ChangeSet
from fleetgate.config import Config, EvidenceConfig
from fleetgate.evidence.cache import FactCache

if TYPE_CHECKING:
    from fleetgate.audit.ledger import LedgerSum
    from fleetgate.commands.check import CheckOptions

__all__ = ["cost_windows", "with_fleet"]


def with_fleet(
    settings: EvidenceConfig,
    config: Config,
    data: Mapping[str, Any],
    segments: bool = False,
    cache: FactCache | None = None,
) -> EvidenceConfig:
    """The cost collector's settings: the fleet files of ``fleet:``, the memory headroom the
    fallback estimate shares with targeting.memory-headroom, and the cache that keeps the parsed
    fleet files by git object id or digest (never read at pre-deploy). Without ``fleet:``, none at all."""
    if config.fleet is None:
        return settings
    targeting = data.get("targeting")
    headroom = targeting.get("memoryHeadroom") if isinstance(targeting, Mapping) else None
    cost = {
        "inventory": config.fleet.inventory,
        "prices": config.fleet.prices,
        "memoryHeadroom": headroom,
        "segments": segments,
        "cache": cache,
    }
    return replace(settings, collectors={**settings.collectors, "cost": cost})


def cost_windows(
    facts: dict[str, dict[str, Any]],
    changes: ChangeSet,
    data: Mapping[str, Any],
    options: CheckOptions,
    config: Config,
    now: dt.datetime,
) -> dict[str, dict[str, Any]]:
    """Add each namespace's ledger figures (from the decision log) to its cost facts.

    A change is judged with what the log holds and the other priced changes of this check in
    its namespace, which would be admitted with it: the trailing-window egress
    (``cost.envelope-window``) and the monthly fallback bill (``cost.fallback-budget``). The log
    is opened only when a priced change belongs to a namespace whose envelope has a per-window
    limit or a fallback budget; one indexed query per namespace serves both.
    """
    cost_data = data.get("cost")
    if not isinstance(cost_data, Mapping) or not cost_data.get("envelopes"):
        return facts  # no namespace has an envelope: the ledger has nothing to add
    from fleetgate.fleet.window import ledger_days

    wanted: dict[tuple[str, str], list[str]] = {}
    for change in changes.changes:
        cost = facts.get(change.manifest.target, {}).get("cost")
        priced = isinstance(cost, dict) and (isinstance(cost.get("egress"), str) or _fallback(cost))
        if priced and ledger_days(data, change.manifest.namespace) is not None:
            assert isinstance(cost, dict)
            key = (change.manifest.namespace, cost["currency"])
            wanted.setdefault(key, []).append(change.manifest.target)
    if not wanted:
        return facts
    from fleetgate.audit.ledger import admitted_spend
    from fleetgate.commands.audit import audit_settings, opened
    from fleetgate.fleet.window import window_start

    url = audit_settings(config.extra.get("audit"), config.root, options.audit_log).log
    with opened(url) as log:
        for (namespace, currency), targets in wanted.items():
            days = ledger_days(data, namespace)
            assert days is not None
            spent = admitted_spend(log, namespace, currency, window_start(now, days))
            _add_window(facts, targets, data, namespace, spent)
            changed = {c.manifest.name for c in changes.changes if c.manifest.namespace == namespace}
            _add_fallback(facts, targets, data, namespace, days, spent, changed)
    return facts


def _fallback(cost: Mapping[str, Any]) -> bool:
    fallback = cost.get("fallbackPerMonth")
    return isinstance(fallback, Mapping) and isinstance(fallback.get("amount"), str)


def _add_window(
    facts: dict[str, dict[str, Any]],
    targets: list[str],
    data: Mapping[str, Any],
    namespace: str,
    spent: LedgerSum,
) -> None:
    """The egress window of ``namespace``, on each of its priced changes."""
    from fleetgate.fleet.window import envelope_of, window_days, with_window

    days = window_days(data, namespace)
    priced = [t for t in targets if isinstance(facts[t]["cost"].get("egress"), str)]
    if days is None or not priced:
        return
    egress = {target: Decimal(facts[target]["cost"]["egress"]) for target in priced}
    together = sum(egress.values(), Decimal(0))
    for target in priced:
        facts[target]["cost"] = with_window(
            facts[target]["cost"],
            envelope_of(data, namespace),
            days,
            spent,
            together - egress[target],
            len(priced) - 1,
        )


def _add_fallback(
    facts: dict[str, dict[str, Any]],
    targets: list[str],
    data: Mapping[str, Any],
    namespace: str,
    days: int,
    spent: LedgerSum,
    changed: set[str],
) -> None:
    """The monthly fallback bill of ``namespace`` with this check, on each change that has one.

    The deployments this check changes (or deletes) leave the ledger's figures: their new
    estimate replaces the admitted one, and a deployment with no new estimate adds nothing.
    """
    from fleetgate.fleet.window import fallback_budget, with_fallback

    estimated = [t for t in targets if _fallback(facts[t]["cost"])]
    if not fallback_budget(data, namespace) or not estimated:
        return
    kept = replace(spent, fallback={k: v for k, v in spent.fallback.items() if k not in changed})
    amount = {t: Decimal(facts[t]["cost"]["fallbackPerMonth"]["amount"]) for t in estimated}
    together = sum(amount.values(), Decimal(0))
    for target in estimated:
        facts[target]["cost"] = with_fallback(
            facts[target]["cost"], days, kept, together - amount[target], len(estimated) - 1
        )
