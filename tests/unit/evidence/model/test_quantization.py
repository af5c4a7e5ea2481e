from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
import pytest

import support_onnx

Measure = Callable[..., Any]


def test_fp32_cnn_is_measured_as_float(measure: Measure, quantized: dict[str, Path]) -> None:
    fact = measure(quantized["cnn"])
    assert fact["format"] == "onnx"
    assert fact["path"] == str(quantized["cnn"])  # outside the repository root: shown absolute
    assert fact["size"] == quantized["cnn"].stat().st_size
    assert fact["ir_version"] == support_onnx.IR_VERSION
    assert fact["opsets"] == {"ai.onnx": 17}
    assert fact["nodes"] == 7
    # conv1 8x3x3x3, conv2 8x8x3x3, fc 10x8 and the biases, all float32.
    expected = 4 * (8 * 3 * 9 + 8 + 8 * 8 * 9 + 8 + 10 * 8 + 10)
    assert fact["weight_types"] == {"float32": expected}
    assert fact["weight_bytes"] == expected
    assert fact["quantized_weight_share"] == 0.0
    assert (fact["compute_nodes"], fact["quantized_compute_nodes"]) == (3, 0)
    assert fact["quantized_compute_share"] == 0.0
    assert fact["quantization"] == "fp32"
    assert fact["fake_quantized"] is False
    assert fact["runtime"]["unsupported"] == []
    assert fact["runtime"]["target"].startswith("onnxruntime ")


def test_qdq_static_model_stores_int8_and_computes_quantized(
    measure: Measure, quantized: dict[str, Path]
) -> None:
    fact = measure(quantized["qdq"])
    assert fact["quantization"] == "int8"
    weights = 8 * 3 * 9 + 8 * 8 * 9 + 10 * 8
    assert weights <= fact["weight_types"]["int8"] <= weights + 16  # plus one-byte zero points
    assert fact["quantized_weight_share"] >= 0.8
    assert fact["compute_nodes"] == 3
    assert fact["quantized_compute_share"] == 1.0
    assert fact["fake_quantized"] is False
    assert fact["runtime"]["unsupported"] == []


def test_qoperator_model_counts_qlinear_nodes(measure: Measure, quantized: dict[str, Path]) -> None:
    ops = {node.op_type for node in onnx.load(str(quantized["qoperator"])).graph.node}
    assert {"QLinearConv", "QGemm"} <= ops
    fact = measure(quantized["qoperator"])
    assert fact["quantization"] == "int8"
    assert (fact["compute_nodes"], fact["quantized_compute_nodes"]) == (3, 3)
    assert fact["opsets"] == {"ai.onnx": 17, "com.microsoft": 1}
    assert fact["runtime"]["unsupported"] == []


def test_dynamic_quantization_counts_matmul_integer(measure: Measure, quantized: dict[str, Path]) -> None:
    ops = {node.op_type for node in onnx.load(str(quantized["dynamic"])).graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= ops
    fact = measure(quantized["dynamic"])
    assert fact["quantization"] == "int8"
    assert fact["weight_types"]["int8"] == 16 * 32 + 32 * 4 + 2  # two weights and their zero points
    assert fact["quantized_compute_share"] == 1.0
    assert fact["fake_quantized"] is False


def test_fake_quantized_weights_count_as_float_storage(measure: Measure, tmp_path: Path) -> None:
    fact = measure(support_onnx.save(support_onnx.fake_quantized(channels=8), tmp_path / "qat.onnx"))
    assert fact["quantization"] == "fp32"
    assert fact["fake_quantized"] is True
    assert fact["weight_types"]["float32"] == 4 * (8 * 3 * 9) + 4  # the weight and the scale
    assert fact["quantized_weight_share"] < 0.01
    # The Conv's weight is dequantized from a QuantizeLinear output, not a stored integer.
    assert (fact["compute_nodes"], fact["quantized_compute_nodes"]) == (1, 0)


def test_fp16_weights_are_labelled_fp16(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.linear_classifier([0.5] * 64)
    weight = model.graph.initializer[0]
    weight.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(weight).astype("float16"), "w"))
    cast = onnx.helper.make_node("Cast", ["w"], ["w32"], to=onnx.TensorProto.FLOAT)
    model.graph.node[0].input[1] = "w32"
    model.graph.node.insert(0, cast)
    fact = measure(support_onnx.save(model, tmp_path / "half.onnx"))
    assert fact["weight_types"] == {"float16": 128, "float32": 4}
    assert fact["quantization"] == "fp16"


def test_tree_model_has_no_compute_nodes_and_runs_on_cpu(measure: Measure, tmp_path: Path) -> None:
    fact = measure(support_onnx.save(support_onnx.tree_classifier(), tmp_path / "tree.onnx"))
    assert fact["opsets"] == {"ai.onnx.ml": 3}
    assert fact["compute_nodes"] == 0
    assert fact["quantized_compute_share"] is None
    assert fact["weight_bytes"] == 0
    assert fact["runtime"]["unsupported"] == []


def test_unused_opset_imports_are_not_reported(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.cnn(channels=4)
    model.opset_import.extend(
        [onnx.helper.make_opsetid("com.microsoft", 1), onnx.helper.make_opsetid("ai.onnx.ml", 3)]
    )
    fact = measure(support_onnx.save(model, tmp_path / "extra.onnx"))
    assert fact["opsets"] == {"ai.onnx": 17}


def test_subgraph_operators_and_constants_are_counted(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.with_if(then_op="Relu")
    constant = onnx.helper.make_node(
        "Constant", [], ["c"], value=onnx.helper.make_tensor("c", onnx.TensorProto.INT8, [6], [1] * 6)
    )
    model.graph.node[0].attribute[0].g.node.insert(0, constant)
    fact = measure(support_onnx.save(model, tmp_path / "branches.onnx"))
    assert fact["nodes"] == 4  # If, Constant and Relu in then, Neg in else
    assert fact["weight_types"] == {"int8": 6}


@pytest.mark.parametrize("shown_inside", [True, False])
def test_path_is_shown_relative_to_the_repository(
    measure: Measure, tmp_path: Path, shown_inside: bool
) -> None:
    path = support_onnx.save(support_onnx.linear_classifier([1.0]), tmp_path / "models" / "m.onnx")
    root = tmp_path if shown_inside else tmp_path / "elsewhere"
    fact = measure(path, root=root)
    assert fact["path"] == ("models/m.onnx" if shown_inside else str(path))


def test_packed_4_bit_weights_are_labelled_uint4(measure: Measure, tmp_path: Path) -> None:
    fact = measure(support_onnx.save(support_onnx.matmul_nbits(k=64, n=16), tmp_path / "nbits.onnx"))
    # 16 x 64 four-bit weights in 512 bytes, and 16 x 2 float scales.
    assert fact["weight_types"] == {"float32": 128, "uint4": 512}
    assert fact["quantization"] == "uint4"
    assert (fact["compute_nodes"], fact["quantized_compute_nodes"]) == (1, 1)
    assert fact["runtime"]["unsupported"] == []
