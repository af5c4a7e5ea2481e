"""The model fact of TFLite models, read with LiteRT's schema module and interpreter in a child."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.model import COLLECTOR

import support_tflite

pytest.importorskip("ai_edge_litert")


def fact_of(context: Any, tmp_path: Path, data: bytes, name: str = "model.tflite", **settings: Any) -> Any:
    path = support_tflite.save(data, tmp_path / name)
    return COLLECTOR.collect(context(path, settings))


def test_a_float_model_is_fp32_with_every_operator_and_its_version(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier())
    assert (fact["format"], fact["schema_version"], fact["subgraphs"]) == ("tflite", 3, 1)
    assert fact["operators"] == [
        {"op": "FULLY_CONNECTED", "version": 1, "count": 1},
        {"op": "LOGISTIC", "version": 1, "count": 1},
    ]
    assert (fact["quantization"], fact["quantization_mode"], fact["quantized_weight_share"]) == (
        "fp32",
        "float",
        0,
    )
    assert fact["weight_types"] == {"float32": 16}  # 3 weights and 1 bias
    assert fact["runtime"]["unsupported"] == [] and fact["runtime"]["target"].startswith("LiteRT ")


def test_a_dynamic_range_model_stores_int8_weights_with_float_inputs(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier(storage="dynamic"))
    assert fact["quantization_mode"] == "dynamic-range"
    assert fact["weight_types"] == {"float32": 4, "int8": 3}
    assert fact["quantization_granularity"] == "per-tensor"
    assert (fact["compute_nodes"], fact["quantized_compute_nodes"]) == (1, 1)


def test_a_full_integer_model_has_integer_inputs_and_outputs(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier([2.0, -1.0, 0.5, 1.0] * 4, storage="int8"))
    assert (fact["quantization"], fact["quantization_mode"]) == ("int8", "full-integer")
    assert fact["io_types"] == {"inputs": ["int8"], "outputs": ["int8"]}
    # The int32 bias carries a scale: quantized storage as much as the int8 weights.
    assert fact["weight_types"] == {"int32-quantized": 4, "int8": 16}
    assert fact["quantized_weight_share"] == 1.0


def test_per_channel_scales_are_told_from_per_tensor(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier(storage="per-channel", outputs=2))
    assert fact["quantization_granularity"] == "per-channel"


def test_float16_weights_are_fp16(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier([1.0] * 8, storage="float16"))
    assert (fact["quantization"], fact["quantization_mode"]) == ("fp16", "float16")


@pytest.mark.parametrize(
    ("custom", "domain", "reason"),
    [("MyCustomOp", "custom", "custom op"), ("FlexAddV2", "flex", "Select-TF (Flex)")],
)
def test_custom_and_flex_ops_are_unsupported(
    context: Any, tmp_path: Path, custom: str, domain: str, reason: str
) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier(custom_op=custom))
    [entry] = fact["runtime"]["unsupported"]
    assert (entry["domain"], entry["op"]) == (domain, custom) and reason in entry["reason"]
    assert fact["custom_ops" if domain == "custom" else "flex_ops"] == [custom]


def test_an_op_version_newer_than_the_runtime_is_unsupported(context: Any, tmp_path: Path) -> None:
    fact = fact_of(context, tmp_path, support_tflite.classifier(fc_version=99))
    assert fact["runtime"]["unsupported"] == [
        {
            "domain": "tflite",
            "op": "FULLY_CONNECTED",
            "opset": 99,
            "reason": "op version 99 is newer than this runtime registers",
        }
    ]


def test_a_truncated_flatbuffer_is_refused_with_a_located_reason(context: Any, tmp_path: Path) -> None:
    data = support_tflite.classifier()
    with pytest.raises(
        EvidenceError, match=r"model.tflite: reading the TFLite model failed \(exit status 1\): "
    ):
        fact_of(context, tmp_path, data[: len(data) // 2])


def test_a_model_over_the_size_cap_is_refused_before_it_is_parsed(context: Any, tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match=r"over the 100-byte cap \(evidence.model.maxBytes\)"):
        fact_of(context, tmp_path, support_tflite.classifier(), maxBytes=100)


def test_a_model_larger_than_four_times_its_weight_count_reads_its_buffers(
    context: Any, tmp_path: Path
) -> None:
    # Buffers are byte vectors: a bound of four bytes per entry once refused every real CNN.
    fact = fact_of(context, tmp_path, support_tflite.cnn(channels=32, image=16))
    assert fact["weight_types"]["float32"] > 30_000 and fact["quantization"] == "fp32"


def test_a_root_offset_outside_the_file_is_refused_as_malformed(context: Any, tmp_path: Path) -> None:
    data = bytearray(support_tflite.classifier())
    data[0:4] = (len(data) + 4096).to_bytes(4, "little")  # the root table lies past the end
    with pytest.raises(
        EvidenceError, match=r"model.tflite: reading the TFLite model failed .*malformed flatbuffer"
    ):
        fact_of(context, tmp_path, bytes(data))
