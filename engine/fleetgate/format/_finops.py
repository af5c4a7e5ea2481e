"""The FinOps table every format shows: what each deployment's rollout step costs.

Infracost's habit, applied to a rollout: for each deployment the devices before and after
(past and total), the new downloads and egress of this step (the diff), each component as
unit x quantity x price, the namespace's window total against its envelope, and a count of the
inputs that could not be priced (a region without a price, an unknown size). Pure: it reads the
``cost`` facts the decision's subjects were judged with.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fleetgate.decision import Decision
from fleetgate.fleet.display import count, exact, money, size

__all__ = ["finops_cells", "finops_lines", "finops_view"]

GB = Decimal(10**9)


def finops_view(decision: Decision) -> dict[str, Any] | None:
    """The table as data (``--format json`` key ``finops``); ``None`` when nothing was priced."""
    rows = []
    for subject in decision.subjects:
        facts = (subject.policy_input or {}).get("facts")
        cost = facts.get("cost") if isinstance(facts, Mapping) else None
        if isinstance(cost, Mapping) and "currency" in cost:
            rows.append(_row(subject.target, subject.change, cost))
    if not rows:
        return None
    currencies = sorted({r["currency"] for r in rows})
    total = sum((Decimal(r["egress"]) for r in rows if r["egress"] is not None), Decimal(0))
    return {
        "estimate": True,
        "currency": currencies[0] if len(currencies) == 1 else None,
        "deployments": rows,
        "egress": exact(total),
        "unpriced": sum(r["unpriced"] for r in rows),
    }


def _row(target: str, change: str, cost: Mapping[str, Any]) -> dict[str, Any]:
    size_bytes = cost.get("bytesPerDownload")
    report = cost.get("report") or {}
    components = []
    for region, figures in sorted((report.get("byRegion") or {}).items()):
        if figures.get("egress") is None or size_bytes is None:
            continue
        quantity = Decimal(figures["newDownloads"]) * Decimal(size_bytes) / GB
        components.append(
            {
                "component": f"egress {region}",
                "unit": "GB",
                "quantity": exact(quantity),
                "price": figures.get("pricePerGB"),  # None when it varies with the Wi-Fi share
                "cost": figures["egress"],
            }
        )
    return {
        "target": target,
        "change": change,
        "currency": cost["currency"],
        "devicesBefore": cost.get("devicesReachedBefore"),
        "devicesAfter": cost.get("devicesReached"),
        "newDownloads": cost.get("newDownloads"),
        "bytesPerDownload": size_bytes,
        "bytesDelivered": report.get("bytesDelivered"),
        "egress": cost.get("egress"),
        "storagePerMonth": report.get("storagePerMonth"),
        "fallbackPerMonth": (cost.get("fallbackPerMonth") or {}).get("amount"),
        "components": components,
        "window": _window(cost.get("window"), report.get("window")),
        "unpriced": len(report.get("unpriced", [])),
    }


def _window(window: Any, counted: Any) -> dict[str, Any] | None:
    if not isinstance(window, Mapping):
        return None
    extra = counted if isinstance(counted, Mapping) else {}
    return {
        "days": window.get("days"),
        "since": window.get("since"),
        "admitted": window.get("admitted"),
        "total": window.get("total"),
        "envelope": extra.get("envelope"),
        "admittedRecords": extra.get("admittedRecords"),
    }


def finops_lines(view: Mapping[str, Any]) -> list[str]:
    """The table as text: one line per deployment, a total line, and the unpriced count."""
    header = ("deployment", "devices before -> after", "downloads", "bytes", "egress", "window / envelope")
    cells = [header] + [finops_cells(r) for r in view["deployments"]]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = ["finops (estimate)"]
    lines += [
        "    " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    currency = view["currency"]
    total = money(view["egress"], currency) if currency else view["egress"]
    note = f"; {view['unpriced']} input(s) could not be priced" if view["unpriced"] else ""
    lines.append(f"    total egress of this change: {total}{note}")
    return lines


def finops_cells(row: Mapping[str, Any]) -> tuple[str, ...]:
    """One deployment's row as text: deployment, devices, downloads, bytes, egress, window."""
    currency = row["currency"]
    before, after = row["devicesBefore"] or 0, row["devicesAfter"] or 0
    delivered = row["bytesDelivered"]
    window = row["window"]
    shown_window = ""
    if isinstance(window, Mapping):
        limit = window.get("envelope")
        shown_window = money(window["total"], currency)
        if isinstance(limit, int | float):
            shown_window += f" / {money(Decimal(str(limit)), currency)}"
    return (
        row["target"],
        f"{count(before)} -> {count(after)}",
        count(row["newDownloads"] or 0),
        size(delivered) if isinstance(delivered, int) else "unknown",
        money(row["egress"], currency) if row["egress"] is not None else "unpriced",
        shown_window,
    )
