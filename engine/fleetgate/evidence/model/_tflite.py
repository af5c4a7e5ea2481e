"""Read a TFLite (LiteRT) flatbuffer: structure, quantization truth and the runtime's verdict.

Runs only inside the bounded probe child (:mod:`fleetgate.evidence._probe`): it imports
LiteRT's generated schema module and interpreter, no TensorFlow. The flatbuffer reader trusts
offsets, so every vector length is checked against the file size before it is walked, and any
exception reading it means a malformed file. The runtime verdict comes from the LiteRT
interpreter itself: building it and allocating tensors fails for an unresolved custom op, a
Select-TF (Flex) op without the Flex delegate, or a builtin op version newer than the runtime
registers.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

__all__ = ["read_tflite"]

_BITS = {
    "FLOAT32": 32, "FLOAT16": 16, "INT32": 32, "UINT8": 8, "INT64": 64, "BOOL": 8, "INT16": 16,
    "INT8": 8, "FLOAT64": 64, "UINT64": 64, "UINT32": 32, "UINT16": 16, "INT4": 4, "BFLOAT16": 16,
    "INT2": 2, "UINT4": 4, "COMPLEX64": 64, "COMPLEX128": 128,
}  # fmt: skip
QUANTIZED_STORAGE = ("int8", "uint8", "int16", "int4", "uint4", "int2")
_HALF = ("float16", "bfloat16")
# Operators that carry a model's multiply-accumulate work; quantized when their weight is.
_COMPUTE = frozenset(
    {
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "CONV_3D",
        "BATCH_MATMUL", "UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM", "SVDF", "EMBEDDING_LOOKUP",
    }
)  # fmt: skip
_TOO_NEW = re.compile(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'")
_CUSTOM = re.compile(r"unresolved custom op: (\S+?)\.?(?:\s|$)")


class MalformedModel(Exception):
    """The bytes are not a well-formed TFLite model; the message says where."""


def read_tflite(path: str) -> dict[str, Any]:
    """The TFLite part of the model fact for the file at ``path``."""
    from ai_edge_litert import schema_py_generated as schema

    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 8 or not schema.Model.ModelBufferHasIdentifier(data, 0):
        raise MalformedModel("not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        fact = _structure(schema, data)
    except MalformedModel:
        raise
    except Exception as exc:  # struct.error, IndexError, UnicodeDecodeError: offsets outside the file
        raise MalformedModel(f"malformed flatbuffer: {type(exc).__name__}: {exc}") from None
    fact["runtime"] = _runtime(data, fact["custom_ops"], fact["flex_ops"])
    return fact


def _names(schema: Any, enum: Any) -> dict[int, str]:
    return {value: name for name, value in vars(enum).items() if not name.startswith("_")}


def _length(n: int, data: bytes, what: str) -> int:
    # A vector of n entries takes at least 4n bytes: a longer count is an offset gone astray.
    if n < 0 or n * 4 > len(data):
        raise MalformedModel(f"{what} claims {n} entries, more than the file can hold")
    return n


def _structure(schema: Any, data: bytes) -> dict[str, Any]:
    model = schema.Model.GetRootAs(data, 0)
    ops_by_code = _names(schema, schema.BuiltinOperator)
    types = _names(schema, schema.TensorType)
    codes = []
    for i in range(_length(model.OperatorCodesLength(), data, "operator_codes")):
        code = model.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        custom = code.CustomCode()
        name = (
            custom.decode("utf-8", "replace") if builtin == schema.BuiltinOperator.CUSTOM and custom else None
        )
        codes.append((name or ops_by_code.get(builtin, f"OP_{builtin}"), code.Version(), name is not None))
    buffers = model.BuffersLength()
    _length(buffers, data, "buffers")
    subgraphs = _length(model.SubgraphsLength(), data, "subgraphs")
    if subgraphs == 0:
        raise MalformedModel("the model has no subgraph")
    used: Counter[tuple[str, int]] = Counter()
    weights: dict[str, int] = {}
    granularity: Counter[str] = Counter()
    compute = quantized_compute = tensor_count = 0
    io_types: dict[str, list[str]] = {}
    for s in range(subgraphs):
        graph = model.Subgraphs(s)
        tensor_total = _length(graph.TensorsLength(), data, "tensors")
        tensor_count += tensor_total
        tensor_types: list[str] = []
        for t in range(tensor_total):
            tensor = graph.Tensors(t)
            dtype = types.get(tensor.Type(), f"type{tensor.Type()}").lower()
            tensor_types.append(dtype)
            stored = _stored_bytes(model, tensor.Buffer(), buffers, data)
            if stored:
                weights[dtype] = weights.get(dtype, 0) + stored
                if dtype in QUANTIZED_STORAGE:
                    granularity[_granularity(tensor)] += 1
        if s == 0:
            io_types = {
                "inputs": [tensor_types[i] for i in _indices(graph.InputsAsNumpy(), tensor_total)],
                "outputs": [tensor_types[i] for i in _indices(graph.OutputsAsNumpy(), tensor_total)],
            }
        for o in range(_length(graph.OperatorsLength(), data, "operators")):
            op = graph.Operators(o)
            index = op.OpcodeIndex()
            if not 0 <= index < len(codes):
                raise MalformedModel(f"operator {o} of subgraph {s} names opcode {index}, not in the table")
            name, version, _ = codes[index]
            used[(name, version)] += 1
            if name in _COMPUTE:
                compute += 1
                inputs = _indices(op.InputsAsNumpy(), tensor_total)
                if len(inputs) > 1 and tensor_types[inputs[1]] in QUANTIZED_STORAGE:
                    quantized_compute += 1
    custom = sorted({name for name, _, is_custom in codes if is_custom and not name.startswith("Flex")})
    flex = sorted({name for name, _, is_custom in codes if is_custom and name.startswith("Flex")})
    return {
        "schema_version": model.Version(),
        "subgraphs": subgraphs,
        "tensors": tensor_count,
        "nodes": sum(used.values()),
        "operators": [{"op": n, "version": v, "count": c} for (n, v), c in sorted(used.items())],
        "io_types": io_types,
        **_quantization(weights, granularity, io_types, compute, quantized_compute),
        "custom_ops": custom,
        "flex_ops": flex,
    }


def _indices(array: Any, total: int) -> list[int]:
    values = [] if isinstance(array, int) else [int(i) for i in array]
    bad = [i for i in values if not -1 <= i < total]
    if bad:
        raise MalformedModel(f"tensor index {bad[0]} is outside the subgraph's {total} tensors")
    return [i for i in values if i >= 0]


def _stored_bytes(model: Any, index: int, buffers: int, data: bytes) -> int:
    if index == 0:
        return 0
    if not 0 < index < buffers:
        raise MalformedModel(f"a tensor names buffer {index}, not in the model's {buffers} buffers")
    buffer = model.Buffers(index)
    if buffer.Offset() > 1:  # a model over 2 GB keeps buffers after the flatbuffer
        if buffer.Offset() + buffer.Size() > len(data):
            raise MalformedModel(f"buffer {index} lies outside the file")
        return int(buffer.Size())
    return _length(buffer.DataLength(), data, f"buffer {index}") and int(buffer.DataLength())


def _granularity(tensor: Any) -> str:
    quantization = tensor.Quantization()
    scales = 0 if quantization is None else quantization.ScaleLength()
    return "per-channel" if scales > 1 else "per-tensor"


def _quantization(
    weights: dict[str, int], granularity: Counter[str], io: dict[str, list[str]], compute: int, quantized: int
) -> dict[str, Any]:
    total = sum(weights.values())
    integer = sum(size for name, size in weights.items() if name in QUANTIZED_STORAGE)
    half = sum(size for name, size in weights.items() if name in _HALF)
    share = integer / total if total else 0.0
    if total and share >= 0.5:
        label = max(QUANTIZED_STORAGE, key=lambda name: weights.get(name, 0))
    elif total and half / total >= 0.5:
        label = "fp16"
    else:
        label = "fp32"
    ends = io.get("inputs", []) + io.get("outputs", [])
    if integer and ends and all(t in QUANTIZED_STORAGE for t in ends):
        mode = "full-integer"
    elif integer:
        mode = "dynamic-range"
    else:
        mode = "float16" if label == "fp16" else "float"
    kinds = sorted(granularity)
    return {
        "weight_bytes": total,
        "weight_types": dict(sorted(weights.items())),
        "quantized_weight_share": round(share, 4),
        "compute_nodes": compute,
        "quantized_compute_nodes": quantized,
        "quantized_compute_share": round(quantized / compute, 4) if compute else None,
        "quantization": label,
        "quantization_mode": mode,
        "quantization_granularity": kinds[0] if len(kinds) == 1 else ("mixed" if kinds else None),
        "fake_quantized": False,
    }


def _runtime(data: bytes, custom: list[str], flex: list[str]) -> dict[str, Any]:
    """What the installed LiteRT CPU runtime says when it loads the model."""
    import ai_edge_litert
    from ai_edge_litert.interpreter import Interpreter

    unsupported = [_entry("flex", name, 1, "a Select-TF (Flex) op: needs the Flex delegate") for name in flex]
    unsupported += [
        _entry("custom", name, 1, "a custom op: the runtime registers no kernel for it") for name in custom
    ]
    try:
        Interpreter(model_content=data, num_threads=1).allocate_tensors()
    except Exception as exc:  # RuntimeError / ValueError with the runtime's message
        message = " ".join(str(exc).split())
        if (match := _TOO_NEW.search(message)) is not None:
            op, version = match.group(1), int(match.group(2))
            reason = f"op version {version} is newer than this runtime registers"
            unsupported.append(_entry("tflite", op, version, reason))
        elif not (custom or flex) or (_CUSTOM.search(message) is None and "Select TensorFlow" not in message):
            unsupported.append(_entry("tflite", "*", 0, f"the runtime refused the model: {message[:250]}"))
    return {"target": f"LiteRT {ai_edge_litert.__version__} CPU", "unsupported": unsupported}


def _entry(domain: str, op: str, version: int, reason: str) -> dict[str, Any]:
    return {"domain": domain, "op": op, "opset": version, "reason": reason}
