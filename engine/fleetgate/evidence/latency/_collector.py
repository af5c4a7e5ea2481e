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
import importlib.util
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate.errors import EvidenceError
from fleetgate.evidence._kit import library_version, shown
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.latency._settings import inference_shape, parse_settings

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
        runtime = _RUNTIMES[head.format]
        if runtime_version(head.format) is None:
            raise EvidenceError(
                f"{shown(head.path, context.root)}: cannot time the model: {runtime} is not installed"
            )
        # The timing machinery (child processes, statistics) loads only when something is timed:
        # a re-check whose latency fact is cached never needs it.
        from fleetgate.evidence.latency._measure import measure

        return measure(context, settings, shape, runtime, cpu_model())
