"""The ``evidence.latency`` settings of fleetgate.yaml and the manifest's inference settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetgate.errors import ConfigError, EvidenceError

__all__ = ["InferenceShape", "LatencySettings", "inference_shape", "parse_settings"]

# (minimum, maximum) of each integer setting. The caps bound how long one check may take.
_INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "repeats": (1, 50),
    "warmupRuns": (0, 1000),
    "timedRuns": (1, 10000),
    # Below ~256 MB the interpreter, numpy and onnxruntime cannot even start.
    "maxMemoryMB": (256, 1 << 20),
}
_MAX_TIMEOUT_SECONDS = 3600.0

# Beyond these a manifest asks for more than one CI runner can time; the cost rules judge the
# declared values, this collector only refuses to run with absurd ones.
_MAX_THREADS = 256
_MAX_BATCH = 65536


@dataclass(frozen=True)
class LatencySettings:
    """How many fresh processes time the model, how many runs each, and their limits."""

    repeats: int = 3
    warmup_runs: int = 5
    timed_runs: int = 30
    timeout_seconds: float = 120.0
    max_memory_mb: int = 4096

    def to_key(self) -> dict[str, Any]:
        """The settings as they enter the cache key and the fact."""
        return {
            "repeats": self.repeats,
            "warmupRuns": self.warmup_runs,
            "timedRuns": self.timed_runs,
            "timeoutSeconds": self.timeout_seconds,
            "maxMemoryMB": self.max_memory_mb,
        }


@dataclass(frozen=True)
class InferenceShape:
    """The manifest's ``spec.inferenceConfig`` thread and batch settings, with defaults."""

    threads: int
    batch: int


def parse_settings(raw: Mapping[str, Any]) -> LatencySettings:
    """Validate ``evidence.latency``; raise ConfigError naming the key on any bad value."""
    if not isinstance(raw, Mapping):
        raise ConfigError("fleetgate.yaml: evidence.latency: must be a mapping")
    known = {*_INTEGER_BOUNDS, "timeoutSeconds"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"fleetgate.yaml: evidence.latency.{key}: unknown setting")
    defaults = LatencySettings()
    return LatencySettings(
        repeats=_integer(raw, "repeats", defaults.repeats),
        warmup_runs=_integer(raw, "warmupRuns", defaults.warmup_runs),
        timed_runs=_integer(raw, "timedRuns", defaults.timed_runs),
        timeout_seconds=_timeout(raw, defaults.timeout_seconds),
        max_memory_mb=_integer(raw, "maxMemoryMB", defaults.max_memory_mb),
    )


def _integer(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    low, high = _INTEGER_BOUNDS[key]
    # YAML reads `yes` as True, and bool is an int in Python: refuse it explicitly.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"fleetgate.yaml: evidence.latency.{key}: must be an integer from {low} to {high}")
    return value


def _timeout(raw: Mapping[str, Any], default: float) -> float:
    value = raw.get("timeoutSeconds", default)
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not 0 < value <= _MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            "fleetgate.yaml: evidence.latency.timeoutSeconds: "
            f"must be a number above 0 and at most {_MAX_TIMEOUT_SECONDS:g}"
        )
    return float(value)


def inference_shape(manifest: Mapping[str, Any]) -> InferenceShape:
    """The threads and batch to time with: ``numThreads``/``batchSize``, default 1 each.

    Raise EvidenceError when the manifest asks for values no runner can time (the schema
    check reports the manifest itself).
    """
    spec = manifest.get("spec")
    config = spec.get("inferenceConfig") if isinstance(spec, Mapping) else None
    config = config if isinstance(config, Mapping) else {}
    return InferenceShape(
        threads=_declared(config, "numThreads", _MAX_THREADS),
        batch=_declared(config, "batchSize", _MAX_BATCH),
    )


def _declared(config: Mapping[str, Any], key: str, high: int) -> int:
    value = config.get(key, 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise EvidenceError(
            f"spec.inferenceConfig.{key}: cannot time the model with {value!r} (must be from 1 to {high})"
        )
    return value
