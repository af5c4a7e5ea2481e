"""A small TFLite model for the demo, written with LiteRT's flatbuffer schema module, offline.

No TensorFlow and no converter: the model is assembled from ``ai_edge_litert``'s generated
schema classes, the way a converter writes it. It is a wake-word scorer over ``features`` audio
features: one FULLY_CONNECTED layer and a LOGISTIC, output ``[1, 1]`` = P(wake word).

``wake_word("float32")`` is the trained model; ``wake_word("int8")`` is its full-integer
conversion: int8 inputs, weights and outputs, an int32 bias with its scale, which is what a
manifest declaring ``quantization: int8`` must ship.
"""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

FEATURES = 40


def wake_word(storage: str, seed: int = 5) -> bytes:
    """The model as TFLite bytes; ``storage`` is ``float32`` or ``int8`` (full integer)."""
    if storage not in ("float32", "int8"):
        raise ValueError(f"unknown storage {storage!r}")
    weights = np.random.default_rng(seed).standard_normal((1, FEATURES)).astype(np.float32) / 4
    integer = storage == "int8"
    activation = schema.TensorType.INT8 if integer else schema.TensorType.FLOAT32
    w_scale = float(np.abs(weights).max() / 127)
    buffers = [_buffer(b""), _buffer(b"")]  # 0: the empty sentinel; 1: the bias
    if integer:
        buffers.append(_buffer(np.round(weights / w_scale).astype(np.int8).tobytes()))
        buffers[1] = _buffer(np.zeros(1, np.int32).tobytes())
    else:
        buffers.append(_buffer(weights.tobytes()))
        buffers[1] = _buffer(np.zeros(1, np.float32).tobytes())

    def quant(scale: float, zero: int) -> Any:
        return _quantization(scale, zero) if integer else None

    weight_type = schema.TensorType.INT8 if integer else activation
    bias_type = schema.TensorType.INT32 if integer else activation
    tensors = [
        _tensor("features", [1, FEATURES], activation, 0, quant(1 / 16, 0)),
        _tensor("weights", [1, FEATURES], weight_type, 2, quant(w_scale, 0)),
        _tensor("bias", [1], bias_type, 1, quant(w_scale / 16, 0)),
        _tensor("logit", [1, 1], activation, 0, quant(1 / 8, 0)),
        _tensor("score", [1, 1], activation, 0, quant(1 / 256, -128)),
    ]
    dense = _operator(0, [0, 1, 2], [3])
    dense.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
    dense.builtinOptions = schema.FullyConnectedOptionsT()
    graph = schema.SubGraphT()
    graph.name, graph.tensors, graph.inputs, graph.outputs = "main", tensors, [0], [4]
    graph.operators = [dense, _operator(1, [3], [4])]
    model = schema.ModelT()
    model.version, model.description = 3, "wake-word scorer"
    operators = schema.BuiltinOperator
    model.operatorCodes = [_code(operators.FULLY_CONNECTED), _code(operators.LOGISTIC)]
    model.subgraphs, model.buffers = [graph], buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _buffer(data: bytes) -> Any:
    buffer = schema.BufferT()
    buffer.data = list(data) if data else None
    return buffer


def _quantization(scale: float, zero_point: int) -> Any:
    parameters = schema.QuantizationParametersT()
    parameters.scale, parameters.zeroPoint = [scale], [zero_point]
    return parameters


def _tensor(name: str, shape: list[int], dtype: int, buffer: int, quantization: Any) -> Any:
    tensor = schema.TensorT()
    tensor.name, tensor.shape, tensor.type, tensor.buffer = name, shape, dtype, buffer
    tensor.quantization = quantization
    return tensor


def _code(builtin: int) -> Any:
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, builtin, 1
    return code


def _operator(code: int, inputs: list[int], outputs: list[int]) -> Any:
    operator = schema.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = code, inputs, outputs
    return operator
