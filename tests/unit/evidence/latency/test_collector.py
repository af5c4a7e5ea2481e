"""The latency collector end to end: real child processes timing real ONNX models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.latency import COLLECTOR, cpu_model, runtime_version

import support_onnx


def test_times_a_small_cnn_with_the_manifest_threads_and_batch(
    models: Path, make_context: Any, spec: Any
) -> None:
    ctx = make_context(models, models / "models" / "small.onnx", spec=spec(threads=2, batch=3))

    fact = COLLECTOR.collect(ctx)

    assert fact is not None
    assert 0 < fact["p50_ms"] <= fact["p95_ms"] <= fact["p99_ms"]
    assert fact["repeats"] == 2 and len(fact["repeat_p50_ms"]) == 2
    assert all(p > 0 for p in fact["repeat_p50_ms"])
    assert min(fact["repeat_p50_ms"]) <= fact["p50_ms"] <= max(fact["repeat_p50_ms"])
    assert fact["spread"] >= 0
    assert (fact["warmup_runs"], fact["timed_runs"]) == (1, 5)
    assert (fact["threads"], fact["inter_op_threads"], fact["batch"]) == (2, 1, 3)
    assert 10 < fact["peak_memory_mb"] < 4096
    assert fact["cpu"] == cpu_model() and fact["cpu"]
    assert fact["cpu_count"] >= 1
    assert fact["runtime"] == f"onnxruntime {runtime_version()}"
    assert "base" not in fact
    json.dumps(fact)  # the fact is JSON-ready


def test_defaults_to_one_thread_and_batch_one(models: Path, make_context: Any, spec: Any) -> None:
    settings = {"repeats": 1, "warmupRuns": 0, "timedRuns": 2}
    ctx = make_context(models, models / "models" / "small.onnx", spec=spec(None, None), settings=settings)

    fact = COLLECTOR.collect(ctx)

    assert fact is not None
    assert (fact["threads"], fact["batch"], fact["repeats"], fact["timed_runs"]) == (1, 1, 1, 2)
    assert fact["spread"] == 0.0


def test_base_artifact_is_timed_in_the_same_run(models: Path, make_context: Any, progress: Any) -> None:
    ctx = make_context(
        models, models / "models" / "large.onnx", base=models / "models" / "small.onnx", progress=progress
    )

    fact = COLLECTOR.collect(ctx)

    assert fact is not None
    base = fact["base"]
    assert base["digest"] == "sha256:" + "b" * 64
    assert set(base) == {
        *("digest", "p50_ms", "p95_ms", "p99_ms", "spread", "repeat_p50_ms", "peak_memory_mb"),
        *("ratio", "ratio_low", "ratio_high", "ratio_method"),
    }
    assert len(base["repeat_p50_ms"]) == 2
    # 128 channels cost 64 times the multiply-adds of 16: far beyond any noise.
    assert fact["p50_ms"] > 2 * base["p50_ms"] > 0
    assert 2 < base["ratio_low"] <= base["ratio"] <= base["ratio_high"]
    assert base["p50_ms"] <= base["p95_ms"] <= base["p99_ms"]
    # Two processes, each timing both models in turns; the second loads the base first, so
    # both have a peak of their own.
    assert 10 < base["peak_memory_mb"] < 4096
    assert progress.calls[0] == ("start", ("latency models/large.onnx", 2))
    assert [c for c in progress.calls if c[0] == "advance"] == [("advance", n) for n in (1, 2)]


def test_progress_reports_start_advance_and_a_one_line_summary(
    models: Path, make_context: Any, progress: Any
) -> None:
    fact = COLLECTOR.collect(make_context(models, models / "models" / "small.onnx", progress=progress))

    assert fact is not None
    assert [c[0] for c in progress.calls] == ["start", "advance", "advance", "finish"]
    summary = progress.calls[-1][1]
    assert summary.startswith("latency models/small.onnx: p50 ") and "\n" not in summary
    assert str(fact["p50_ms"]) in summary


def test_no_artifact_or_an_artifact_of_no_known_format_gives_no_fact(
    models: Path, make_context: Any, tmp_path: Path
) -> None:
    unknown = tmp_path / "model.bin"
    unknown.write_bytes(b"neither flatbuffer nor protobuf")

    assert COLLECTOR.collect(make_context(models, None)) is None
    assert COLLECTOR.collect(make_context(tmp_path, unknown)) is None
    assert COLLECTOR.cache_key(make_context(models, None)) is None


def test_a_garbage_tflite_file_fails_under_the_litert_interpreter(make_context: Any, tmp_path: Path) -> None:
    tflite = tmp_path / "model.tflite"
    tflite.write_bytes(b"TFL3")

    with pytest.raises(EvidenceError, match=r"model.tflite: latency measurement failed .*Flatbuffer"):
        COLLECTOR.collect(make_context(tmp_path, tflite))


def test_a_model_that_outlives_the_timeout_is_killed(models: Path, make_context: Any, progress: Any) -> None:
    settings = {"repeats": 1, "warmupRuns": 0, "timedRuns": 5, "timeoutSeconds": 0.01}
    ctx = make_context(models, models / "models" / "small.onnx", settings=settings, progress=progress)

    with pytest.raises(EvidenceError, match=r"^models/small\.onnx: latency measurement exceeded 0\.01 s"):
        COLLECTOR.collect(ctx)
    assert progress.calls[-1][0] == "finish" and "failed" in progress.calls[-1][1]


def test_garbage_bytes_fail_with_the_runtime_message(make_context: Any, tmp_path: Path) -> None:
    garbage = tmp_path / "models" / "garbage.onnx"
    garbage.parent.mkdir()
    garbage.write_bytes(b"\x08\xff not a protobuf" * 64)

    with pytest.raises(EvidenceError) as caught:
        COLLECTOR.collect(make_context(tmp_path, garbage))

    message = caught.value.diagnostics()
    assert message.startswith("models/garbage.onnx: latency measurement failed (exit status 1): ")
    assert "Protobuf parsing failed" in message
    assert "Traceback" not in message and "\n" not in message


def test_a_model_allocating_beyond_the_memory_cap_fails(make_context: Any, tmp_path: Path) -> None:
    # A few bytes on disk that ask for 800 MB at run time: the cap must stop it, not the host.
    hog = support_onnx.save(_expand_model(200_000_000), tmp_path / "hog.onnx")
    settings = {"repeats": 1, "warmupRuns": 0, "timedRuns": 1, "maxMemoryMB": 400}

    with pytest.raises(EvidenceError, match=r"^hog\.onnx: .*out of memory under the 400 MB cap"):
        COLLECTOR.collect(make_context(tmp_path, hog, settings=settings))


def test_an_input_larger_than_the_memory_cap_is_refused(make_context: Any, tmp_path: Path) -> None:
    huge = support_onnx.save(_identity_model([100_000, 100_000]), tmp_path / "huge.onnx")
    settings = {"repeats": 1, "warmupRuns": 0, "timedRuns": 1}

    with pytest.raises(EvidenceError, match=r"input 'x' of shape \[100000, 100000\] needs more than"):
        COLLECTOR.collect(make_context(tmp_path, huge, settings=settings))


def test_a_graph_without_inputs_is_refused(make_context: Any, tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["y"], value_float=1.0)],
        "constant",
        [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = support_onnx.save(support_onnx.finish(graph), tmp_path / "constant.onnx")

    with pytest.raises(EvidenceError, match=r"^constant\.onnx: .*: the graph has no inputs$"):
        COLLECTOR.collect(make_context(tmp_path, model, settings={"repeats": 1}))


def test_a_string_input_is_refused(make_context: Any, tmp_path: Path) -> None:
    from onnx import TensorProto

    model = support_onnx.save(_identity_model(["N", 2], TensorProto.STRING), tmp_path / "text.onnx")

    with pytest.raises(EvidenceError, match=r"input 'x' has unsupported type tensor\(string\)"):
        COLLECTOR.collect(make_context(tmp_path, model, settings={"repeats": 1}))


@pytest.mark.parametrize("threads", [0, -1, "2", True, 100_000])
def test_unusable_thread_counts_are_refused(
    models: Path, make_context: Any, spec: Any, threads: object
) -> None:
    ctx = make_context(models, models / "models" / "small.onnx", spec=spec(threads=threads))

    with pytest.raises(EvidenceError, match=r"^spec\.inferenceConfig\.numThreads: cannot time the model"):
        COLLECTOR.collect(ctx)
    assert COLLECTOR.cache_key(ctx) is None


def test_bad_settings_raise_config_error(models: Path, make_context: Any) -> None:
    ctx = make_context(models, models / "models" / "small.onnx", settings={"repeats": 0})

    with pytest.raises(ConfigError, match=r"evidence\.latency\.repeats: must be an integer from 1 to 50"):
        COLLECTOR.collect(ctx)
    with pytest.raises(ConfigError):
        COLLECTOR.cache_key(ctx)


def test_cache_key_names_everything_the_numbers_depend_on(models: Path, make_context: Any, spec: Any) -> None:
    small, large = models / "models" / "small.onnx", models / "models" / "large.onnx"
    key = COLLECTOR.cache_key(make_context(models, small, spec=spec(threads=2, batch=4)))

    assert key == {
        "digest": "sha256:" + "a" * 64,
        "base_digest": None,
        "threads": 2,
        "batch": 4,
        "settings": {
            "repeats": 2,
            "warmupRuns": 1,
            "timedRuns": 5,
            "timeoutSeconds": 120.0,
            "maxMemoryMB": 4096,
        },
        "format": "onnx",
        "runtime": runtime_version(),
        "cpu": cpu_model(),
    }
    with_base = COLLECTOR.cache_key(make_context(models, small, base=large, spec=spec(threads=2, batch=4)))
    assert with_base is not None and with_base["base_digest"] == "sha256:" + "b" * 64
    assert COLLECTOR.cache_key(make_context(models, small, spec=spec(threads=1, batch=4))) != key
    assert COLLECTOR.fact == "latency"


def _identity_model(shape: list[Any], elem_type: int | None = None) -> Any:
    from onnx import TensorProto, helper

    kind = TensorProto.FLOAT if elem_type is None else elem_type
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", kind, shape)],
        [helper.make_tensor_value_info("y", kind, shape)],
    )
    return support_onnx.finish(graph)


def _expand_model(width: int) -> Any:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "expand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([1, width], np.int64), "shape")],
    )
    return support_onnx.finish(graph)
