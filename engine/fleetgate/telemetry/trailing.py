"""The deployment's own trailing baseline: has a segment moved away from its own recent past?

The second robust test of ``watch`` beside :mod:`fleetgate.telemetry.anomaly` (which compares
each segment with the previous version). Method, per segment of the current version and per
metric (battery drain, p95 latency, crash rate = 1 - crash-free rate):

* the trailing window is the ``hours`` before the window being judged, one point per window
  (``windowMinutes``), the judged window itself excluded;
* its median is the segment's own normal level, its median absolute deviation (MAD, scaled by
  1.4826 to estimate a standard deviation) the normal spread, with a floor (2 % of the median for
  battery and latency, 0.1 percentage point for the crash rate) so a flat history does not make a
  tiny change extreme;
* the segment is an anomaly when the judged value's robust z-score
  ``(value - median) / max(1.4826 * MAD, floor)`` is above ``z`` *and* the change is material:
  at least ``min_ratio`` times the median, or a crash rate ``min_crash_increase`` higher.

Too little data is never read as healthy: a segment with fewer than ``min_samples`` points for a
metric in its trailing window (a new version, a source that keeps no history such as a snapshot)
is not tested, and the reason makes it ``insufficient``.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetgate.telemetry.fields import is_number
from fleetgate.telemetry.interface import History

__all__ = ["TRAILING_METRICS", "TrailingTest", "trailing_anomalies"]

# The metrics the test reads from the source, and how each becomes the value judged.
TRAILING_METRICS = ("batteryDrainPctPerDay", "p95LatencyMs", "crashFreeRate")
_JUDGED = {
    "batteryDrainPctPerDay": "batteryDrainPctPerDay",
    "p95LatencyMs": "p95LatencyMs",
    "crashFreeRate": "crashRate",
}


@dataclass(frozen=True)
class TrailingTest:
    hours: float = 24.0
    min_samples: int = 12
    z: float = 6.0
    min_ratio: float = 1.05
    min_crash_increase: float = 0.005  # half a percentage point of sessions

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TrailingTest:
        hours, samples = data.get("trailingHours", cls.hours), data.get("minTrailingSamples", cls.min_samples)
        return cls(
            hours=float(hours) if is_number(hours) and hours > 0 else cls.hours,
            min_samples=max(int(samples), 3) if is_number(samples) else cls.min_samples,
        )


def trailing_anomalies(
    segments: Sequence[Mapping[str, Any]], history: History | None, test: TrailingTest, before: float
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Anomalous segments with their findings, and why each untested segment was not tested.

    ``before`` is the start of the judged window (unix time): the trailing window is
    ``[before - hours, before)``.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    untested: dict[str, str] = {}
    for segment in segments:
        if segment["outcome"] == "insufficient":
            continue  # already cannot be judged, for its own reasons
        name = segment["segment"]
        if history is None:
            untested[name] = "no trailing baseline: the source keeps no history (a snapshot is one moment)"
            continue
        if history.problems:  # an answer that mixes versions or lacks labels is no baseline
            untested[name] = f"no trailing baseline: {history.problems[0]}"
            continue
        points = history.points.get(name, {})
        for metric in TRAILING_METRICS:
            past = [v for t, v in points.get(metric, ()) if before - test.hours * 3600 <= t < before]
            if len(past) < test.min_samples:
                untested[name] = (
                    f"no trailing baseline: {len(past)} points of {metric} in the last {test.hours:g} hours, "
                    f"fewer than the {test.min_samples} the test needs"
                )
                found.pop(name, None)
                break
            finding = _judge(metric, segment["values"][metric], past, test)
            if finding is not None:
                found.setdefault(name, []).append(finding)
    return found, untested


def _judge(metric: str, value: float, past: list[float], test: TrailingTest) -> dict[str, Any] | None:
    if metric == "crashFreeRate":
        value, past = 1 - value, [1 - v for v in past]
    median = statistics.median(past)
    mad = statistics.median(abs(v - median) for v in past)
    floor = 0.001 if metric == "crashFreeRate" else 0.02 * abs(median)
    score = (value - median) / max(1.4826 * mad, floor, 1e-12)
    if metric == "crashFreeRate":
        material = value - median >= test.min_crash_increase
    else:
        material = value >= test.min_ratio * median
    if score <= test.z or not material:
        return None
    return {
        "metric": _JUDGED[metric],
        "measured": round(value, 6),
        "trailingMedian": round(median, 6),
        "z": round(score, 2),
        "samples": len(past),
    }
