"""Three outcomes: insufficient is never healthy and never a breach."""

from __future__ import annotations

import datetime as dt

from fleetgate.telemetry import Reading, Series, Thresholds, assess, overall

AT = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
FRESH = AT - dt.timedelta(minutes=5)
GOOD = {
    "devicesReporting": 1200.0,
    "crashFreeRate": 0.998,
    "p95LatencyMs": 40.0,
    "batteryDrainPctPerDay": 0.4,
    "networkBytesPerDevicePerDay": 1e5,
    "loadFailures": 0.0,
}


def reading(segment: str = "s", newest: dt.datetime = FRESH, **values: float) -> Reading:
    return Reading({segment: Series(segment, {**GOOD, **values}, newest)})


def judge(current: Reading, baseline: Reading | None = None) -> dict[str, object]:
    [segment] = assess(current, baseline, Thresholds(), AT)
    return segment


def test_healthy_against_the_previous_version() -> None:
    segment = judge(reading(batteryDrainPctPerDay=0.43), reading())
    assert segment["outcome"] == "healthy"
    assert segment["baseline"] == GOOD


def test_each_breach_is_reported_with_threshold_and_baseline() -> None:
    segment = judge(reading(crashFreeRate=0.97, p95LatencyMs=60.0, loadFailures=6.0), reading())
    assert segment["outcome"] == "breach"
    assert {b["metric"]: b["baseline"] for b in segment["breaches"]} == {  # type: ignore[attr-defined]
        "crashFreeRate": 0.998,
        "loadFailureRate": 0.0,
        "p95LatencyMs": 40.0,
    }


def test_too_few_devices_is_insufficient_even_when_values_breach() -> None:
    segment = judge(reading(devicesReporting=40.0, crashFreeRate=0.5), reading())
    assert segment["outcome"] == "insufficient"
    assert segment["breaches"] == []
    assert segment["reasons"] == ["40 devices reporting, fewer than the minimum of 100"]


def test_a_baseline_missing_in_the_segment_is_insufficient() -> None:
    segment = judge(reading("s"), reading("other"))
    assert segment["outcome"] == "insufficient"
    assert segment["reasons"] == ["baseline: the previous version reports nothing in this segment"]


def test_a_first_version_is_judged_on_absolute_limits_only() -> None:
    assert judge(reading(batteryDrainPctPerDay=9.0))["outcome"] == "healthy"
    assert judge(reading(crashFreeRate=0.9))["outcome"] == "breach"


def test_a_zero_baseline_still_catches_a_rise() -> None:
    segment = judge(reading(batteryDrainPctPerDay=0.1), reading(batteryDrainPctPerDay=0.0))
    assert segment["outcome"] == "breach"


def test_overall_outcome() -> None:
    healthy, breach = judge(reading()), judge(reading(crashFreeRate=0.5))
    insufficient = judge(reading(newest=AT - dt.timedelta(hours=5)))
    assert overall([healthy], ()) == "healthy"
    assert overall([healthy, insufficient], ()) == "insufficient"
    assert overall([insufficient, breach], ()) == "breach"
    assert overall([], ()) == "insufficient"
    assert overall([healthy], ("a series has no version label",)) == "insufficient"


def test_thresholds_come_from_policy_data() -> None:
    limits = Thresholds.from_data({"minDevicesReporting": 10, "maxBatteryDrainRatio": 2, "other": 1})
    assert (limits.min_devices, limits.max_battery_drain_ratio) == (10, 2)
    assert Thresholds.from_data({"minCrashFreeRate": "high"}).min_crash_free_rate == 0.99
