"""The fleet as the cost arithmetic sees it: device segments and one price sheet.

Amounts are :class:`~decimal.Decimal` read from the YAML text of the number, never through a
binary float, so ``0.085`` per GB is exactly 0.085.

:class:`Segment` is a named tuple and the others plain classes, not frozen dataclasses: this
module loads on the commit hook's path whenever ``fleet:`` is configured, and building a frozen
dataclass costs about half a millisecond at import (the five of the cost fact were a fifth of
what it added to a pre-commit run). None of them is changed once built.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

__all__ = ["DEVICE_CLASSES", "Fleet", "FleetMissing", "PriceSheet", "Segment"]

_T = TypeVar("_T")

# Device classes from the least to the most capable.
DEVICE_CLASSES = ("low", "mid", "high")


class Segment(NamedTuple):
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


class PriceSheet:
    """What delivering and keeping a model costs, in one ISO 4217 currency (GB = 10^9 bytes).

    Read-only once built; ``egress_per_gb`` is a read-only view.
    """

    __slots__ = (
        "cellular_surcharge_per_gb",
        "currency",
        "egress_per_gb",
        "fallback_per_1k_inferences",
        "storage_per_gb_month",
    )

    def __init__(
        self,
        currency: str,
        egress_per_gb: Mapping[str, Decimal],
        cellular_surcharge_per_gb: Decimal = Decimal(0),
        storage_per_gb_month: Decimal | None = None,
        fallback_per_1k_inferences: Decimal | None = None,
    ) -> None:
        self.currency = currency
        self.egress_per_gb: Mapping[str, Decimal] = MappingProxyType(dict(egress_per_gb))
        self.cellular_surcharge_per_gb = cellular_surcharge_per_gb
        self.storage_per_gb_month = storage_per_gb_month
        self.fallback_per_1k_inferences = fallback_per_1k_inferences

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.currency,
            dict(self.egress_per_gb),
            self.cellular_surcharge_per_gb,
            self.storage_per_gb_month,
            self.fallback_per_1k_inferences,
        )

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if isinstance(other, PriceSheet) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PriceSheet({self.currency!r}, {len(self.egress_per_gb)} regions)"


class Fleet:
    """The inventory and the price sheet of the trusted revision, with the paths they came from.

    Read-only once built: every change of a check is priced against the same fleet.
    """

    __slots__ = ("_memo", "as_of", "inventory", "prices", "prices_per_gb", "segments", "sheet")

    def __init__(
        self,
        inventory: str,
        prices: str,
        segments: tuple[Segment, ...],
        sheet: PriceSheet,
        as_of: str | None = None,
    ) -> None:
        self.inventory, self.prices, self.segments, self.sheet, self.as_of = (
            inventory,
            prices,
            segments,
            sheet,
            as_of,
        )
        # Per segment, the price per GB over Wi-Fi and with the cellular share (None: region not
        # priced): computed once, because every change of a scan is priced against every segment.
        self.prices_per_gb = _prices_per_gb(segments, sheet)
        # What the cost arithmetic derives from the segments alone, by key; see memo().
        self._memo: dict[Hashable, Any] = {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fleet):
            return NotImplemented
        mine = (self.inventory, self.prices, self.segments, self.sheet, self.as_of)
        return mine == (other.inventory, other.prices, other.segments, other.sheet, other.as_of)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Fleet({self.inventory!r}, {self.prices!r}, {len(self.segments)} segments)"

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, once per ``key`` for this fleet (callers leave the result unchanged)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: _T = self._memo[key]
        return found


def _prices_per_gb(
    segments: tuple[Segment, ...], sheet: PriceSheet
) -> tuple[tuple[Decimal | None, Decimal | None], ...]:
    # Segments share few (region, Wi-Fi share) pairs: each pair's price is computed once.
    known: dict[tuple[str, Decimal], tuple[Decimal | None, Decimal | None]] = {}
    prices = []
    for segment in segments:
        pair = (segment.region, segment.wifi_share)
        if pair not in known:
            price = sheet.egress_per_gb.get(segment.region)
            surcharge = (1 - segment.wifi_share) * sheet.cellular_surcharge_per_gb
            known[pair] = (price, None if price is None else price + surcharge)
        prices.append(known[pair])
    return tuple(prices)


class FleetMissing:
    """``fleet:`` names a file the trusted revision does not have: the cost fact is absent."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
