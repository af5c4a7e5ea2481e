"""The trailing-baseline test: each segment against its own median and MAD over the last hours."""

from __future__ import annotations

import math
import random
from typing import Any

from fleetgate.telemetry.anomaly import AnomalyTest, anomalies
from fleetgate.telemetry.interface import History
from fleetgate.telemetry.trailing import TRAILING_METRICS, TrailingTest, trailing_anomalies

LEVELS = {"batteryDrainPctPerDay": 0.4, "p95LatencyMs": 41.0, "crashFreeRate": 0.998}
NOW = 1_800_000_000.0
HOUR = 3600.0


def _value(metric: str, level: float, when: float, rng: random.Random) -> float:
    """Realistic noise: 2 % Gaussian (crash-free rate: +-0.03 points), p95 latency with a +-5 %
    daily cycle (battery drain is a rate per day: no cycle)."""
    if metric == "crashFreeRate":
        return min(1.0, level + rng.gauss(0, 0.0003))
    cycle = 1 + (0.05 if metric == "p95LatencyMs" else 0.0) * math.sin(2 * math.pi * (when % 86400) / 86400)
    return level * cycle * (1 + rng.gauss(0, 0.02))


def deployment(
    segments: int, rng: random.Random, regressed: int | None = None, hours: int = 24, newest: int = 1
) -> tuple[list[dict[str, Any]], History]:
    """Judged segments (current and previous version) and the current version's trailing history."""
    judged, points = [], {}
    for n in range(segments):
        name = f"seg-{n:02d}"
        now = {m: _value(m, v, NOW, rng) for m, v in LEVELS.items()}
        if n == regressed:
            now["batteryDrainPctPerDay"] *= 1.375  # 0.40 -> 0.55 % a day
        before = {m: _value(m, v, NOW, rng) for m, v in LEVELS.items()}
        judged.append({"segment": name, "outcome": "healthy", "values": now, "baseline": before})
        points[name] = {
            m: tuple(
                (NOW - k * HOUR, _value(m, v, NOW - k * HOUR, rng)) for k in range(hours, newest - 1, -1)
            )
            for m, v in LEVELS.items()
        }
    return judged, History(points)


def both_tests(segments: list[dict[str, Any]], history: History) -> set[str]:
    against_previous, _ = anomalies(segments, AnomalyTest())
    against_own, _ = trailing_anomalies(segments, history, TrailingTest(), NOW)
    return set(against_previous) | set(against_own)


def test_a_battery_regression_in_one_segment_of_twenty_is_found_and_the_others_left_alone() -> None:
    rng = random.Random(12)
    for regressed in range(20):
        segments, history = deployment(20, rng, regressed=regressed)
        found, untested = trailing_anomalies(segments, history, TrailingTest(), NOW)
        assert untested == {}
        assert list(found) == [f"seg-{regressed:02d}"]
        [finding] = found[f"seg-{regressed:02d}"]
        assert finding["metric"] == "batteryDrainPctPerDay" and finding["samples"] == 24
        assert both_tests(segments, history) == {f"seg-{regressed:02d}"}


def test_fifty_healthy_noisy_deployments_raise_no_false_alarm() -> None:
    # 50 deployments x 20 segments of healthy telemetry with a daily cycle and noise, through
    # both robust tests: the number of segments flagged is measured, and must be zero.
    rng = random.Random(2026)
    flagged = [s for _ in range(50) for s in both_tests(*deployment(20, rng))]
    assert flagged == []


def test_too_little_history_is_untested_never_healthy() -> None:
    segments, history = deployment(3, random.Random(4), regressed=1, hours=11)
    found, untested = trailing_anomalies(segments, history, TrailingTest(), NOW)
    assert found == {}
    assert untested["seg-01"] == (
        "no trailing baseline: 11 points of batteryDrainPctPerDay in the last 24 hours, "
        "fewer than the 12 the test needs"
    )
    assert set(untested) == {"seg-00", "seg-01", "seg-02"}


def test_points_outside_the_trailing_window_do_not_count() -> None:
    # History from 30 hours ago up to the judged moment itself: the trailing window of 6 hours
    # holds now - 6 h ... now - 1 h, never the judged window's own point.
    segments, history = deployment(1, random.Random(5), hours=30, newest=0)
    found, untested = trailing_anomalies(segments, history, TrailingTest(hours=6, min_samples=7), NOW)
    assert "6 points of batteryDrainPctPerDay in the last 6 hours" in untested["seg-00"]
    found, untested = trailing_anomalies(segments, history, TrailingTest(hours=6, min_samples=6), NOW)
    assert untested == {} and found == {}


def test_a_source_without_history_leaves_every_judged_segment_untested() -> None:
    segments, _ = deployment(2, random.Random(6))
    segments[1]["outcome"] = "insufficient"  # already unjudgeable: not reported twice
    found, untested = trailing_anomalies(segments, None, TrailingTest(), NOW)
    assert found == {} and list(untested) == ["seg-00"]


def test_a_trailing_answer_with_problems_is_no_baseline() -> None:
    segments, history = deployment(2, random.Random(8), regressed=0)
    mixed = History(history.points, problems=("a series has version 3.2.0, not version 3.2.1: q",))
    found, untested = trailing_anomalies(segments, mixed, TrailingTest(), NOW)
    assert found == {}
    assert untested["seg-00"] == "no trailing baseline: a series has version 3.2.0, not version 3.2.1: q"


def test_a_crash_rate_rise_is_judged_as_a_difference() -> None:
    segments, history = deployment(1, random.Random(7))
    segments[0]["values"]["crashFreeRate"] = 0.990  # 0.2 % -> 1.0 % of sessions crash
    found, _ = trailing_anomalies(segments, history, TrailingTest(), NOW)
    [finding] = found["seg-00"]
    assert finding["metric"] == "crashRate" and finding["z"] > 6


def test_settings_come_from_the_telemetry_data() -> None:
    assert TrailingTest.from_data({"trailingHours": 48, "minTrailingSamples": 30}) == TrailingTest(48, 30)
    assert TrailingTest.from_data({"trailingHours": "x", "minTrailingSamples": True}) == TrailingTest()
    assert set(TRAILING_METRICS) == set(LEVELS)
