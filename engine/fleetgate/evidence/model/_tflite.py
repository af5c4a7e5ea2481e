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
from dataclasses import dataclass, field
from typing import Any

__all__ = ["read_tflite"]

_BITS = {
    "FLOAT32": 32, "FLOAT16": 16, "INT32": 32, "UINT8": 8, "INT64": 64, "BOOL": 8, "INT16": 16,
    "INT8": 8, "FLOAT64": 64, "UINT64": 64, "UINT32": 32, "UINT16": 16, "INT4": 4, "BFLOAT16": 16,
    "INT2": 2, "UINT4": 4, "COMPLEX64": 64, "COMPLEX128": 128,
}  # fmt: skip
QUANTIZED_STORAGE = ("int8", "uint8", "int16", "int4", "uint4", "int2")
QUANTIZED_BIAS = "int32-quantized"
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


def _names(enum: Any) -> dict[int, str]:
    return {value: name for name, value in vars(enum).items() if not name.startswith("_")}


def _length(n: int, data: bytes, what: str, width: int = 4) -> int:
    # A vector of n entries takes at least n * width bytes: a longer count is an offset gone astray.
    if n < 0 or n * width > len(data):
        raise MalformedModel(f"{what} claims {n} entries, more than the file can hold")
    return n


@dataclass
class _Tally:
    """What the walk over every subgraph adds up."""

    weights: Counter[str] = field(default_factory=Counter)  # stored bytes by storage type
    granularity: Counter[str] = field(default_factory=Counter)  # quantized weight tensors
    used: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operator, version)
    tensors: int = 0
    compute: int = 0
    quantized_compute: int = 0


def _structure(schema: Any, data: bytes) -> dict[str, Any]:
    model = schema.Model.GetRootAs(data, 0)
    codes = _operator_codes(schema, model, data)
    subgraphs = _length(model.SubgraphsLength(), data, "subgraphs")
    if subgraphs == 0:
        raise MalformedModel("the model has no subgraph")
    tally = _Tally()
    io_types: dict[str, list[str]] = {}
    for s in range(subgraphs):
        graph = model.Subgraphs(s)
        types = _tensors(schema, model, graph, data, tally)
        if s == 0:
            io_types = {
                "inputs": [types[i] for i in _indices(graph.InputsAsNumpy(), len(types))],
                "outputs": [types[i] for i in _indices(graph.OutputsAsNumpy(), len(types))],
            }
        _operators(graph, s, codes, types, data, tally)
    custom = sorted({name for name, _, is_custom in codes if is_custom and not name.startswith("Flex")})
    flex = sorted({name for name, _, is_custom in codes if is_custom and name.startswith("Flex")})
    return {
        "schema_version": model.Version(),
        "subgraphs": subgraphs,
        "tensors": tally.tensors,
        "nodes": sum(tally.used.values()),
        "operators": [{"op": n, "version": v, "count": c} for (n, v), c in sorted(tally.used.items())],
        "io_types": io_types,
        **_quantization(tally, io_types),
        "custom_ops": custom,
        "flex_ops": flex,
    }


def _operator_codes(schema: Any, model: Any, data: bytes) -> list[tuple[str, int, bool]]:
    """``(name, version, is_custom)`` per operator code; a custom op goes by its custom code."""
    names = _names(schema.BuiltinOperator)
    codes = []
    for i in range(_length(model.OperatorCodesLength(), data, "operator_codes")):
        code = model.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        custom = code.CustomCode()
        is_custom = builtin == schema.BuiltinOperator.CUSTOM and bool(custom)
        name = custom.decode("utf-8", "replace") if is_custom else names.get(builtin, f"OP_{builtin}")
        codes.append((name, code.Version(), is_custom))
    return codes


def _tensors(schema: Any, model: Any, graph: Any, data: bytes, tally: _Tally) -> list[str]:
    """Each tensor's storage type; stored (weight) bytes are added to the tally."""
    names = _names(schema.TensorType)
    buffers = _length(model.BuffersLength(), data, "buffers")
    types: list[str] = []
    for t in range(_length(graph.TensorsLength(), data, "tensors")):
        tensor = graph.Tensors(t)
        dtype = names.get(tensor.Type(), f"type{tensor.Type()}").lower()
        types.append(dtype)
        stored = _stored_bytes(model, tensor.Buffer(), buffers, data)
        if not stored:
            continue
        scales = _scales(tensor)
        # A full-integer model keeps its biases as int32 with a scale: quantized storage too.
        kind = QUANTIZED_BIAS if dtype == "int32" and scales else dtype
        tally.weights[kind] += stored
        if kind in QUANTIZED_STORAGE:
            tally.granularity["per-channel" if scales > 1 else "per-tensor"] += 1
    tally.tensors += len(types)
    return types


def _operators(
    graph: Any, s: int, codes: list[tuple[str, int, bool]], types: list[str], data: bytes, tally: _Tally
) -> None:
    for o in range(_length(graph.OperatorsLength(), data, "operators")):
        op = graph.Operators(o)
        index = op.OpcodeIndex()
        if not 0 <= index < len(codes):
            raise MalformedModel(f"operator {o} of subgraph {s} names opcode {index}, not in the table")
        name, version, _ = codes[index]
        tally.used[(name, version)] += 1
        if name in _COMPUTE:
            tally.compute += 1
            inputs = _indices(op.InputsAsNumpy(), len(types))
            if len(inputs) > 1 and types[inputs[1]] in QUANTIZED_STORAGE:
                tally.quantized_compute += 1


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
    return _length(buffer.DataLength(), data, f"buffer {index}", width=1)


def _scales(tensor: Any) -> int:
    quantization = tensor.Quantization()
    return 0 if quantization is None else int(quantization.ScaleLength())


def _quantization(tally: _Tally, io: dict[str, list[str]]) -> dict[str, Any]:
    weights, granularity = tally.weights, tally.granularity
    compute, quantized = tally.compute, tally.quantized_compute
    total = sum(weights.values())
    integer = sum(size for name, size in weights.items() if name in (*QUANTIZED_STORAGE, QUANTIZED_BIAS))
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
