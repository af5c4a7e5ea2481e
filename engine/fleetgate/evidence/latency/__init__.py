"""The ``latency`` fact: CPU latency and peak memory of an ONNX artifact under onnxruntime.

Each repeat runs in a fresh child process (``python -m fleetgate.evidence.latency._child``)
with the manifest's ``numThreads`` and ``batchSize``, one inter-op thread, sequential execution
and thread spinning off. When the change replaced the artifact, the base artifact is timed in
the same processes as the head, run by run in turns, and the fact gives the head/base ratio
with a confidence interval, so ``cost.latency-regression`` compares like with like.
onnxruntime and numpy are imported only by the child process, never by this package.
"""

from __future__ import annotations

from fleetgate.evidence.latency._collector import LatencyCollector, cpu_model, runtime_version
from fleetgate.evidence.latency._settings import LatencySettings, parse_settings

__all__ = [
    "COLLECTOR",
    "LatencyCollector",
    "LatencySettings",
    "cpu_model",
    "parse_settings",
    "runtime_version",
]

COLLECTOR = LatencyCollector()
