"""Small ONNX models built in milliseconds for the evidence tests.

Every builder pins the IR version and opset so the models stay loadable by the installed
onnxruntime whatever the onnx package would default to. Import this module only from tests
that need ONNX: it imports onnx and numpy at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 9
OPSET = 17


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def finish(graph: onnx.GraphProto, opsets: Sequence[tuple[str, int]] = (("", OPSET),)) -> onnx.ModelProto:
    """Wrap ``graph`` in a model with the pinned IR version and the given opset imports."""
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets]
    )
    model.ir_version = IR_VERSION
    return model


def cnn(channels: int = 32, classes: int = 10, image: int = 32, seed: int = 0) -> onnx.ModelProto:
    """An fp32 image classifier: two 3x3 convolutions, global pooling and a dense layer.

    ``channels`` sets the size: 32 channels is about 40 KB, 256 channels about 2.5 MB.
    Input ``input`` is ``[N, 3, image, image]`` (N dynamic), output ``logits`` is ``[N, classes]``.
    """
    rng = np.random.default_rng(seed)

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        scale = 1.0 / np.sqrt(np.prod(shape[1:]))
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [
        weight("conv1.w", channels, 3, 3, 3),
        numpy_helper.from_array(np.zeros(channels, np.float32), "conv1.b"),
        weight("conv2.w", channels, channels, 3, 3),
        numpy_helper.from_array(np.zeros(channels, np.float32), "conv2.b"),
        weight("fc.w", classes, channels),
        numpy_helper.from_array(np.zeros(classes, np.float32), "fc.b"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "conv2.w", "conv2.b"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, image, image])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        inits,
    )
    return finish(graph)


def linear_classifier(weights: Sequence[float], bias: float = 0.0) -> onnx.ModelProto:
    """A binary classifier ``sigmoid(x @ w + b)``.

    Input ``features`` is ``[N, len(weights)]`` float32; output ``probability`` is ``[N, 1]``,
    the probability of the positive class.
    """
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["z0"]),
            helper.make_node("Add", ["z0", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["probability"]),
        ],
        "linear_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", w.shape[0]])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.asarray([bias], np.float32), "b")],
    )
    return finish(graph)


def mlp(inputs: int = 16, hidden: int = 32, classes: int = 4, seed: int = 0) -> onnx.ModelProto:
    """A two-layer float perceptron (MatMul, Add, Relu, MatMul, Add); input ``features`` ``[N, inputs]``."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(rng.standard_normal((inputs, hidden)).astype(np.float32), "w1"),
        numpy_helper.from_array(np.zeros(hidden, np.float32), "b1"),
        numpy_helper.from_array(rng.standard_normal((hidden, classes)).astype(np.float32), "w2"),
        numpy_helper.from_array(np.zeros(classes, np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["o0"]),
        helper.make_node("Add", ["o0", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", inputs])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        inits,
    )
    return finish(graph)


def tree_classifier() -> onnx.ModelProto:
    """A one-tree ``ai.onnx.ml`` TreeEnsembleClassifier (opset 3): ``x[0] <= 0.5`` picks class 0 or 1."""
    node = helper.make_node(
        "TreeEnsembleClassifier",
        ["features"],
        ["label", "probabilities"],
        domain="ai.onnx.ml",
        classlabels_int64s=[0, 1],
        nodes_treeids=[0, 0, 0],
        nodes_nodeids=[0, 1, 2],
        nodes_featureids=[0, 0, 0],
        nodes_values=[0.5, 0.0, 0.0],
        nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"],
        nodes_truenodeids=[1, 0, 0],
        nodes_falsenodeids=[2, 0, 0],
        class_treeids=[0, 0],
        class_nodeids=[1, 2],
        class_ids=[0, 1],
        class_weights=[1.0, 1.0],
    )
    graph = helper.make_graph(
        [node],
        "tree",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
        ],
    )
    return finish(graph, (("", OPSET), ("ai.onnx.ml", 3)))


def fake_quantized(channels: int = 8, seed: int = 0) -> onnx.ModelProto:
    """A convolution whose float weight passes QuantizeLinear then DequantizeLinear at run time.

    This is what quantization-aware training exports: int8 arithmetic is simulated, but the
    stored weight stays float32.
    """
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(rng.standard_normal((channels, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(np.asarray(0.02, np.float32), "scale"),
        numpy_helper.from_array(np.asarray(0, np.int8), "zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["w", "scale", "zero"], ["w_q"]),
        helper.make_node("DequantizeLinear", ["w_q", "scale", "zero"], ["w_dq"]),
        helper.make_node("Conv", ["input", "w_dq"], ["output"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "fake_quantized",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", channels, 8, 8])],
        inits,
    )
    return finish(graph)


def custom_op(domain: str = "com.example", op: str = "FancyOp") -> onnx.ModelProto:
    """``Relu`` followed by an operator from a custom domain no runtime ships."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node(op, ["r"], ["y"], domain=domain)],
        "custom_op",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    return finish(graph, (("", OPSET), (domain, 1)))


def with_if(
    then_op: str = "Relu", domain: str = "", opsets: Sequence[tuple[str, int]] = ()
) -> onnx.ModelProto:
    """``If(cond)`` whose then-branch runs ``then_op`` (in ``domain``) and else-branch ``Neg``."""

    def branch(name: str, op: str, op_domain: str) -> onnx.GraphProto:
        return helper.make_graph(
            [helper.make_node(op, ["x"], [f"{name}_out"], domain=op_domain)],
            name,
            [],
            [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [1, 4])],
        )

    node = helper.make_node(
        "If",
        ["cond"],
        ["y"],
        then_branch=branch("then", then_op, domain),
        else_branch=branch("else", "Neg", ""),
    )
    graph = helper.make_graph(
        [node],
        "with_if",
        [
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    return finish(graph, (("", OPSET), *opsets))


def save_external(model: onnx.ModelProto, path: Path, location: str = "weights.bin") -> Path:
    """Save ``model`` with every initializer in the external file ``location`` beside it."""
    (path.parent / location).parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=True, location=location, size_threshold=0)
    return path


def set_external_location(path: Path, location: str) -> Path:
    """Rewrite the external-data location of every external tensor of the model at ``path``."""
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    with path.open("wb") as handle:
        handle.write(model.SerializeToString())
    return path


def quantize(source: Path, target: Path, mode: str, input_name: str, shape: Sequence[int]) -> Path:
    """Quantize the model at ``source`` with onnxruntime's quantizer into ``target``.

    ``mode`` is ``"qdq"`` or ``"qoperator"`` (static int8, calibrated on a few random inputs of
    ``shape``) or ``"dynamic"`` (int8 weights, activations quantized at run time).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        quantize_dynamic,
        quantize_static,
    )

    class _Random(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            feeds = [{input_name: rng.standard_normal(shape).astype(np.float32)} for _ in range(4)]
            self._feeds = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    if mode == "dynamic":
        quantize_dynamic(str(source), str(target))
    else:
        fmt = QuantFormat.QDQ if mode == "qdq" else QuantFormat.QOperator
        quantize_static(str(source), str(target), _Random(), quant_format=fmt)
    return target


def matmul_nbits(k: int = 64, n: int = 16, block: int = 32, seed: int = 0) -> onnx.ModelProto:
    """A 4-bit weight-only quantized linear layer (``com.microsoft`` MatMulNBits, as LLM exports use).

    The weight is ``n x k`` 4-bit integers packed two to a uint8 byte, with one float scale per
    block of ``block`` values. Input ``features`` is ``[N, k]``, output ``output`` is ``[N, n]``.
    """
    rng = np.random.default_rng(seed)
    blocks = k // block
    packed = rng.integers(0, 256, (n, blocks, block // 2), dtype=np.uint8)
    inits = [
        numpy_helper.from_array(packed, "w_packed"),
        numpy_helper.from_array(rng.random(n * blocks).astype(np.float32) / 100, "w_scales"),
    ]
    node = helper.make_node(
        "MatMulNBits",
        ["features", "w_packed", "w_scales"],
        ["output"],
        domain="com.microsoft",
        K=k,
        N=n,
        bits=4,
        block_size=block,
    )
    graph = helper.make_graph(
        [node],
        "matmul_nbits",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", k])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", n])],
        inits,
    )
    return finish(graph, (("", OPSET), ("com.microsoft", 1)))
