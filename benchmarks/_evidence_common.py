"""What the evidence benchmark's parts share: the plan, targets and timing helpers."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "evidence.json"
MIB = 1024 * 1024

TARGET_VERIFY_RATIO = 1.5
TARGET_COLD_S = {"onnx": 15.0, "tflite": 8.0}
TARGET_CACHED_S = 0.3
# Identical base and head: every gate run's head/base ratio within 1 +- this.
TARGET_RATIO_BAND = 0.05

MODEL_FACTS = "artifact,model,latency"
FAIRNESS_FACTS = "artifact,fairness"


@dataclass(frozen=True)
class Plan:
    artifact_mb: int
    repeats: int
    cold_runs: int
    cached_runs: int
    gate_runs: int
    rows: int
    fairness: bool


def fail(message: str) -> None:
    sys.exit(f"bench: {message}")


def stats(samples: Sequence[float], digits: int = 4) -> dict[str, Any]:
    return {
        "median_s": statistics.median(samples),
        "min_s": min(samples),
        "max_s": max(samples),
        "samples_s": [round(s, digits) for s in samples],
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value
