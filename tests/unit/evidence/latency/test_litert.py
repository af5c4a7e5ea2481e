"""TFLite models are timed under the LiteRT interpreter; Core ML latency is absent, never passed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.latency import COLLECTOR, runtime_version

pytest.importorskip("ai_edge_litert")
import support_tflite


@pytest.fixture
def tflite(tmp_path: Path) -> Path:
    return support_tflite.save(
        support_tflite.classifier([1.0] * 64, storage="dynamic"), tmp_path / "m.tflite"
    )


def test_a_tflite_model_is_timed_with_the_manifest_threads_and_a_resized_batch(
    tflite: Path, make_context: Any, spec: Any
) -> None:
    fact = COLLECTOR.collect(make_context(tflite.parent, tflite, spec=spec(threads=2, batch=8)))
    assert fact is not None
    assert fact["runtime"] == f"LiteRT {runtime_version('tflite')}"
    assert (fact["threads"], fact["batch"]) == (2, 8)
    assert 0 < fact["p50_ms"] <= fact["p99_ms"] and 10 < fact["peak_memory_mb"] < 4096


def test_an_onnx_base_is_timed_under_onnxruntime_beside_a_tflite_head(
    tflite: Path, models: Path, make_context: Any
) -> None:
    fact = COLLECTOR.collect(make_context(models, tflite, base=models / "models" / "small.onnx"))
    assert fact is not None and fact["base"]["p50_ms"] > 0
    assert fact["runtime"].startswith("LiteRT ")


def test_a_tflite_model_the_runtime_cannot_load_fails_naming_it(make_context: Any, tmp_path: Path) -> None:
    path = support_tflite.save(support_tflite.classifier(fc_version=99), tmp_path / "new.tflite")
    with pytest.raises(EvidenceError, match=r"new.tflite: latency measurement failed .*FULLY_CONNECTED.*99"):
        COLLECTOR.collect(make_context(tmp_path, path))


def test_core_ml_latency_is_absent_because_it_runs_only_on_apple_platforms(
    tflite: Path, make_context: Any
) -> None:
    ctx = make_context(tflite.parent, tflite)
    coreml = dataclasses.replace(ctx, artifact=dataclasses.replace(ctx.artifact, format="coreml"))
    assert COLLECTOR.collect(coreml) == {"status": "absent", "reason": "Core ML runs only on Apple platforms"}
    assert COLLECTOR.cache_key(coreml) is None
