"""Run one timing repeat of a model in a fresh child process.

A fresh process per repeat keeps one repeat's allocator state, caches and thread pools from
leaking into the next, and lets the gate bound each repeat's time and memory: the child caps
its own address space, and the parent kills it at the wall-clock deadline.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import run_child

__all__ = ["RepeatResult", "RunPlan", "run_repeat"]

_CHILD_MODULE = "fleetgate.evidence.latency._child"


@dataclass(frozen=True)
class RunPlan:
    """What one child process does: the manifest's thread/batch settings and the run counts."""

    threads: int
    batch: int
    warmup_runs: int
    timed_runs: int
    timeout_seconds: float
    max_memory_mb: int


@dataclass(frozen=True)
class RepeatResult:
    """The timings of one repeat, in milliseconds, and the child's peak resident memory."""

    timings_ms: tuple[float, ...]
    peak_memory_mb: float
    runtime: str


def run_repeat(model: Path, shown: str, plan: RunPlan, model_format: str = "onnx") -> RepeatResult:
    """Time ``model`` once in a fresh process; raise EvidenceError naming ``shown`` on any failure.

    Failures are: the deadline passed (the child is killed), the child exited non-zero or
    was killed (its last stderr line is quoted), or its answer was not the expected JSON.
    """
    numbers = (plan.threads, plan.batch, plan.warmup_runs, plan.timed_runs, plan.max_memory_mb)
    command = [sys.executable, "-m", _CHILD_MODULE, str(model), *(str(n) for n in numbers), model_format]
    stdout = run_child(command, shown, "latency measurement", plan.timeout_seconds)
    return _parse(stdout, shown, plan.timed_runs)


def _parse(stdout: bytes, shown: str, timed_runs: int) -> RepeatResult:
    try:
        answer: Any = json.loads(stdout.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise EvidenceError(f"{shown}: latency child returned malformed output: {error}") from None
    if not isinstance(answer, dict):
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    timings: Any = answer.get("timings_ms")
    peak_kib: Any = answer.get("peak_rss_kib")
    runtime: Any = answer.get("runtime")
    valid = (
        isinstance(timings, list)
        and len(timings) == timed_runs
        and all(_is_number(t) and math.isfinite(t) and t >= 0 for t in timings)
        and _is_number(peak_kib)
        and isinstance(peak_kib, int)
        and peak_kib > 0
        and isinstance(runtime, str)
    )
    if not valid:
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    return RepeatResult(
        timings_ms=tuple(float(t) for t in timings), peak_memory_mb=peak_kib / 1024, runtime=runtime
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
