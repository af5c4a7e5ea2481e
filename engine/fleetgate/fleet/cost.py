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

from collections.abc import Iterator, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from fleetgate.fleet.display import exact
from fleetgate.fleet.eligible import Targets, eligible_segments
from fleetgate.fleet.model import Fleet, Segment

__all__ = ["Measured", "project_cost"]

GB = Decimal(10**9)
DAYS_PER_MONTH = 30


class Measured:
    """What the evidence knows about the artifacts, when it was reachable."""

    __slots__ = ("base_digest", "digest", "memory_headroom", "peak_memory_mb", "size")

    def __init__(
        self,
        size: int | None = None,
        digest: str | None = None,
        base_digest: str | None = None,
        peak_memory_mb: Decimal | None = None,
        memory_headroom: Decimal | None = None,
    ) -> None:
        self.size, self.digest, self.base_digest = size, digest, base_digest
        self.peak_memory_mb, self.memory_headroom = peak_memory_mb, memory_headroom


def project_cost(
    manifest: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    fleet: Fleet,
    measured: Measured,
    segments: bool = False,
) -> dict[str, Any]:
    """The ``cost`` fact of one change: every figure with the inputs that produced it.

    With ``segments`` the fact also lists every eligible segment (``bySegment``); without, the
    breakdown stops at regions and device classes, whose size does not grow with the inventory.
    """
    spec = _spec(manifest)
    base_spec = _spec(previous) if previous is not None else None
    size, size_source = _bytes(spec, measured)
    unchanged = base_spec is not None and _digest(spec, measured.digest) == _digest(
        base_spec, measured.base_digest
    )
    percent = _percent(spec)
    percent_before = _percent(base_spec) if base_spec is not None else None
    head = Targets(spec)
    # The base version's devices count where its targetDevices reached too (None: the same).
    base = Targets(base_spec) if base_spec is not None else None
    narrowed = base if base is not None and base.key != head.key else None
    column = 1 if _network(spec) == "ANY" else 0
    key = ("step", head.key, column, percent, percent_before, unchanged, narrowed.key if narrowed else None)
    step = fleet.memo(key, lambda: _Step(fleet, head, narrowed, column, (percent_before, percent), unchanged))
    fallback = _FallbackTally(fleet, measured)
    rows: list[tuple[int, dict[str, Any]]] = []  # (inventory index, row) of every eligible segment
    if fallback.enabled or segments:
        for group, reached, before, downloads in step.counted():
            for n, index in enumerate(group[2]):
                segment = fleet.segments[index]
                if fallback.enabled:
                    fallback.add(segment, reached[n])
                if segments:
                    row = _segment_row(segment, reached[n], before[n], downloads[n], group[1], size)
                    rows.append((index, row))
    by_segment = [row for _, row in sorted(rows, key=lambda found: found[0])] if segments else None
    return _fact(fleet, spec, step, size, size_source, fallback, by_segment)


# The eligible segments of one region that pay one price per GB (None: the region has no
# price): (region, price, inventory indices, devices), in inventory order. A plain tuple: a
# named one costs a pre-commit run about 0.1 ms to define.
_Group = tuple[str, Decimal | None, tuple[int, ...], tuple[int, ...]]


def _groups(fleet: Fleet, eligible: tuple[int, ...], column: int) -> tuple[_Group, ...]:
    """``eligible`` by (region, price per GB over Wi-Fi or with the cellular share): a change
    sums its devices per group, and a scan's changes share a few targetDevices."""
    found: dict[tuple[str, Decimal | None], tuple[list[int], list[int]]] = {}
    for index in eligible:
        segment = fleet.segments[index]
        indices, devices = found.setdefault((segment.region, fleet.prices_per_gb[index][column]), ([], []))
        indices.append(index)
        devices.append(segment.devices)
    return tuple((r, p, tuple(i), tuple(d)) for (r, p), (i, d) in found.items())


# (region, new downloads, price per GB as text, sum of price x new downloads); see _region_sums
_RegionSums = tuple[str, int, str | None, Decimal | None]


class _Step:
    """The device counts of one rollout step over the fleet: what every change with the same
    targetDevices, network, percentages and artifact identity shares, whatever its size.

    A scan's changes share a few of each (the rungs of the ladder, a few targetDevices), so the
    counting runs once per step and each change only prices its bytes. Only sums are kept: the
    per-segment figures (the fallback bill, ``bySegment``) are counted again by :meth:`counted`.
    """

    __slots__ = (
        "_both",
        "_groups",
        "before",
        "by_region",
        "classes",
        "devices",
        "downloads",
        "percents",
        "reached",
        "unchanged",
    )

    def __init__(
        self,
        fleet: Fleet,
        head: Targets,
        narrowed: Targets | None,
        column: int,
        percents: tuple[Decimal | None, Decimal],
        unchanged: bool,
    ) -> None:
        eligible = eligible_segments(fleet, head)
        self._groups = fleet.memo(("groups", head.key, column), lambda: _groups(fleet, eligible, column))
        self._both = frozenset(eligible_segments(fleet, narrowed)) if narrowed is not None else None
        self.percents, self.unchanged = percents, unchanged
        self.devices, self.classes = fleet.memo(("classes", head.key), lambda: _classes(fleet, eligible))
        self.reached = self.before = self.downloads = 0
        # region -> price per GB -> new downloads at that price (None: the region has no price)
        regions: dict[str, dict[Decimal | None, int]] = {}
        for group, reached, before, downloads in self.counted():
            self.reached += sum(reached)
            self.before += sum(before)
            total = sum(downloads)
            self.downloads += total
            regions.setdefault(group[0], {})[group[1]] = total
        self.by_region = tuple(_region_sums(region, regions[region]) for region in sorted(regions))

    def counted(self) -> Iterator[tuple[_Group, list[int], list[int], list[int]]]:
        """Each group's segments: devices reached, reached before (0 without a base version), and
        new downloads, segment by segment."""
        before_percent, percent = self.percents
        for group in self._groups:
            devices = group[3]
            reached = _reached(devices, percent)
            if before_percent is None:
                before = [0] * len(reached)
            else:
                before = _reached(devices, before_percent)
                if self._both is not None:
                    before = [b if i in self._both else 0 for b, i in zip(before, group[2], strict=True)]
            # An unchanged artifact downloads only to the devices the step adds.
            downloads = (
                [a - b if a > b else 0 for a, b in zip(reached, before, strict=True)]
                if self.unchanged
                else reached
            )
            yield group, reached, before, downloads


def _region_sums(region: str, prices: Mapping[Decimal | None, int]) -> _RegionSums:
    """A region's new downloads; its one price per GB as text, when every segment of it pays the
    same (always over Wi-Fi only); and its egress per GB of the artifact, the sum of price x new
    downloads. Both None when the region has no price."""
    downloads = sum(prices.values())
    if None in prices:
        return region, downloads, None, None
    only = next(iter(prices))
    price = exact(only) if len(prices) == 1 and only is not None else None
    return region, downloads, price, sum((p * n for p, n in prices.items() if p is not None), Decimal(0))


def _classes(fleet: Fleet, eligible: tuple[int, ...]) -> tuple[int, dict[str, dict[str, int]]]:
    """The eligible devices, and per device class their devices, segments and least memory."""
    devices = 0
    classes: dict[str, dict[str, int]] = {}
    for index in eligible:
        segment = fleet.segments[index]
        devices += segment.devices
        klass = classes.setdefault(
            segment.device_class, {"devices": 0, "segments": 0, "minMemoryMB": segment.memory_mb}
        )
        klass["segments"] += 1
        klass["devices"] += segment.devices
        klass["minMemoryMB"] = min(klass["minMemoryMB"], segment.memory_mb)
    return devices, {name: classes[name] for name in sorted(classes)}


class _FallbackTally:
    """Devices reached that the model's measured peak memory does not fit, and their cloud bill."""

    def __init__(self, fleet: Fleet, measured: Measured) -> None:
        self.price = fleet.sheet.fallback_per_1k_inferences
        self.peak, self.headroom = measured.peak_memory_mb, measured.memory_headroom
        self.devices, self.amount = 0, Decimal(0)
        self.enabled = self.price is not None and self.peak is not None and self.headroom is not None

    def add(self, segment: Segment, reached: int) -> None:
        assert self.price is not None and self.peak is not None and self.headroom is not None
        daily = segment.inferences_per_day
        if daily is None or self.peak <= self.headroom * segment.memory_mb:
            return
        self.devices += reached
        self.amount += Decimal(reached) * daily * DAYS_PER_MONTH / 1000 * self.price

    def fact(self) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        assert self.peak is not None and self.headroom is not None
        return {
            "devices": self.devices,
            "amount": exact(self.amount),
            "peakMemoryMB": _number(self.peak),
            "headroom": _number(self.headroom),
        }


def _segment_row(
    segment: Segment, reached: int, before: int, downloads: int, price: Decimal | None, size: int | None
) -> dict[str, Any]:
    egress = None if price is None or size is None else Decimal(downloads) * Decimal(size) / GB * price
    return {
        "segment": segment.name,
        "platform": segment.platform,
        "region": segment.region,
        "deviceClass": segment.device_class,
        "memoryMB": segment.memory_mb,
        "devices": segment.devices,
        "reachedBefore": before,
        "reached": reached,
        "newDownloads": downloads,
        "pricePerGB": None if price is None else exact(price),
        "egress": None if egress is None else exact(egress),
    }


def _fact(
    fleet: Fleet,
    spec: Mapping[str, Any],
    step: _Step,
    size: int | None,
    size_source: str | None,
    fallback: _FallbackTally,
    rows: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The figures the policies read, and under ``report`` the breakdown for people and the log.

    The embedded engine's time grows with the size of its input, whether a rule reads it or not,
    so the breakdowns (by region, by segment, the unpriced inputs) stay out of the policy input,
    and so do rounded display strings: rule messages format the exact figures themselves
    (policies/lib/format.rego, which writes them as :mod:`fleetgate.fleet.display` does).
    """
    by_region: dict[str, dict[str, Any]] = {}
    total = Decimal(0)
    for region, downloads, price, weighted in step.by_region:
        egress = None if weighted is None or size is None else (weighted * size).scaleb(-9)
        if egress is not None:
            total += egress
        by_region[region] = {
            "newDownloads": downloads,
            "pricePerGB": price,
            "egress": exact(egress) if egress is not None else None,
            "priced": weighted is not None,
        }
    before, after = step.percents
    report: dict[str, Any] = {
        "inventory": fleet.inventory,
        "prices": fleet.prices,
        "asOf": fleet.as_of,
        "rolloutPercentage": {"before": 0 if before is None else _number(before), "after": _number(after)},
        "digestUnchanged": step.unchanged,
        "devicesEligible": step.devices,
        "bytesSource": size_source,
        "bytesDelivered": step.downloads * size if size is not None else None,
        "networkConstraint": _network(spec),
        "unpriced": _unpriced(step.by_region, step.downloads, size),
        "byRegion": by_region,
        "storagePerMonth": _storage(fleet, size, step.unchanged),
    }
    if rows is not None:
        report["bySegment"] = rows
    fact: dict[str, Any] = {
        "currency": fleet.sheet.currency,
        "devicesReachedBefore": step.before,
        "devicesReached": step.reached,
        "newDownloads": step.downloads,
        "bytesPerDownload": size,
        "egress": exact(total) if size is not None else None,
        "byClass": {name: dict(figures) for name, figures in step.classes.items()},  # copies: shared
        "report": report,
    }
    found = fallback.fact()
    if found is not None:
        fact["fallbackPerMonth"] = found
    return fact


def _unpriced(regions: tuple[_RegionSums, ...], downloads: int, size: int | None) -> list[dict[str, Any]]:
    """Inputs that could not be priced: a region with no price, an unknown size."""
    found = [
        {"input": f"egressPerGB.{region}", "newDownloads": count}
        for region, count, _, weighted in regions
        if weighted is None
    ]
    if size is None:
        found.insert(0, {"input": "sizeBytes", "newDownloads": downloads})
    return found


def _storage(fleet: Fleet, size: int | None, unchanged: bool) -> str | None:
    price = fleet.sheet.storage_per_gb_month
    if price is None or size is None:
        return None
    return exact(Decimal(0) if unchanged else Decimal(size) / GB * price)


def _reached(devices: tuple[int, ...], percent: Decimal) -> list[int]:
    """floor(devices x percent / 100) of each segment, in integers when the percentage is whole
    (the usual rung): it runs for every eligible segment of every change."""
    whole = int(percent)
    if whole == percent:
        return [count * whole // 100 for count in devices]
    return [int((Decimal(count) * percent / 100).to_integral_value(ROUND_FLOOR)) for count in devices]


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
