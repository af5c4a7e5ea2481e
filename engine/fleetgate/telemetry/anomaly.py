"""A robust anomaly test across segments: which segment regressed against its own control?

Method: for each metric, each segment's change against the previous version in the same segment
and window: the ratio for battery drain and p95 latency, the difference in crash rate
(1 - crash-free rate; small and noisy, so a ratio of two small numbers would be mostly noise).
Across the deployment's judged segments, the median change is the shift every device shares
(a bad day for everyone), and the median absolute deviation (MAD, scaled by 1.4826 to estimate a
standard deviation) its spread. A segment is anomalous when its robust z-score
``(change - median) / (1.4826 * MAD)`` is above ``z`` *and* the change itself is material: a
ratio of at least ``min_ratio``, or a crash rate at least ``min_crash_increase`` higher. The
spread has a floor per metric, so near-identical segments do not make a tiny deviation extreme.

Too little data is never read as healthy: with fewer than ``min_segments`` judged segments the
test is not applied and says so; the SLO thresholds still apply to every segment.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AnomalyTest", "anomalies"]

Change = Callable[[Mapping[str, float], Mapping[str, float]], float]


@dataclass(frozen=True)
class AnomalyTest:
    z: float = 6.0
    min_ratio: float = 1.05
    min_crash_increase: float = 0.005  # half a percentage point of sessions
    min_segments: int = 8


def _ratio(metric: str) -> Change:
    return lambda now, before: now[metric] / max(before[metric], 1e-9)


def _crash_increase(now: Mapping[str, float], before: Mapping[str, float]) -> float:
    return before["crashFreeRate"] - now["crashFreeRate"]


def anomalies(
    segments: Sequence[Mapping[str, Any]], test: AnomalyTest
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Anomalous segments with their findings, and why the test was not applied (or ``None``)."""
    judged = [s for s in segments if s["outcome"] != "insufficient" and s.get("baseline")]
    if len(judged) < test.min_segments:
        return {}, f"{len(judged)} segments with a baseline, fewer than the {test.min_segments} it needs"
    checks: tuple[tuple[str, Change, float, float], ...] = (
        ("batteryDrainPctPerDay", _ratio("batteryDrainPctPerDay"), test.min_ratio, 0.02),
        ("p95LatencyMs", _ratio("p95LatencyMs"), test.min_ratio, 0.02),
        ("crashRate", _crash_increase, test.min_crash_increase, 0.001),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for metric, change, material, floor in checks:
        changes = {s["segment"]: change(s["values"], s["baseline"]) for s in judged}
        median = statistics.median(changes.values())
        scale = max(1.4826 * statistics.median(abs(c - median) for c in changes.values()), floor)
        for segment, value in changes.items():
            score = (value - median) / scale
            if score > test.z and value >= material:
                kind = "increase" if metric == "crashRate" else "ratio"
                found.setdefault(segment, []).append(
                    {
                        "metric": metric,
                        kind: round(value, 4),
                        "median": round(median, 4),
                        "z": round(score, 2),
                    }
                )
    return found, None
