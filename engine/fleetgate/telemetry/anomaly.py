"""A robust anomaly test across segments: which segment regressed against its own control?

Method: for each metric, the ratio of the current version to the previous version in the same
segment and window (crashes as the crash rate, 1 - crash-free rate). Across the deployment's
judged segments, the median ratio is the deployment-wide shift (a bad day for every device)
and the median absolute deviation (MAD, scaled by 1.4826 to estimate a standard deviation) its
spread. A segment is anomalous when its robust z-score ``(ratio - median) / (1.4826 * MAD)``
is above ``z`` *and* the ratio itself is at least ``min_effect`` (noise around 1.00 is never
a regression). The spread has a floor (``min_scale``), so near-identical segments do not make
a tiny deviation look extreme.

Too little data is never read as healthy: with fewer than ``min_segments`` judged segments
the test is not applied and says so; the SLO thresholds still apply to every segment.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["AnomalyTest", "anomalies"]

_METRICS = ("batteryDrainPctPerDay", "p95LatencyMs", "crashRate")


@dataclass(frozen=True)
class AnomalyTest:
    z: float = 4.0
    min_effect: float = 1.05
    min_segments: int = 8
    min_scale: float = 0.02


def anomalies(
    segments: Sequence[Mapping[str, Any]], test: AnomalyTest
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Anomalous segments with their findings, and why the test was not applied (or ``None``)."""
    judged = [s for s in segments if s["outcome"] != "insufficient" and s.get("baseline")]
    if len(judged) < test.min_segments:
        return (
            {},
            f"{len(judged)} segments with a baseline, fewer than the {test.min_segments} it needs",
        )
    found: dict[str, list[dict[str, Any]]] = {}
    for metric in _METRICS:
        ratios = {s["segment"]: _ratio(metric, s["values"], s["baseline"]) for s in judged}
        median = statistics.median(ratios.values())
        mad = statistics.median(abs(r - median) for r in ratios.values())
        scale = max(1.4826 * mad, test.min_scale)
        for segment, ratio in ratios.items():
            score = (ratio - median) / scale
            if score > test.z and ratio >= test.min_effect:
                found.setdefault(segment, []).append(
                    {
                        "metric": metric,
                        "ratio": round(ratio, 4),
                        "median": round(median, 4),
                        "z": round(score, 2),
                    }
                )
    return found, None


def _ratio(metric: str, values: Mapping[str, float], baseline: Mapping[str, float]) -> float:
    if metric == "crashRate":
        current, before = 1 - values["crashFreeRate"], 1 - baseline["crashFreeRate"]
        return current / max(before, 1e-4)
    return values[metric] / max(baseline[metric], 1e-9)
