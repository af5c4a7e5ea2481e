"""How much slower the head artifact is than the base, with a confidence interval.

Head and base are timed in the same processes, run by run in turns, so each head run has a
base run next to it in time. The ratio is ``exp(median(log(head_run / base_run)))`` over all
those pairs; its 95 % interval comes from a percentile bootstrap that resamples at both levels
the timings vary on: first the processes (each process lands a little differently), then the
pairs of runs inside each resampled process. The bootstrap draws from a fixed seed, so the
same timings always give the same interval, and the same decision.

``cost.latency-regression`` denies only when the whole interval lies above the allowed factor:
two identical models never do, however noisy the runner, and a clearly slower model always does.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from typing import Any

from fleetgate.evidence.latency._runner import RepeatResult
from fleetgate.evidence.latency._summary import percentile

__all__ = ["BOOTSTRAP_RESAMPLES", "compare"]

BOOTSTRAP_RESAMPLES = 1000
_CONFIDENCE = 0.95
_SEED = 0
_DIGITS = 4
# A run too fast for the clock still counts: a floor keeps its log finite.
_FLOOR_MS = 1e-6


def compare(head: Sequence[RepeatResult], base: Sequence[RepeatResult]) -> dict[str, Any]:
    """``ratio`` (head / base) and ``ratio_low``/``ratio_high``, its 95 % bootstrap interval.

    ``head[i]`` and ``base[i]`` come from the same process, their runs paired by index.
    """
    processes = [_log_ratios(h, b) for h, b in zip(head, base, strict=True)]
    if not processes or not all(processes):
        raise ValueError("no paired runs to compare")
    rng = random.Random(_SEED)
    estimates = sorted(_resample(processes, rng) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - _CONFIDENCE) / 2 * 100
    return {
        "ratio": round(math.exp(statistics.median(d for p in processes for d in p)), _DIGITS),
        "ratio_low": round(math.exp(percentile(estimates, tail)), _DIGITS),
        "ratio_high": round(math.exp(percentile(estimates, 100 - tail)), _DIGITS),
        "ratio_method": f"median of paired run ratios, {_CONFIDENCE:.0%} two-level bootstrap",
    }


def _log_ratios(head: RepeatResult, base: RepeatResult) -> list[float]:
    return [
        math.log(max(h, _FLOOR_MS) / max(b, _FLOOR_MS))
        for h, b in zip(head.timings_ms, base.timings_ms, strict=True)
    ]


def _resample(processes: Sequence[Sequence[float]], rng: random.Random) -> float:
    """One bootstrap estimate: processes drawn with replacement, then runs within each."""
    drawn: list[float] = []
    for process in rng.choices(processes, k=len(processes)):
        drawn += rng.choices(process, k=len(process))
    return statistics.median(drawn)
