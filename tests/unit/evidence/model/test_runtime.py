"""Operators the target runtime cannot execute: ORT CPU kernels, or a reduced-build config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto, helper

from fleetgate.errors import ConfigError

import support_onnx

Measure = Callable[..., Any]


def unsupported(fact: Any) -> list[tuple[str, str, int]]:
    return [(entry["domain"], entry["op"], entry["opset"]) for entry in fact["runtime"]["unsupported"]]


def test_custom_domain_operator_is_unsupported(measure: Measure, tmp_path: Path) -> None:
    fact = measure(support_onnx.save(support_onnx.custom_op(), tmp_path / "custom.onnx"))
    assert unsupported(fact) == [("com.example", "FancyOp", 1)]
    assert fact["opsets"] == {"ai.onnx": 17, "com.example": 1}
    assert fact["runtime"]["unsupported"][0]["reason"] == "no CPU kernel for this operator"


def test_unsupported_operator_inside_a_subgraph_is_found(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.with_if(then_op="FancyOp", domain="com.example", opsets=[("com.example", 1)])
    fact = measure(support_onnx.save(model, tmp_path / "branch.onnx"))
    assert unsupported(fact) == [("com.example", "FancyOp", 1)]


def test_too_new_opset_is_unsupported(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.cnn(channels=4)
    model.opset_import[0].version = 30
    fact = measure(support_onnx.save(model, tmp_path / "future.onnx"))
    assert unsupported(fact) == [("ai.onnx", "*", 30)]
    assert fact["runtime"]["unsupported"][0]["reason"].startswith(
        "opset 30 is newer than the runtime supports"
    )


def test_standard_operator_without_a_cpu_kernel_is_unsupported(measure: Measure, tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("ImageDecoder", ["encoded"], ["image"])],
        "decoder",
        [helper.make_tensor_value_info("encoded", TensorProto.UINT8, ["N"])],
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["H", "W", 3])],
    )
    fact = measure(support_onnx.save(support_onnx.finish(graph, (("", 20),)), tmp_path / "decode.onnx"))
    assert unsupported(fact) == [("ai.onnx", "ImageDecoder", 20)]


def test_operator_defined_as_an_onnx_function_is_supported(measure: Measure, tmp_path: Path) -> None:
    # HardSwish has no CPU kernel at opset 17: the runtime inlines its function body instead.
    graph = helper.make_graph(
        [helper.make_node("HardSwish", ["x"], ["y"])],
        "hardswish",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    fact = measure(support_onnx.save(support_onnx.finish(graph), tmp_path / "hardswish.onnx"))
    assert fact["runtime"]["unsupported"] == []


def test_model_local_function_calls_are_not_operators(measure: Measure, tmp_path: Path) -> None:
    body = onnx.helper.make_function(
        "local.fn", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
        [helper.make_opsetid("", 17)],
    )  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("Twice", ["x"], ["y"], domain="local.fn")],
        "local",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = support_onnx.finish(graph, (("", 17), ("local.fn", 1)))
    model.functions.append(body)
    fact = measure(support_onnx.save(model, tmp_path / "local.onnx"))
    assert fact["runtime"]["unsupported"] == []
    assert fact["opsets"] == {"ai.onnx": 17}
    assert fact["nodes"] == 2


# --- allowed operators (reduced build config) ---------------------------------------------


def write_config(root: Path, text: str) -> str:
    (root / "ort").mkdir(exist_ok=True)
    (root / "ort" / "required_operators.config").write_text(text)
    return "ort/required_operators.config"


def test_allowed_operators_accept_a_listed_model(measure: Measure, tmp_path: Path) -> None:
    # ORT's generator writes each operator's since version: Conv 11, Gemm 13, Relu 14 at opset 17.
    config = write_config(
        tmp_path,
        "# Generated from model/s:\nai.onnx;1;GlobalAveragePool\n"
        'ai.onnx;11;Conv\nai.onnx;13;Flatten,Gemm{"inputs": {"0": ["float"]}}\nai.onnx;14;Relu\n',
    )
    path = support_onnx.save(support_onnx.cnn(channels=4), tmp_path / "cnn.onnx")
    fact = measure(path, settings={"allowedOperators": config})
    assert fact["runtime"] == {"target": f"allowed operators {config}", "unsupported": []}


def test_allowed_operators_match_the_imported_opset_too(measure: Measure, tmp_path: Path) -> None:
    config = write_config(tmp_path, "ai.onnx;17;Conv,Relu,GlobalAveragePool,Flatten,Gemm\n")
    path = support_onnx.save(support_onnx.cnn(channels=4), tmp_path / "cnn.onnx")
    assert measure(path, settings={"allowedOperators": config})["runtime"]["unsupported"] == []


def test_allowed_operators_refuse_unlisted_operators(measure: Measure, tmp_path: Path) -> None:
    config = write_config(tmp_path, "ai.onnx;11;Conv\nai.onnx;14;Relu\nai.onnx;13;Flatten\n")
    path = support_onnx.save(support_onnx.cnn(channels=4), tmp_path / "cnn.onnx")
    fact = measure(path, settings={"allowedOperators": config})
    assert unsupported(fact) == [("ai.onnx", "Gemm", 17), ("ai.onnx", "GlobalAveragePool", 17)]
    assert fact["runtime"]["unsupported"][0]["reason"] == f"not in {config}"


def test_allowed_operators_refuse_an_older_kernel_version(measure: Measure, tmp_path: Path) -> None:
    # Relu changed at opset 14: a runtime built with the opset-6 kernel cannot run the opset-17 model.
    config = write_config(tmp_path, "ai.onnx;6;Relu\n")
    path = support_onnx.save(support_onnx.with_if(then_op="Relu"), tmp_path / "if.onnx")
    fact = measure(path, settings={"allowedOperators": config})
    assert unsupported(fact) == [("ai.onnx", "If", 17), ("ai.onnx", "Neg", 17), ("ai.onnx", "Relu", 17)]


def test_allowed_operators_do_not_create_a_session(measure: Measure, tmp_path: Path) -> None:
    config = write_config(tmp_path, "ai.onnx;17;Relu\ncom.example;1;FancyOp\n")
    path = support_onnx.save(support_onnx.custom_op(), tmp_path / "custom.onnx")
    assert measure(path, settings={"allowedOperators": config})["runtime"]["unsupported"] == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("ai.onnx;Conv\n", "expected 'domain;opset;Op1,Op2,...'"),
        ("ai.onnx;x;Conv\n", "the opset must be an integer or a comma-separated list"),
        ('ai.onnx;11;Conv{"inputs": 1\n', "unbalanced braces"),
        ("ai.onnx;11; , \n", "no operator named"),
    ],
)
def test_malformed_allowed_operators_config_is_a_config_error(
    measure: Measure, tmp_path: Path, text: str, error: str
) -> None:
    config = write_config(tmp_path, text)
    path = support_onnx.save(support_onnx.custom_op(), tmp_path / "custom.onnx")
    with pytest.raises(ConfigError) as caught:
        measure(path, settings={"allowedOperators": config})
    assert caught.value.message == f"fleetgate.yaml: evidence.model.allowedOperators: {config}:1: {error}"
