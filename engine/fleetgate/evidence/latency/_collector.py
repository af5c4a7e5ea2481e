"""The latency collector: CPU latency and peak memory of the artifact under its runtime.

ONNX (and ONNX Runtime's ``.ort`` format) is timed under onnxruntime, TFLite under the LiteRT
interpreter. A Core ML model runs only on Apple platforms: its fact is absent with that reason.
Any other format is not this collector's (no fact).

Steps of :meth:`LatencyCollector.collect`:

1. read the settings and the manifest's ``numThreads``/``batchSize``;
2. for each repeat, time the head artifact in a fresh child process; when there is a base
   artifact, the same process times both run by run in turns, and the processes alternate
   which loads first, so load on a shared runner hits both alike;
3. summarize each artifact's repeats (median of the repeats' percentiles, spread, peak memory)
   and, with a base, the head/base ratio with its confidence interval (``_compare``).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import library_version, shown
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.latency._compare import compare
from fleetgate.evidence.latency._runner import RepeatResult, RunPlan, run_pair, run_repeat
from fleetgate.evidence.latency._settings import InferenceShape, inference_shape, parse_settings
from fleetgate.evidence.latency._summary import summarize

__all__ = ["LatencyCollector", "cpu_model", "runtime_version"]

# The runtime that times each format, as the fact names it.
_RUNTIMES = {"onnx": "onnxruntime", "ort": "onnxruntime", "tflite": "LiteRT"}
APPLE_ONLY = "Core ML runs only on Apple platforms"
_CPUINFO = Path("/proc/cpuinfo")


@functools.cache
def cpu_model() -> str:
    """The CPU's model name: latencies are only comparable on the same model."""
    try:
        with _CPUINFO.open(encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def runtime_version(model_format: str = "onnx") -> str | None:
    """The installed version of the runtime that times ``model_format``, read without importing
    it; None when not installed."""
    if model_format == "tflite":
        return library_version("ai-edge-litert")
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    for distribution in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino", "onnxruntime-directml"):
        version = library_version(distribution)
        if version is not None:
            return version
    return "unknown"


def _timed(artifact: Artifact | None) -> bool:
    return artifact is not None and not artifact.directory and artifact.format in _RUNTIMES


def _shown(artifact: Artifact, root: Path) -> str:
    return shown(artifact.path, root)


class LatencyCollector:
    """Gathers the ``latency`` fact (see docs/evidence/latency.md)."""

    @property
    def fact(self) -> str:
        return "latency"

    def cache_key(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Digests, thread/batch settings, run settings, onnxruntime version and CPU model.

        A cached latency is only valid on the same CPU model, so the model name is part of
        the key. None (never cache) when there is nothing to time.
        """
        if context.artifact is None or not _timed(context.artifact):
            return None
        settings = parse_settings(context.settings)
        try:
            shape = inference_shape(context.manifest)
        except EvidenceError:
            return None
        base = context.base_artifact
        return {
            "digest": context.artifact.digest,
            "base_digest": base.digest if base is not None else None,
            "threads": shape.threads,
            "batch": shape.batch,
            "settings": settings.to_key(),
            "format": context.artifact.format,
            "runtime": runtime_version(context.artifact.format),
            "cpu": cpu_model(),
        }

    def collect(self, context: CollectorContext) -> Mapping[str, Any] | None:
        """Time the artifact (and the base artifact) and return the latency fact.

        None when there is no artifact or no runtime here times its format; absent for Core ML;
        EvidenceError naming the file when a child times out, crashes, or the model cannot be
        loaded or run.
        """
        head = context.artifact
        if head is not None and head.format == "coreml":
            return {"status": "absent", "reason": APPLE_ONLY}
        if head is None or not _timed(head):
            return None
        settings = parse_settings(context.settings)
        shape = inference_shape(context.manifest)
        shown = _shown(head, context.root)
        runtime = _RUNTIMES[head.format]
        if runtime_version(head.format) is None:
            raise EvidenceError(f"{shown}: cannot time the model: {runtime} is not installed")
        plan = RunPlan(
            threads=shape.threads,
            batch=shape.batch,
            warmup_runs=settings.warmup_runs,
            timed_runs=settings.timed_runs,
            timeout_seconds=settings.timeout_seconds,
            max_memory_mb=settings.max_memory_mb,
        )
        subjects = [head] if context.base_artifact is None else [head, context.base_artifact]
        results = _run_interleaved(context, subjects, plan, settings.repeats)
        fact = _fact(results[0], shape, plan, settings.repeats, runtime)
        if context.base_artifact is not None:
            compared = compare(results[0], results[1])
            fact["base"] = {"digest": context.base_artifact.digest, **summarize(results[1]), **compared}
        context.progress.finish(_summary_line(shown, fact))
        return fact


def _run_interleaved(
    context: CollectorContext, subjects: list[Artifact], plan: RunPlan, repeats: int
) -> list[list[RepeatResult]]:
    """Each repeat is a fresh process. With a base, each process times head and base run by run
    in turns, and the processes alternate which of the two loads first (head, base; base, head)."""
    results: list[list[RepeatResult]] = [[] for _ in subjects]
    shown = _shown(subjects[0], context.root)
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
    return subject.path, subject.format if subject.format in _RUNTIMES else head.format


def _fact(
    repeats: list[RepeatResult], shape: InferenceShape, plan: RunPlan, count: int, runtime: str
) -> dict[str, Any]:
    return {
        **summarize(repeats),
        "repeats": count,
        "warmup_runs": plan.warmup_runs,
        "timed_runs": plan.timed_runs,
        "threads": shape.threads,
        "inter_op_threads": 1,
        "batch": shape.batch,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "runtime": f"{runtime} {repeats[0].runtime}",
    }


def _summary_line(shown: str, fact: Mapping[str, Any]) -> str:
    line = f"latency {shown}: p50 {fact['p50_ms']} ms (spread {fact['spread']:.0%})"
    base = fact.get("base")
    if isinstance(base, Mapping):
        interval = f"[{base['ratio_low']}, {base['ratio_high']}]"
        line += f", base p50 {base['p50_ms']} ms, ratio {base['ratio']} {interval}"
    return line
