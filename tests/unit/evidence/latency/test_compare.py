"""The head/base ratio and its bootstrap interval, on made-up timings (nothing is timed here)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from fleetgate.evidence.latency._compare import compare
from fleetgate.evidence.latency._runner import RepeatResult

FACTOR = 1.15  # cost.latencyRegressionFactor: the rule denies when ratio_low is above it


def repeat(timings: Sequence[float]) -> RepeatResult:
    return RepeatResult(timings_ms=tuple(timings), peak_memory_mb=None, runtime="1.0")


def noisy_pair(
    rng: random.Random, runs: int, slowdown: float, bursts: int
) -> tuple[RepeatResult, RepeatResult]:
    """One process timing head and base in turns: jitter on every run, and ``bursts`` runs in a
    row where another job takes the CPU and both models run up to three times slower."""
    start = rng.randrange(runs)
    load = [3.0 if start <= i < start + bursts else 1.0 for i in range(runs)]
    head = [10 * slowdown * load[i] * rng.uniform(0.97, 1.05) for i in range(runs)]
    base = [10 * load[i] * rng.uniform(0.97, 1.05) for i in range(runs)]
    return repeat(head), repeat(base)


def compared(
    seed: int, slowdown: float, processes: int = 3, runs: int = 30, bursts: int = 10
) -> dict[str, float]:
    rng = random.Random(seed)
    pairs = [noisy_pair(rng, runs, slowdown, bursts) for _ in range(processes)]
    return compare([h for h, _ in pairs], [b for _, b in pairs])


@pytest.mark.parametrize("seed", range(20))
def test_identical_models_are_never_a_regression_however_noisy(seed: int) -> None:
    found = compared(seed, slowdown=1.0)
    assert found["ratio_low"] <= 1.0 <= found["ratio_high"] < FACTOR
    assert 0.95 <= found["ratio"] <= 1.05


@pytest.mark.parametrize("seed", range(20))
def test_a_clearly_slower_model_is_a_regression(seed: int) -> None:
    found = compared(seed, slowdown=1.5)
    assert FACTOR < found["ratio_low"] <= found["ratio"] <= found["ratio_high"]


def test_a_slowdown_near_the_factor_is_not_proven_by_a_wide_interval() -> None:
    # One process only, and half of its runs disturbed: the interval is wide, and its low end
    # below the factor keeps the rule from denying on a point estimate just above it.
    rng = random.Random(7)
    head = [12 * rng.uniform(0.6, 1.6) for _ in range(10)]
    base = [10 * rng.uniform(0.6, 1.6) for _ in range(10)]
    found = compare([repeat(head)], [repeat(base)])
    assert found["ratio_low"] < FACTOR < found["ratio_high"]


def test_the_same_timings_always_give_the_same_interval() -> None:
    assert compared(3, slowdown=1.1) == compared(3, slowdown=1.1)


def test_the_ratio_is_the_median_of_the_paired_run_ratios() -> None:
    head = repeat([2.0, 4.0, 9.0])
    base = repeat([1.0, 1.0, 3.0])  # pairs: 2, 4, 3
    found = compare([head], [base])
    assert found["ratio"] == 3.0
    assert 2.0 <= found["ratio_low"] <= found["ratio_high"] <= 4.0
    assert "bootstrap" in str(found["ratio_method"])


def test_nothing_to_compare_is_an_error() -> None:
    with pytest.raises(ValueError, match="no paired runs"):
        compare([], [])
