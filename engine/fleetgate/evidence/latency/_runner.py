"""Run one timing repeat of a model in a fresh child process.

A fresh process per repeat keeps one repeat's allocator state, caches and thread pools from
leaking into the next, and lets the gate bound each repeat's time and memory: the child caps
its own address space, and the parent kills it at the wall-clock deadline.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._child import run_child

__all__ = ["RepeatResult", "RunPlan", "run_pair", "run_repeat"]

_CHILD_MODULE = "fleetgate.evidence.latency._child"
_WHAT = "latency measurement"


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
    # None for the second model of a pair: the process's peak then includes the first model.
    peak_memory_mb: float | None
    runtime: str


def run_repeat(model: Path, shown: str, plan: RunPlan, model_format: str = "onnx") -> RepeatResult:
    """Time ``model`` once in a fresh process; raise EvidenceError naming ``shown`` on any failure.

    Failures are: the deadline passed (the child is killed), the child exited non-zero or
    was killed (its last stderr line is quoted), or its answer was not the expected JSON.
    """
    stdout = run_child(_command(plan, model, model_format), shown, _WHAT, plan.timeout_seconds)
    return _parse(stdout, shown, plan.timed_runs)


def run_pair(
    first: tuple[Path, str], second: tuple[Path, str], shown: str, plan: RunPlan
) -> tuple[RepeatResult, RepeatResult]:
    """Time two ``(model, format)`` in one fresh process, run by run in turns.

    The first model's peak memory is its own (read before the second loads); the second's is
    not measured. The process holds both models, so its deadline and its memory cap are those
    of two repeats. EvidenceError naming ``shown`` on any failure.
    """
    doubled = replace(plan, max_memory_mb=2 * plan.max_memory_mb)
    command = [*_command(doubled, *first), *(str(part) for part in second)]
    answer = _decode(run_child(command, shown, _WHAT, 2 * plan.timeout_seconds), shown)
    other: Any = answer.get("second")
    if not isinstance(other, dict):
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    return _repeat(answer, shown, plan.timed_runs), _repeat(other, shown, plan.timed_runs, own_peak=False)


def _command(plan: RunPlan, model: Path, model_format: str) -> list[str]:
    numbers = (plan.threads, plan.batch, plan.warmup_runs, plan.timed_runs, plan.max_memory_mb)
    return [sys.executable, "-m", _CHILD_MODULE, str(model), *(str(n) for n in numbers), model_format]


def _parse(stdout: bytes, shown: str, timed_runs: int) -> RepeatResult:
    return _repeat(_decode(stdout, shown), shown, timed_runs)


def _decode(stdout: bytes, shown: str) -> dict[str, Any]:
    try:
        answer: Any = json.loads(stdout.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise EvidenceError(f"{shown}: latency child returned malformed output: {error}") from None
    if not isinstance(answer, dict):
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    return answer


def _repeat(answer: dict[str, Any], shown: str, timed_runs: int, own_peak: bool = True) -> RepeatResult:
    """The repeat in ``answer``; ``own_peak`` False for the second model of a pair (no peak)."""
    timings: Any = answer.get("timings_ms")
    peak_kib: Any = answer.get("peak_rss_kib") if own_peak else None
    runtime: Any = answer.get("runtime")
    valid = (
        isinstance(timings, list)
        and len(timings) == timed_runs
        and all(_is_number(t) and math.isfinite(t) and t >= 0 for t in timings)
        and (not own_peak or (_is_number(peak_kib) and isinstance(peak_kib, int) and peak_kib > 0))
        and isinstance(runtime, str)
    )
    if not valid:
        raise EvidenceError(f"{shown}: latency child returned malformed output")
    return RepeatResult(
        timings_ms=tuple(float(t) for t in timings),
        peak_memory_mb=peak_kib / 1024 if peak_kib is not None else None,
        runtime=runtime,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
