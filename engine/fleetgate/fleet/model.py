"""The fleet as the cost arithmetic sees it: device segments and one price sheet.

Amounts are :class:`~decimal.Decimal` read from the YAML text of the number, never through a
binary float, so ``0.085`` per GB is exactly 0.085.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = ["DEVICE_CLASSES", "Fleet", "FleetMissing", "PriceSheet", "Segment"]

_T = TypeVar("_T")

# Device classes from the least to the most capable.
DEVICE_CLASSES = ("low", "mid", "high")


@dataclass(frozen=True)
class Segment:
    """One bucket of the inventory: devices of one platform, OS, memory, region and class."""

    name: str
    platform: str  # "android" | "ios"
    memory_mb: int
    region: str
    device_class: str
    devices: int
    api_level: int | None = None  # android
    os_version: tuple[int, int, int] | None = None  # ios, padded: "17.4" is (17, 4, 0)
    wifi_share: Decimal = Decimal(1)
    inferences_per_day: Decimal | None = None


@dataclass(frozen=True)
class PriceSheet:
    """What delivering and keeping a model costs, in one ISO 4217 currency (GB = 10^9 bytes)."""

    currency: str
    egress_per_gb: Mapping[str, Decimal]
    cellular_surcharge_per_gb: Decimal = Decimal(0)
    storage_per_gb_month: Decimal | None = None
    fallback_per_1k_inferences: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "egress_per_gb", MappingProxyType(dict(self.egress_per_gb)))


@dataclass(frozen=True)
class Fleet:
    """The inventory and the price sheet of the trusted revision, with the paths they came from."""

    inventory: str
    prices: str
    segments: tuple[Segment, ...]
    sheet: PriceSheet
    as_of: str | None = None
    # Per segment, the price per GB over Wi-Fi and with the cellular share (None: region not
    # priced): computed once, because every change of a scan is priced against every segment.
    prices_per_gb: tuple[tuple[Decimal | None, Decimal | None], ...] = field(
        init=False, compare=False, repr=False
    )
    # What the cost arithmetic derives from the segments alone, by key; see memo().
    _memo: dict[Hashable, Any] = field(init=False, compare=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        sheet = self.sheet
        # Segments share few (region, Wi-Fi share) pairs: each pair's price is computed once.
        known: dict[tuple[str, Decimal], tuple[Decimal | None, Decimal | None]] = {}
        prices = []
        for segment in self.segments:
            pair = (segment.region, segment.wifi_share)
            if pair not in known:
                price = sheet.egress_per_gb.get(segment.region)
                surcharge = (1 - segment.wifi_share) * sheet.cellular_surcharge_per_gb
                known[pair] = (price, None if price is None else price + surcharge)
            prices.append(known[pair])
        object.__setattr__(self, "prices_per_gb", tuple(prices))

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, once per ``key`` for this fleet (callers leave the result unchanged)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: _T = self._memo[key]
        return found


@dataclass(frozen=True)
class FleetMissing:
    """``fleet:`` names a file the trusted revision does not have: the cost fact is absent."""

    reason: str
