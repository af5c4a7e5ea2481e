"""``fleetgate cost``: what the repository's desired state costs to deliver, for finance.

Without ``--base`` every deployment is priced as if it were rolled out now from nothing (the
full delivery cost of the desired state); with ``--base REF`` each change since REF is priced
as the step it is (only the devices it adds, or every device reached for a new artifact). The
figures are the ``cost`` facts a check computes, from the trusted revision's fleet files, broken
down by namespace, deployment, segment and region. Nothing is printed here: the CLI prints.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fleetgate.errors import ConfigError
from fleetgate.fleet.display import count, exact, money, size, unit_price

__all__ = ["CostLine", "CostReport", "render_cost", "run_cost"]

GB = Decimal(10**9)


@dataclass(frozen=True)
class CostLine:
    """One deployment's step in one segment of the fleet."""

    namespace: str
    deployment: str
    version: str | None
    digest: str | None
    segment: str
    region: str
    device_class: str
    decision: str  # what the gate decided about this deployment: admit | deny
    devices_before: int
    devices_after: int
    new_downloads: int
    bytes_per_download: int | None
    price_per_gb: str | None
    egress: str | None  # exact decimal text; None when the region or size is unpriced

    @property
    def gigabytes(self) -> Decimal | None:
        if self.bytes_per_download is None:
            return None
        return Decimal(self.new_downloads) * Decimal(self.bytes_per_download) / GB


@dataclass(frozen=True)
class CostReport:
    currency: str
    lines: tuple[CostLine, ...]
    base: str | None
    revision: str  # the trusted revision the fleet files were read from
    generated: str  # when (RFC 3339 UTC), the charge period of FOCUS rows

    @property
    def egress(self) -> Decimal:
        return sum((Decimal(line.egress) for line in self.lines if line.egress is not None), Decimal(0))

    @property
    def unpriced(self) -> int:
        return sum(1 for line in self.lines if line.egress is None and line.new_downloads)


def run_cost(cwd: Path, base: str | None = None, config: Path | None = None) -> CostReport:
    """Price the repository at ``cwd``: every deployment, or the changes since ``base``."""
    from fleetgate.commands.check import CheckOptions, run_check

    options = CheckOptions(
        paths=() if base is not None else (".",),
        base=base,
        config=config,
        cwd=cwd,
        evidence=("cost",),
        cost_segments=True,
    )
    checked = run_check(options)
    if checked.config.fleet is None:
        raise ConfigError(
            f"{checked.config.source or 'fleetgate.yaml'}: no fleet configured; add "
            "fleet: {inventory: PATH, prices: PATH} to price deployments"
        )
    lines: list[CostLine] = []
    currencies: set[str] = set()
    for subject in checked.decision.subjects:
        cost = ((subject.policy_input or {}).get("facts") or {}).get("cost")
        if not isinstance(cost, Mapping):
            continue
        if cost.get("status") == "absent":
            raise ConfigError(str(cost.get("reason")))
        currencies.add(str(cost["currency"]))
        verdict = "admit" if subject.allowed else "deny"
        lines.extend(_lines(subject.target, subject.version, verdict, subject.policy_input, cost))
    trusted = checked.decision.context.get("trusted", {})
    return CostReport(
        currency=currencies.pop() if len(currencies) == 1 else "",
        lines=tuple(sorted(lines, key=lambda x: (x.namespace, x.deployment, x.region, x.segment))),
        base=base,
        revision=str(trusted.get("revision", "")),
        generated=checked.decision.timestamp,
    )


def _lines(
    target: str, version: str | None, decision: str, policy_input: Any, cost: Mapping[str, Any]
) -> list[CostLine]:
    namespace, name = target.split("/", 1)
    facts = policy_input.get("facts", {})
    artifact = facts.get("artifact") if isinstance(facts.get("artifact"), Mapping) else {}
    spec = policy_input.get("manifest", {}).get("spec", {})
    digest = artifact.get("digest") or spec.get("checksum")
    return [
        CostLine(
            namespace=namespace,
            deployment=name,
            version=version,
            digest=digest if isinstance(digest, str) else None,
            segment=row["segment"],
            region=row["region"],
            device_class=row["deviceClass"],
            decision=decision,
            devices_before=row["reachedBefore"],
            devices_after=row["reached"],
            new_downloads=row["newDownloads"],
            bytes_per_download=cost.get("bytesPerDownload"),
            price_per_gb=row["pricePerGB"],
            egress=row["egress"],
        )
        for row in (cost.get("report") or {}).get("bySegment", [])
    ]


def render_cost(report: CostReport, style: str) -> str:
    """``text`` for people (by namespace, then region), ``json`` or ``csv`` (one row a segment)."""
    if style == "json":
        return json.dumps(_json(report), indent=2) + "\n"
    if style == "csv":
        return _csv(report)
    if style == "focus":
        from fleetgate.fleet.focus import focus_rows

        return _table_csv(focus_rows(report))
    return _text(report)


def _json(report: CostReport) -> dict[str, Any]:
    return {
        "estimate": True,
        "currency": report.currency,
        "base": report.base,
        "trustedRevision": report.revision,
        "egress": exact(report.egress),
        "unpriced": report.unpriced,
        "byNamespace": {k: exact(v) for k, v in _totals(report.lines, "namespace").items()},
        "byRegion": {k: exact(v) for k, v in _totals(report.lines, "region").items()},
        "lines": [asdict(line) for line in report.lines],
    }


def _csv(report: CostReport) -> str:
    header = [
        "namespace", "deployment", "version", "segment", "region", "deviceClass", "devicesBefore",
        "devicesAfter", "newDownloads", "bytesPerDownload", "gigabytes", "pricePerGB", "egress", "currency",
    ]  # fmt: skip
    rows = [
        [
            line.namespace,
            line.deployment,
            line.version or "",
            line.segment,
            line.region,
            line.device_class,
            line.devices_before,
            line.devices_after,
            line.new_downloads,
            line.bytes_per_download if line.bytes_per_download is not None else "",
            exact(line.gigabytes) if line.gigabytes is not None else "",
            line.price_per_gb or "",
            line.egress or "",
            report.currency,
        ]
        for line in report.lines
    ]
    return _table_csv([header, *rows])


def _table_csv(rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _text(report: CostReport) -> str:
    currency = report.currency
    scope = f"changes since {report.base}" if report.base else "every deployment, rolled out from nothing"
    source = report.revision[:12] or "the working tree"
    lines = [f"fleet delivery cost (estimate, {scope}; fleet files of {source})"]
    for namespace, total in _totals(report.lines, "namespace").items():
        lines.append(f"{namespace}: {money(total, currency)}")
        for line in (x for x in report.lines if x.namespace == namespace and x.new_downloads):
            gigabytes = line.gigabytes
            quantity = f"{gigabytes:,.1f} GB" if gigabytes is not None else "unknown size"
            price = f" x {unit_price(line.price_per_gb, currency)}/GB" if line.price_per_gb else " x no price"
            amount = money(line.egress, currency) if line.egress is not None else "unpriced"
            downloads = f"{count(line.new_downloads)} x {size(line.bytes_per_download or 0)}"
            lines.append(
                f"    {line.deployment:24} {line.segment:28} {line.region:3} "
                f"{count(line.devices_before)} -> {count(line.devices_after)} devices, "
                f"{downloads} = {quantity}{price} = {amount}"
            )
    by_region = ", ".join(f"{r} {money(v, currency)}" for r, v in _totals(report.lines, "region").items())
    lines.append(f"by region: {by_region or 'nothing to deliver'}")
    note = f" ({report.unpriced} segment(s) could not be priced)" if report.unpriced else ""
    lines.append(f"total egress: {money(report.egress, currency) if currency else '0'}{note}")
    return "\n".join(lines) + "\n"


def _totals(lines: Sequence[CostLine], key: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        group = str(getattr(line, key))
        totals[group] = totals.get(group, Decimal(0)) + (Decimal(line.egress) if line.egress else Decimal(0))
    return dict(sorted(totals.items()))
