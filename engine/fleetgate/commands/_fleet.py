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
    fleet files by digest (never read at pre-deploy). Without ``fleet:``, none at all."""
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
    """Add each namespace's trailing-window spend (from the decision log) to its cost facts.

    A change is judged with the spend the log holds and the other priced changes of this check
    in its namespace, which would be admitted with it. The log is opened only when a priced
    change belongs to a namespace whose envelope has a per-window limit; one indexed sum per
    namespace.
    """
    from fleetgate.fleet.window import envelope_of, window_days, window_start, with_window

    wanted: dict[tuple[str, str], list[str]] = {}
    for change in changes.changes:
        cost = facts.get(change.manifest.target, {}).get("cost")
        days = window_days(data, change.manifest.namespace)
        if isinstance(cost, dict) and isinstance(cost.get("egress"), str) and days is not None:
            wanted.setdefault((change.manifest.namespace, cost["currency"]), []).append(
                change.manifest.target
            )
    if not wanted:
        return facts
    from fleetgate.audit.ledger import admitted_egress
    from fleetgate.commands.audit import audit_settings, opened

    url = audit_settings(config.extra.get("audit"), config.root, options.audit_log).log
    with opened(url) as log:
        for (namespace, currency), targets in wanted.items():
            days = window_days(data, namespace)
            assert days is not None
            spent = admitted_egress(log, namespace, currency, window_start(now, days))
            egress = {target: Decimal(facts[target]["cost"]["egress"]) for target in targets}
            together = sum(egress.values(), Decimal(0))
            for target in targets:
                facts[target]["cost"] = with_window(
                    facts[target]["cost"],
                    envelope_of(data, namespace),
                    days,
                    spent,
                    together - egress[target],
                    len(targets) - 1,
                )
    return facts
