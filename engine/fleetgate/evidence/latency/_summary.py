"""Turn the repeats' raw timings into the numbers of the latency fact."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from fleetgate.evidence.latency._runner import RepeatResult

__all__ = ["percentile", "summarize"]

_DIGITS = 3


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(repeats: Sequence[RepeatResult]) -> dict[str, Any]:
    """The median over repeats of each repeat's p50/p95/p99, the p50 spread and the peak memory
    (of the repeats that measured one).

    ``spread`` is (max - min of the repeats' p50) / median p50: how far apart fresh processes
    landed, which tells a reader how much a difference between two numbers can be trusted.
    """
    per_repeat = [{q: percentile(r.timings_ms, q) for q in (50, 95, 99)} for r in repeats]
    p50s = [p[50] for p in per_repeat]
    median_p50 = statistics.median(p50s)
    spread = (max(p50s) - min(p50s)) / median_p50 if median_p50 > 0 else 0.0
    summary = {
        "p50_ms": round(median_p50, _DIGITS),
        "p95_ms": round(statistics.median(p[95] for p in per_repeat), _DIGITS),
        "p99_ms": round(statistics.median(p[99] for p in per_repeat), _DIGITS),
        "spread": round(spread, _DIGITS),
        "repeat_p50_ms": [round(p, _DIGITS) for p in p50s],
    }
    peaks = [r.peak_memory_mb for r in repeats if r.peak_memory_mb is not None]
    if peaks:  # only a model loaded first in its process has a peak of its own
        summary["peak_memory_mb"] = round(max(peaks), _DIGITS)
    return summary
