"""Time the head artifact (and the base) in fresh child processes and build the latency fact.

Loaded by the collector only when it has something to time: a re-check whose latency fact is
cached never imports the child-process and statistics machinery.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import shown as shown_path
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.latency._compare import compare
from fleetgate.evidence.latency._runner import RepeatResult, RunPlan, run_pair, run_repeat
from fleetgate.evidence.latency._settings import InferenceShape, LatencySettings
from fleetgate.evidence.latency._summary import summarize

__all__ = ["measure"]

# The formats whose own runtime times them (the others are timed by the head's runtime).
_TIMED_FORMATS = frozenset({"onnx", "ort", "tflite"})


def measure(
    context: CollectorContext, settings: LatencySettings, shape: InferenceShape, runtime: str, cpu: str
) -> dict[str, Any]:
    """The latency fact of ``context.artifact``, with ``base`` when there is a base artifact."""
    assert context.artifact is not None
    head, base = context.artifact, context.base_artifact
    plan = RunPlan(
        threads=shape.threads,
        batch=shape.batch,
        warmup_runs=settings.warmup_runs,
        timed_runs=settings.timed_runs,
        timeout_seconds=settings.timeout_seconds,
        max_memory_mb=settings.max_memory_mb,
    )
    subjects = [head] if base is None else [head, base]
    results = _run_interleaved(context, subjects, plan, settings.repeats)
    fact = _fact(results[0], shape, plan, settings.repeats, f"{runtime} {results[0][0].runtime}", cpu)
    if base is not None:
        fact["base"] = {"digest": base.digest, **summarize(results[1]), **compare(results[0], results[1])}
    context.progress.finish(_summary_line(shown_path(head.path, context.root), fact))
    return fact


def _run_interleaved(
    context: CollectorContext, subjects: list[Artifact], plan: RunPlan, repeats: int
) -> list[list[RepeatResult]]:
    """Each repeat is a fresh process. With a base, each process times head and base run by run
    in turns, and the processes alternate which of the two loads first (head, base; base, head)."""
    results: list[list[RepeatResult]] = [[] for _ in subjects]
    shown = shown_path(subjects[0].path, context.root)
    context.progress.start(f"latency {shown}", repeats)
    try:
        for repeat in range(repeats):
            if len(subjects) == 1:
                results[0].append(run_repeat(subjects[0].path, shown, plan, subjects[0].format))
            else:
                order = (0, 1) if repeat % 2 == 0 else (1, 0)
                first, second = (_timed_as(subjects[i], subjects[0]) for i in order)
                timed = run_pair(first, second, shown, plan)
                for index, result in zip(order, timed, strict=True):
                    results[index].append(result)
            context.progress.advance(repeat + 1)
    except EvidenceError as error:
        context.progress.finish(f"latency failed: {error.diagnostics()}")
        raise
    return results


def _timed_as(subject: Artifact, head: Artifact) -> tuple[Path, str]:
    """The file and the runtime's format: the base is timed by the head's runtime when it is of
    no format the runtimes know, so a format change (ONNX to TFLite) still compares both."""
    return subject.path, subject.format if subject.format in _TIMED_FORMATS else head.format


def _fact(
    repeats: list[RepeatResult], shape: InferenceShape, plan: RunPlan, count: int, runtime: str, cpu: str
) -> dict[str, Any]:
    return {
        **summarize(repeats),
        "repeats": count,
        "warmup_runs": plan.warmup_runs,
        "timed_runs": plan.timed_runs,
        "threads": shape.threads,
        "inter_op_threads": 1,
        "batch": shape.batch,
        "cpu": cpu,
        "cpu_count": os.cpu_count() or 1,
        "runtime": runtime,
    }


def _summary_line(shown: str, fact: Mapping[str, Any]) -> str:
    line = f"latency {shown}: p50 {fact['p50_ms']} ms (spread {fact['spread']:.0%})"
    base = fact.get("base")
    if isinstance(base, Mapping):
        interval = f"[{base['ratio_low']}, {base['ratio_high']}]"
        line += f", base p50 {base['p50_ms']} ms, ratio {base['ratio']} {interval}"
    return line
