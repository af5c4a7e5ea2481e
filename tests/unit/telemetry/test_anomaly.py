"""The robust anomaly test: median and MAD of each segment's ratio to the previous version."""

from __future__ import annotations

import random
from typing import Any

from fleetgate.telemetry.anomaly import AnomalyTest, anomalies

BASE = {"batteryDrainPctPerDay": 0.4, "p95LatencyMs": 40.0, "crashFreeRate": 0.998}


def segment(n: int, rng: random.Random, battery: float = 1.0) -> dict[str, Any]:
    values = {k: v * (1 + rng.gauss(0, 0.02)) for k, v in BASE.items()}
    values["crashFreeRate"] = 0.998 + rng.gauss(0, 0.0003)
    values["batteryDrainPctPerDay"] *= battery
    return {"segment": f"s{n}", "outcome": "healthy", "values": values, "baseline": dict(BASE)}


def test_one_regressed_segment_stands_out() -> None:
    rng = random.Random(3)
    segments = [segment(n, rng, battery=1.3 if n == 4 else 1.0) for n in range(20)]
    found, skipped = anomalies(segments, AnomalyTest())
    assert skipped is None
    assert list(found) == ["s4"]
    [finding] = found["s4"]
    assert finding["metric"] == "batteryDrainPctPerDay" and finding["z"] > 4


def test_a_shift_every_segment_shares_is_not_an_anomaly() -> None:
    rng = random.Random(5)
    segments = [segment(n, rng, battery=1.3) for n in range(20)]
    assert anomalies(segments, AnomalyTest()) == ({}, None)


def test_identical_segments_with_a_small_rise_are_not_anomalies() -> None:
    # MAD is 0 here: the floor on the spread keeps a 4 % rise from looking extreme.
    segments = [
        {"segment": f"s{n}", "outcome": "healthy", "values": dict(BASE), "baseline": dict(BASE)}
        for n in range(10)
    ]
    segments[0]["values"] = {**BASE, "batteryDrainPctPerDay": 0.416}
    assert anomalies(segments, AnomalyTest()) == ({}, None)


def test_too_few_segments_and_insufficient_ones_do_not_count() -> None:
    rng = random.Random(1)
    segments = [segment(n, rng) for n in range(9)]
    for s in segments[:2]:
        s["outcome"] = "insufficient"
    found, skipped = anomalies(segments, AnomalyTest())
    assert found == {}
    assert skipped == "7 segments with a baseline, fewer than the 8 it needs"
