"""Percentiles and the summary of repeats."""

from __future__ import annotations

import numpy as np
import pytest

from fleetgate.evidence.latency._runner import RepeatResult
from fleetgate.evidence.latency._summary import percentile, summarize


@pytest.mark.parametrize("size", [1, 2, 5, 30, 101])
@pytest.mark.parametrize("q", [0, 50, 95, 99, 100])
def test_percentile_matches_numpy_linear(size: int, q: float) -> None:
    values = list(np.random.default_rng(size).exponential(3.0, size))

    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def _repeat(timings: list[float], peak: float = 50.0) -> RepeatResult:
    return RepeatResult(timings_ms=tuple(timings), peak_memory_mb=peak, runtime="1.0")


def test_summary_takes_the_median_of_the_repeats_and_their_spread() -> None:
    repeats = [
        _repeat([1.0, 2.0, 3.0], peak=60.0),  # p50 2
        _repeat([4.0, 4.0, 4.0], peak=80.1234),  # p50 4
        _repeat([2.5, 3.0, 3.5], peak=70.0),  # p50 3
    ]

    summary = summarize(repeats)

    assert summary["p50_ms"] == 3.0
    assert summary["repeat_p50_ms"] == [2.0, 4.0, 3.0]
    assert summary["spread"] == round((4.0 - 2.0) / 3.0, 3)
    assert summary["p95_ms"] == 3.45  # repeat p95s: 2.9, 4.0, 3.45
    assert summary["p99_ms"] == pytest.approx(3.49)
    assert summary["peak_memory_mb"] == 80.123


def test_a_zero_median_has_zero_spread() -> None:
    summary = summarize([_repeat([0.0, 0.0]), _repeat([0.0, 0.0])])

    assert summary["spread"] == 0.0 and summary["p50_ms"] == 0.0
