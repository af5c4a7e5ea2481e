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
