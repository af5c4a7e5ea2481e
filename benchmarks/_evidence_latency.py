"""(3) Latency regression on an unchanged model: identical base and head, many gate runs.

A pull request replaces the deployed CNN with its twin: other bytes (a description string),
the very same computation. Every gate run (``check --base --head``, empty evidence cache)
times both and gives the head/base ratio with its interval. An unchanged model must never
look like a regression: every ratio within 1 +- 5 %, and no ``cost.latency-regression``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _evidence_common import TARGET_RATIO_BAND, Plan, fail, stats
from _evidence_fixtures import twin_repository
from _evidence_gate import Gate, gate_environment
from run import progress

__all__ = ["FORMATS", "bench_latency_stability"]

FORMATS = ("onnx", "tflite")


def bench_latency_stability(tmp: Path, plan: Plan, model_format: str) -> dict[str, Any]:
    repo, base, head = twin_repository(tmp / f"twin-{model_format}", model_format)
    gate = Gate(repo, tmp, gate_environment(tmp))
    progress(f"(3) {model_format}: {plan.gate_runs} gate runs, identical base and head models")
    walls, ratios, intervals, p50_ratios, denied = [], [], [], [], 0
    for _ in range(plan.gate_runs):
        gate.clear_cache()
        wall, _ = gate.run("artifact,latency", "--base", base, "--head", head)
        fact = gate.cached_fact("latency")
        compared = fact.get("base") if fact is not None else None
        if not isinstance(compared, dict) or "ratio" not in compared:
            fail(f"the gate run compared nothing: latency fact {fact}")
        assert fact is not None and isinstance(compared, dict)
        walls.append(wall)
        ratios.append(compared["ratio"])
        intervals.append([compared["ratio_low"], compared["ratio_high"]])
        p50_ratios.append(round(fact["p50_ms"] / compared["p50_ms"], 4))
        denied += "cost.latency-regression" in gate.denied_rules()
    worst = max(abs(r - 1) for r in ratios)
    return {
        "format": model_format,
        "model_bytes": repo.model_bytes,
        "runs": plan.gate_runs,
        "wall": stats(walls),
        "ratios": ratios,
        "intervals": intervals,
        "p50_ratios": p50_ratios,
        "worst_deviation": worst,
        "within_band": sum(abs(r - 1) <= TARGET_RATIO_BAND for r in ratios),
        "regressions": denied,
    }
