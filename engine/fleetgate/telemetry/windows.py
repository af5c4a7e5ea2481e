"""When a breach counts for ``watch``: N consecutive windows, beside a total limit. Pure: no I/O.

``watch`` judges the windows ending now, now - ``windowMinutes``, ... (window 0 is the newest).
A segment's breach counts when

* it breached in each of the ``breachWindows`` newest windows (consecutive), or
* it breached in at least ``totalBreachWindows`` of the ``totalWindows`` newest windows, in any
  order (a total limit: a segment that flaps between bad and good never shows N in a row, but
  is bad most of the time). Off unless both are set.

A breach now that meets neither is not yet evidence either way: the segment is insufficient,
never healthy, and nothing is remediated for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgate.telemetry.fields import is_number

__all__ = ["Persistence", "lasting"]


@dataclass(frozen=True)
class Persistence:
    windows: int = 1  # breachWindows
    minutes: float = 60.0  # windowMinutes
    total_windows: int = 0  # totalWindows (0: no total limit)
    total_limit: int = 0  # totalBreachWindows (0: no total limit)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Persistence:
        def whole(key: str, default: int, least: int) -> int:
            value = data.get(key, default)
            return max(int(value), least) if is_number(value) else default

        minutes = data.get("windowMinutes", cls.minutes)
        return cls(
            windows=whole("breachWindows", cls.windows, 1),
            minutes=float(minutes) if is_number(minutes) and minutes > 0 else cls.minutes,
            total_windows=whole("totalWindows", cls.total_windows, 0),
            total_limit=whole("totalBreachWindows", cls.total_limit, 0),
        )

    @property
    def counts_total(self) -> bool:
        return self.total_windows > 0 and 0 < self.total_limit <= self.total_windows

    @property
    def read(self) -> int:
        """How many windows must be judged."""
        return max(self.windows, self.total_windows if self.counts_total else 0)


def lasting(
    found: Sequence[Sequence[Mapping[str, Any]]], rules: Persistence
) -> tuple[list[dict[str, Any]], list[str]]:
    """The breaches that count, from the breaches of each window (newest first); and, for each
    segment that breaches now without counting, why it does not count yet."""
    breached = [{b["segment"] for b in window} for window in found]
    consecutive = set.intersection(*breached[: rules.windows]) if breached else set()
    counts: dict[str, int] = {}
    for window in breached[: rules.total_windows] if rules.counts_total else []:
        for segment in window:
            counts[segment] = counts.get(segment, 0) + 1
    total = {s for s, n in counts.items() if n >= rules.total_limit} - consecutive
    counted = []
    for segment in sorted(consecutive | total):
        newest = next(window for window in found if any(b["segment"] == segment for b in window))
        extra = (
            {"windows": rules.windows}
            if segment in consecutive
            else {"breachedWindows": counts[segment], "totalWindows": rules.total_windows}
        )
        counted += [{**b, **extra} for b in newest if b["segment"] == segment]
    reasons = []
    for segment in sorted(breached[0] - consecutive - total if breached else set()):
        why = f"all {rules.windows} consecutive windows of {rules.minutes:g} minutes"
        if rules.counts_total:
            why += f", nor in {rules.total_limit} of the last {rules.total_windows}"
        reasons.append(f"{segment}: a breach now, but not in {why}")
    return counted, reasons
