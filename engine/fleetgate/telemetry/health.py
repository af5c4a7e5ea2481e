"""Judge each segment: healthy, breach or insufficient (SPEC section 12). Pure: no I/O.

Three outcomes, not two. ``insufficient`` (too few devices, stale or missing data, NaN, a
duplicate series, no baseline where the previous version exists) is never read as healthy and
never counted as a breach: the promotion waits, and ``watch`` does not roll back on it.

The baseline is the previous version in the same segment and the same window (a concurrent
control): a battery drain that rises for everyone on one day does not fail the new version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgate.telemetry.interface import Reading, Series

__all__ = ["Thresholds", "assess", "overall"]


@dataclass(frozen=True)
class Thresholds:
    """``data.fleetgate.config.telemetry`` (defaults in policies/data.yaml)."""

    min_devices: float = 100
    max_staleness_minutes: float = 120
    min_crash_free_rate: float = 0.99
    max_battery_drain_ratio: float = 1.10
    max_p95_latency_ratio: float = 1.15
    max_load_failure_rate: float = 0.001

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Thresholds:
        def number(key: str, default: float) -> float:
            value = data.get(key, default)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default

        return cls(
            min_devices=number("minDevicesReporting", cls.min_devices),
            max_staleness_minutes=number("maxStalenessMinutes", cls.max_staleness_minutes),
            min_crash_free_rate=number("minCrashFreeRate", cls.min_crash_free_rate),
            max_battery_drain_ratio=number("maxBatteryDrainRatio", cls.max_battery_drain_ratio),
            max_p95_latency_ratio=number("maxP95LatencyRatio", cls.max_p95_latency_ratio),
            max_load_failure_rate=number("maxLoadFailureRate", cls.max_load_failure_rate),
        )


def assess(
    current: Reading, baseline: Reading | None, limits: Thresholds, at: dt.datetime
) -> list[dict[str, Any]]:
    """One entry per segment the current version reports in, sorted by segment."""
    judged = []
    for segment in sorted(current.series):
        series = current.series[segment]
        previous = baseline.series.get(segment) if baseline is not None else None
        reasons = [*current.problems, *series.problems, *_freshness(series, limits, at)]
        reasons += _devices(series, limits)
        if baseline is not None:
            reasons += [f"baseline: {p}" for p in (*baseline.problems, *_baseline_problems(previous))]
        breaches = [] if reasons else _breaches(series, previous, limits)
        outcome = "insufficient" if reasons else "breach" if breaches else "healthy"
        judged.append(
            {
                "segment": segment,
                "outcome": outcome,
                "values": dict(series.values),
                "newestSample": _iso(series.newest_sample),
                "ageMinutes": _age(series, at),
                "baseline": dict(previous.values) if previous is not None else None,
                "breaches": breaches,
                "reasons": reasons,
            }
        )
    return judged


def overall(segments: list[dict[str, Any]], problems: tuple[str, ...]) -> str:
    """Breach if any segment breaches; else insufficient if any is (or none reported); else healthy."""
    outcomes = {s["outcome"] for s in segments}
    if "breach" in outcomes:
        return "breach"
    if not segments or problems or "insufficient" in outcomes:
        return "insufficient"
    return "healthy"


def _freshness(series: Series, limits: Thresholds, at: dt.datetime) -> list[str]:
    age = _age(series, at)
    if age is None or age <= limits.max_staleness_minutes:
        return []
    return [
        f"the newest sample is {age:g} minutes old, older than the limit of {limits.max_staleness_minutes:g}"
    ]


def _devices(series: Series, limits: Thresholds) -> list[str]:
    devices = series.values.get("devicesReporting")
    if devices is None or devices >= limits.min_devices:
        return []
    return [f"{devices:g} devices reporting, fewer than the minimum of {limits.min_devices:g}"]


def _baseline_problems(previous: Series | None) -> list[str]:
    if previous is None:
        return ["the previous version reports nothing in this segment"]
    return [p for p in previous.problems if "newestSample" not in p]


def _breaches(series: Series, previous: Series | None, limits: Thresholds) -> list[dict[str, Any]]:
    values = series.values
    before = previous.values if previous is not None else None
    found = []
    if values["crashFreeRate"] < limits.min_crash_free_rate:
        base = before["crashFreeRate"] if before is not None else None
        found.append(_breach("crashFreeRate", values["crashFreeRate"], limits.min_crash_free_rate, base))
    rate = _load_failure_rate(values)
    if rate > limits.max_load_failure_rate:
        base = _load_failure_rate(before) if before is not None else None
        found.append(_breach("loadFailureRate", rate, limits.max_load_failure_rate, base))
    if before is None:
        return found  # a first version has no baseline: only the absolute limits apply
    for metric, limit in (
        ("batteryDrainPctPerDay", limits.max_battery_drain_ratio),
        ("p95LatencyMs", limits.max_p95_latency_ratio),
    ):
        # A zero baseline makes any rise infinite: compare against the smallest measurable value.
        ratio = values[metric] / max(before[metric], 1e-9)
        if ratio > limit:
            found.append({**_breach(metric, values[metric], limit, before[metric]), "ratio": round(ratio, 4)})
    return found


def _load_failure_rate(values: Mapping[str, float]) -> float:
    devices = values["devicesReporting"]
    return values["loadFailures"] / devices if devices > 0 else 0.0


def _breach(metric: str, measured: float, threshold: float, base: float | None) -> dict[str, Any]:
    shown = round(base, 6) if base is not None else None
    return {"metric": metric, "measured": round(measured, 6), "threshold": threshold, "baseline": shown}


def _age(series: Series, at: dt.datetime) -> float | None:
    if series.newest_sample is None:
        return None
    return round(max(0.0, (at - series.newest_sample).total_seconds() / 60), 1)


def _iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None
