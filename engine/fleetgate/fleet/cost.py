"""What one manifest change costs across the fleet (SPEC §11). Pure: no I/O, exact decimals.

1. A segment is eligible when it matches ``targetDevices``: iOS segments by ``minOSVersion``,
   Android segments by ``minAPILevel``, then ``minMemoryMB`` and ``regions``. A constraint the
   manifest does not give does not narrow the fleet (an estimate errs toward the larger bill).
2. reached = floor(devices * rolloutPercentage / 100), for the head and for the base manifest
   (``immediate`` is 100 %).
3. new downloads = reached_head - (reached_base if the artifact digest is unchanged, else 0),
   never below 0. The digest is the measured one when known, else ``spec.checksum``.
4. egress = sum of new downloads * bytes / 10^9 * (egressPerGB[region] + cellular share), the
   cellular share being (1 - wifiShare) * cellularSurchargePerGB for ``networkConstraint: ANY``
   (or none given). Bytes are the measured artifact size when known, else ``spec.sizeBytes``.
5. storage = bytes / 10^9 * storagePerGBMonth, for a new artifact.
6. fallback = sum of reached * inferencesPerDay * 30 / 1000 * cloudFallbackPer1kInferences over the
   segments whose memory the model's measured peak exceeds (peak > headroom * memoryMB).

Amounts stay exact: they are written to the fact as decimal strings and only rounded for display.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from fleetgate.fleet import display
from fleetgate.fleet.display import exact
from fleetgate.fleet.model import Fleet, Segment

__all__ = ["Measured", "project_cost"]

GB = Decimal(10**9)
DAYS_PER_MONTH = 30
_IOS = re.compile(r"^iOS(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


@dataclass(frozen=True)
class Measured:
    """What the evidence knows about the artifacts, when it was reachable."""

    size: int | None = None
    digest: str | None = None
    base_digest: str | None = None
    peak_memory_mb: Decimal | None = None
    memory_headroom: Decimal | None = None


def project_cost(
    manifest: Mapping[str, Any], previous: Mapping[str, Any] | None, fleet: Fleet, measured: Measured
) -> dict[str, Any]:
    """The ``cost`` fact of one change: every figure with the inputs that produced it."""
    spec = _spec(manifest)
    base_spec = _spec(previous) if previous is not None else None
    size, size_source = _bytes(spec, measured)
    unchanged = base_spec is not None and _digest(spec, measured.digest) == _digest(
        base_spec, measured.base_digest
    )
    percent, percent_before = _percent(spec), _percent(base_spec) if base_spec is not None else Decimal(0)
    cellular = _network(spec) == "ANY"
    rows = []
    for segment in fleet.segments:
        if not _eligible(segment, spec):
            continue
        before = _reached(segment, percent_before) if base_spec and _eligible(segment, base_spec) else 0
        rows.append(
            _segment_row(segment, fleet, _reached(segment, percent), before, unchanged, size, cellular)
        )
    return _fact(fleet, spec, rows, size, size_source, unchanged, (percent_before, percent), measured)


def _segment_row(
    segment: Segment,
    fleet: Fleet,
    reached: int,
    before: int,
    unchanged: bool,
    size: int | None,
    cellular: bool,
) -> dict[str, Any]:
    downloads = max(0, reached - (before if unchanged else 0))
    price = fleet.sheet.egress_per_gb.get(segment.region)
    surcharge = (1 - segment.wifi_share) * fleet.sheet.cellular_surcharge_per_gb if cellular else Decimal(0)
    row: dict[str, Any] = {
        "segment": segment.name,
        "platform": segment.platform,
        "region": segment.region,
        "deviceClass": segment.device_class,
        "memoryMB": segment.memory_mb,
        "devices": segment.devices,
        "reachedBefore": before,
        "reached": reached,
        "newDownloads": downloads,
        "pricePerGB": None if price is None else exact(price + surcharge),
        "egress": None,
    }
    if price is not None and size is not None:
        row["egress"] = exact(Decimal(downloads) * Decimal(size) / GB * (price + surcharge))
    return row


def _fact(
    fleet: Fleet,
    spec: Mapping[str, Any],
    rows: list[dict[str, Any]],
    size: int | None,
    size_source: str | None,
    unchanged: bool,
    percents: tuple[Decimal, Decimal],
    measured: Measured,
) -> dict[str, Any]:
    downloads = sum(r["newDownloads"] for r in rows)
    egress = sum((Decimal(r["egress"]) for r in rows if r["egress"] is not None), Decimal(0))
    by_region: dict[str, dict[str, Any]] = {}
    for row in rows:
        region = by_region.setdefault(
            row["region"], {"newDownloads": 0, "egress": Decimal(0), "priced": True}
        )
        region["newDownloads"] += row["newDownloads"]
        if row["egress"] is None:
            region["priced"] = False
        else:
            region["egress"] += Decimal(row["egress"])
    fact: dict[str, Any] = {
        "currency": fleet.sheet.currency,
        "inventory": fleet.inventory,
        "prices": fleet.prices,
        "asOf": fleet.as_of,
        "rolloutPercentage": {"before": _number(percents[0]), "after": _number(percents[1])},
        "digestUnchanged": unchanged,
        "devicesEligible": sum(r["devices"] for r in rows),
        "devicesReachedBefore": sum(r["reachedBefore"] for r in rows),
        "devicesReached": sum(r["reached"] for r in rows),
        "newDownloads": downloads,
        "bytesPerDownload": size,
        "bytesSource": size_source,
        "bytesDelivered": downloads * size if size is not None else None,
        "egress": exact(egress) if size is not None else None,
        "networkConstraint": _network(spec),
        "unpriced": _unpriced(rows, size),
        "bySegment": rows,
        "byRegion": {
            k: {**v, "egress": exact(v["egress"]) if v["priced"] and size else None}
            for k, v in sorted(by_region.items())
        },
        "byClass": _by_class(rows),
        "storagePerMonth": _storage(fleet, size, unchanged),
        "fallbackPerMonth": _fallback(fleet, rows, measured),
    }
    fact["display"] = _display(fact)
    return fact


def _display(fact: Mapping[str, Any]) -> dict[str, str]:
    """The figures as messages and tables show them (the exact ones stay beside them)."""
    currency = fact["currency"]
    shown = {
        "devicesReachedBefore": display.count(fact["devicesReachedBefore"]),
        "devicesReached": display.count(fact["devicesReached"]),
        "newDownloads": display.count(fact["newDownloads"]),
    }
    if fact["bytesPerDownload"] is not None:
        shown["bytesPerDownload"] = display.size(fact["bytesPerDownload"])
        shown["bytesDelivered"] = display.size(fact["bytesDelivered"])
    for key in ("egress", "storagePerMonth"):
        if fact[key] is not None:
            shown[key] = display.money(fact[key], currency)
    if fact["fallbackPerMonth"] is not None:
        shown["fallbackPerMonth"] = display.money(fact["fallbackPerMonth"]["amount"], currency)
    return shown


def _unpriced(rows: list[dict[str, Any]], size: int | None) -> list[dict[str, Any]]:
    """Inputs that could not be priced: a region with no price, an unknown size."""
    missing: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["pricePerGB"] is None:
            entry = missing.setdefault(
                f"egressPerGB.{row['region']}",
                {"input": f"egressPerGB.{row['region']}", "segments": 0, "newDownloads": 0},
            )
            entry["segments"] += 1
            entry["newDownloads"] += row["newDownloads"]
    found = [missing[k] for k in sorted(missing)]
    if size is None:
        found.insert(
            0,
            {
                "input": "sizeBytes",
                "segments": len(rows),
                "newDownloads": sum(r["newDownloads"] for r in rows),
            },
        )
    return found


def _by_class(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per device class: devices eligible and reached, and the smallest memory among them."""
    classes: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = classes.setdefault(
            row["deviceClass"], {"segments": 0, "devices": 0, "reached": 0, "minMemoryMB": row["memoryMB"]}
        )
        entry["segments"] += 1
        entry["devices"] += row["devices"]
        entry["reached"] += row["reached"]
        entry["minMemoryMB"] = min(entry["minMemoryMB"], row["memoryMB"])
    return dict(sorted(classes.items()))


def _storage(fleet: Fleet, size: int | None, unchanged: bool) -> str | None:
    price = fleet.sheet.storage_per_gb_month
    if price is None or size is None:
        return None
    return exact(Decimal(0) if unchanged else Decimal(size) / GB * price)


def _fallback(fleet: Fleet, rows: list[dict[str, Any]], measured: Measured) -> dict[str, Any] | None:
    price = fleet.sheet.fallback_per_1k_inferences
    peak, headroom = measured.peak_memory_mb, measured.memory_headroom
    if price is None or peak is None or headroom is None:
        return None
    volume = {s.name: s.inferences_per_day for s in fleet.segments}
    devices, amount = 0, Decimal(0)
    for row in rows:
        daily = volume.get(row["segment"])
        if daily is None or peak <= headroom * row["memoryMB"]:
            continue
        devices += row["reached"]
        amount += Decimal(row["reached"]) * daily * DAYS_PER_MONTH / 1000 * price
    return {
        "devices": devices,
        "amount": exact(amount),
        "peakMemoryMB": _number(peak),
        "headroom": _number(headroom),
    }


def _eligible(segment: Segment, spec: Mapping[str, Any]) -> bool:
    target = spec.get("targetDevices")
    target = target if isinstance(target, Mapping) else {}
    if segment.platform == "ios" and "minOSVersion" in target:
        wanted = _ios_version(target["minOSVersion"])
        if wanted is None or segment.os_version is None or _padded(segment.os_version) < _padded(wanted):
            return False
    wanted_api = target.get("minAPILevel")
    if (
        segment.platform == "android"
        and isinstance(wanted_api, int)
        and (segment.api_level is None or segment.api_level < wanted_api)
    ):
        return False
    if isinstance(target.get("minMemoryMB"), int) and segment.memory_mb < target["minMemoryMB"]:
        return False
    regions = target.get("regions")
    return not isinstance(regions, list) or segment.region in regions


def _ios_version(text: Any) -> tuple[int, ...] | None:
    found = _IOS.match(text) if isinstance(text, str) else None
    return tuple(int(p) for p in found.groups() if p is not None) if found else None


def _padded(version: tuple[int, ...]) -> tuple[int, ...]:
    return (*version, 0, 0, 0)[:3]


def _reached(segment: Segment, percent: Decimal) -> int:
    return int((Decimal(segment.devices) * percent / 100).to_integral_value(ROUND_FLOOR))


def _percent(spec: Mapping[str, Any]) -> Decimal:
    strategy = spec.get("updateStrategy")
    strategy = strategy if isinstance(strategy, Mapping) else {}
    value = strategy.get("rolloutPercentage")
    if strategy.get("type") == "immediate" or not isinstance(value, int | float):
        return Decimal(100)  # no staged percentage: every eligible device
    return Decimal(str(value))


def _network(spec: Mapping[str, Any]) -> str:
    strategy = spec.get("updateStrategy")
    found = strategy.get("networkConstraint") if isinstance(strategy, Mapping) else None
    return found if found in ("WIFI", "ANY") else "ANY"


def _bytes(spec: Mapping[str, Any], measured: Measured) -> tuple[int | None, str | None]:
    if measured.size is not None:
        return measured.size, "measured"
    declared = spec.get("sizeBytes")
    return (declared, "declared") if isinstance(declared, int) else (None, None)


def _digest(spec: Mapping[str, Any], measured: str | None) -> Any:
    return measured if measured is not None else spec.get("checksum")


def _spec(document: Mapping[str, Any] | None) -> Mapping[str, Any]:
    spec = document.get("spec") if document is not None else None
    return spec if isinstance(spec, Mapping) else {}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
