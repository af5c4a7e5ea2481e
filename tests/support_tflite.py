"""Small TFLite models written with LiteRT's flatbuffer schema module: no TensorFlow, no network.

Every model is a binary classifier over ``features`` float columns: one FULLY_CONNECTED layer
and a LOGISTIC, so its output ``[rows, 1]`` is P(positive), as the fairness collector reads it.
The variants store the weights differently (float32, float16, dynamic-range int8, full int8)
or break the runtime on purpose (a custom op, a Select-TF op, a too-new op version).
Import only from tests that need TFLite: it imports numpy and ai_edge_litert.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

OP = schema.BuiltinOperator
TYPE = schema.TensorType
SCHEMA_VERSION = 3


def save(data: bytes, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _tensor(name: str, shape: Sequence[int], dtype: int, buffer: int = 0, quant=None, dynamic: bool = False):  # type: ignore[no-untyped-def]
    tensor = schema.TensorT()
    tensor.name = name
    tensor.shape = list(shape)
    if dynamic:
        tensor.shapeSignature = [-1, *shape[1:]]
    tensor.type = dtype
    tensor.buffer = buffer
    tensor.quantization = quant
    return tensor


def _quant(scale: Sequence[float], zero_point: Sequence[int], axis: int = 0):  # type: ignore[no-untyped-def]
    q = schema.QuantizationParametersT()
    q.scale = [float(s) for s in scale]
    q.zeroPoint = [int(z) for z in zero_point]
    q.quantizedDimension = axis
    return q


def _buffer(data: bytes | None = None):  # type: ignore[no-untyped-def]
    buffer = schema.BufferT()
    buffer.data = list(data) if data else None
    return buffer


def _code(builtin: int, version: int = 1, custom: str | None = None):  # type: ignore[no-untyped-def]
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, OP.PLACEHOLDER_FOR_GREATER_OP_CODES)
    code.version = version
    code.customCode = custom
    return code


def _operator(code: int, inputs: Sequence[int], outputs: Sequence[int], options=None, kind: int = 0):  # type: ignore[no-untyped-def]
    op = schema.OperatorT()
    op.opcodeIndex = code
    op.inputs = list(inputs)
    op.outputs = list(outputs)
    op.builtinOptionsType = kind
    op.builtinOptions = options
    return op


def _dense(code: int, inputs: Sequence[int], output: int):  # type: ignore[no-untyped-def]
    options = schema.FullyConnectedOptionsT()
    return _operator(code, inputs, [output], options, schema.BuiltinOptions.FullyConnectedOptions)


def classifier(
    weights: Sequence[float] = (2.0, -1.0, 0.5),
    bias: float = 0.0,
    *,
    storage: str = "float32",
    custom_op: str | None = None,
    fc_version: int = 1,
    outputs: int = 1,
) -> bytes:
    """A ``[rows, features] -> [rows, outputs]`` logistic classifier as TFLite bytes.

    ``storage``: ``float32``, ``float16`` (weights float16 behind a DEQUANTIZE), ``dynamic``
    (int8 weights, float activations: dynamic-range), ``per-channel`` (dynamic-range with one
    scale per output row) or ``int8`` (int8 inputs, weights and outputs: full integer).
    ``custom_op`` appends a CUSTOM operator with that code (``Flex...`` is a Select-TF op).
    """
    features = len(weights)
    matrix = np.tile(np.asarray(weights, np.float32), (outputs, 1))
    buffers = [_buffer(), _buffer()]  # buffer 0 is the empty sentinel; 1 is left for the bias
    tensors = []
    codes = [_code(OP.FULLY_CONNECTED, fc_version), _code(OP.LOGISTIC)]
    ops = []
    integer = storage == "int8"
    act = TYPE.INT8 if integer else TYPE.FLOAT32
    in_q = _quant([1 / 16], [0]) if integer else None
    tensors.append(_tensor("input", [1, features], act, quant=in_q, dynamic=True))  # 0
    w_index = len(tensors)
    if storage in ("float32",):
        buffers.append(_buffer(matrix.tobytes()))
        tensors.append(_tensor("weights", matrix.shape, TYPE.FLOAT32, len(buffers) - 1))
    elif storage == "float16":
        buffers.append(_buffer(matrix.astype(np.float16).tobytes()))
        tensors.append(_tensor("weights_fp16", matrix.shape, TYPE.FLOAT16, len(buffers) - 1))
        tensors.append(_tensor("weights", matrix.shape, TYPE.FLOAT32))
        codes.append(_code(OP.DEQUANTIZE))
        ops.append(_operator(len(codes) - 1, [w_index], [w_index + 1]))
        w_index += 1
    else:
        per_row = np.abs(matrix).max(axis=1) / 127
        scale = per_row if storage == "per-channel" else np.full(outputs, per_row.max())
        stored = np.round(matrix / scale[:, None]).astype(np.int8)
        buffers.append(_buffer(stored.tobytes()))
        scales = scale if storage == "per-channel" else scale[:1]
        quant = _quant(scales, [0] * len(scales))
        tensors.append(_tensor("weights", matrix.shape, TYPE.INT8, len(buffers) - 1, quant))
    b_index = len(tensors)
    if integer:
        w_scale = float(np.abs(matrix).max() / 127)
        bias_q = np.full(outputs, round(bias / (w_scale / 16)), np.int32)
        buffers[1] = _buffer(bias_q.tobytes())
        tensors.append(_tensor("bias", [outputs], TYPE.INT32, 1, _quant([w_scale / 16], [0])))
    else:
        buffers[1] = _buffer(np.full(outputs, bias, np.float32).tobytes())
        tensors.append(_tensor("bias", [outputs], TYPE.FLOAT32, 1))
    logit_q = _quant([1 / 8], [0]) if integer else None
    tensors.append(_tensor("logit", [1, outputs], act, quant=logit_q, dynamic=True))
    prob_q = _quant([1 / 256], [-128]) if integer else None
    tensors.append(_tensor("probability", [1, outputs], act, quant=prob_q, dynamic=True))
    logit, probability = len(tensors) - 2, len(tensors) - 1
    ops.append(_dense(0, [0, w_index, b_index], logit))
    ops.append(_operator(1, [logit], [probability]))
    result = probability
    if custom_op is not None:
        codes.append(_code(OP.CUSTOM, 1, custom_op))
        tensors.append(_tensor("custom_out", [1, outputs], act, quant=prob_q, dynamic=True))
        ops.append(_operator(len(codes) - 1, [probability], [len(tensors) - 1]))
        result = len(tensors) - 1
    return _finish(tensors, ops, codes, buffers, [0], [result])


def _finish(tensors, ops, codes, buffers, inputs, outputs) -> bytes:  # type: ignore[no-untyped-def]
    graph = schema.SubGraphT()
    graph.tensors = tensors
    graph.operators = ops
    graph.inputs = list(inputs)
    graph.outputs = list(outputs)
    graph.name = "main"
    model = schema.ModelT()
    model.version = SCHEMA_VERSION
    model.operatorCodes = codes
    model.subgraphs = [graph]
    model.buffers = buffers
    model.description = "fleetgate test model"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def cnn(channels: int = 96, image: int = 64, classes: int = 10, seed: int = 0) -> bytes:
    """An fp32 image classifier: two 3x3 convolutions, mean pooling, a dense layer.

    96 channels is about 0.35 MB of weights; 256 channels about 2.4 MB.
    Input ``[1, image, image, 3]`` (NHWC), output ``[1, classes]``.
    """
    rng = np.random.default_rng(seed)
    buffers = [_buffer()]
    tensors = [_tensor("input", [1, image, image, 3], TYPE.FLOAT32)]

    def constant(name: str, array: np.ndarray) -> int:
        buffers.append(_buffer(array.astype(np.float32).tobytes()))
        tensors.append(_tensor(name, array.shape, TYPE.FLOAT32, len(buffers) - 1))
        return len(tensors) - 1

    def activation(name: str, shape: Sequence[int]) -> int:
        tensors.append(_tensor(name, shape, TYPE.FLOAT32))
        return len(tensors) - 1

    codes = [_code(OP.CONV_2D), _code(OP.MEAN), _code(OP.FULLY_CONNECTED)]
    ops = []
    conv_options = schema.Conv2DOptionsT()
    conv_options.padding = schema.Padding.SAME
    conv_options.strideH = conv_options.strideW = 1
    conv_options.fusedActivationFunction = schema.ActivationFunctionType.RELU
    previous, depth = 0, 3
    for layer in (1, 2):
        w = constant(f"conv{layer}.w", rng.standard_normal((channels, 3, 3, depth)) / np.sqrt(9 * depth))
        b = constant(f"conv{layer}.b", np.zeros(channels))
        out = activation(f"conv{layer}", [1, image, image, channels])
        ops.append(_operator(0, [previous, w, b], [out], conv_options, schema.BuiltinOptions.Conv2DOptions))
        previous, depth = out, channels
    axes = len(tensors)
    buffers.append(_buffer(np.asarray([1, 2], np.int32).tobytes()))
    tensors.append(_tensor("axes", [2], TYPE.INT32, len(buffers) - 1))
    pooled = activation("pooled", [1, channels])
    ops.append(
        _operator(
            1, [previous, axes], [pooled], schema.ReducerOptionsT(), schema.BuiltinOptions.ReducerOptions
        )
    )
    fc_w = constant("fc.w", rng.standard_normal((classes, channels)) / np.sqrt(channels))
    fc_b = constant("fc.b", np.zeros(classes))
    logits = activation("logits", [1, classes])
    ops.append(_dense(2, [pooled, fc_w, fc_b], logits))
    return _finish(tensors, ops, codes, buffers, [0], [logits])
