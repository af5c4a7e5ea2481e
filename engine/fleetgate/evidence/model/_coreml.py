"""Read a Core ML model (``.mlmodel`` file or ``.mlpackage`` directory) with coremltools' protos.

Runs only inside the bounded probe child (:mod:`fleetgate.evidence._probe`): protobuf's parser
and coremltools are native code over untrusted bytes. An ``.mlpackage`` is opened through its
``Manifest.json``: the root model entry and every entry must name a file inside the package
that exists. Nothing is compiled or run: Core ML runs only on Apple platforms.

The fact: specification version, the minimum iOS it needs (Core ML's table from specification
version to release), model type, layers (neural networks) or operations (ML programs), and how
the weight bytes are stored (fp32, fp16, linear-quantized, palettized).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["MIN_IOS", "read_coreml"]

# Core ML specification version -> the iOS major release that reads it (coremltools' table:
# _SPECIFICATION_VERSION_IOS_*; version 2 shipped with iOS 11.2).
MIN_IOS = {1: 11, 2: 11, 3: 12, 4: 13, 5: 14, 6: 15, 7: 16, 8: 17, 9: 18, 10: 26}
_MAX_SPEC_BYTES = 2 << 30
_MAX_MANIFEST_BYTES = 1 << 20
_NESTING = 32
_MIL_BITS = {
    "FLOAT32": 32, "FLOAT16": 16, "BFLOAT16": 16, "FLOAT64": 64, "INT8": 8, "UINT8": 8, "INT16": 16,
    "UINT16": 16, "INT32": 32, "UINT32": 32, "INT64": 64, "UINT64": 64, "INT4": 4, "UINT4": 4,
    "UINT2": 2, "UINT1": 1, "UINT6": 6, "UINT3": 3, "BOOL": 8, "FLOAT8E4M3FN": 8, "FLOAT8E5M2": 8,
}  # fmt: skip
_LINEAR = frozenset({"constexpr_affine_dequantize", "constexpr_blockwise_shift_scale"})
_PALETTE = frozenset({"constexpr_lut_to_dense"})


class MalformedModel(Exception):
    """The bytes are not a well-formed Core ML model; the message says where."""


def read_coreml(path: str) -> dict[str, Any]:
    """The Core ML part of the model fact for the file or package at ``path``."""
    from coremltools.proto import Model_pb2

    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(_spec_bytes(Path(path)))
    except Exception as exc:  # DecodeError, RecursionError
        raise MalformedModel(f"not a Core ML specification: {type(exc).__name__}: {exc}") from None
    model_type = spec.WhichOneof("Type")
    if model_type is None:
        raise MalformedModel("the Core ML specification names no model type")
    version = int(spec.specificationVersion)
    layers: Counter[str] = Counter()
    precision: Counter[str] = Counter()
    _walk(spec, layers, precision, 0)
    total = sum(precision.values())
    return {
        "specification_version": version,
        "min_ios_major": MIN_IOS.get(version),
        "model_type": model_type,
        "nodes": sum(layers.values()),
        "operators": [{"op": name, "count": count} for name, count in sorted(layers.items())],
        "weight_bytes": total,
        "weight_precision": {name: size for name, size in sorted(precision.items()) if size},
        **_label(precision, total),
        "runtime": {"target": "Core ML (not run here)", "unsupported": []},
    }


def _spec_bytes(path: Path) -> bytes:
    if not path.is_dir():
        return _read(path, _MAX_SPEC_BYTES)
    try:
        manifest = json.loads(_read(path / "Manifest.json", _MAX_MANIFEST_BYTES))
        entries = manifest["itemInfoEntries"]
        root = entries[manifest["rootModelIdentifier"]]["path"]
        paths = [entry["path"] for entry in entries.values()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedModel(
            f"Manifest.json is not an mlpackage manifest ({type(exc).__name__}: {exc})"
        ) from None
    for name in paths:
        _inside(path, name)
    return _read(_inside(path, root), _MAX_SPEC_BYTES)


def _inside(package: Path, name: object) -> Path:
    if not isinstance(name, str) or not name or PurePosixPath(name).is_absolute() or ".." in name.split("/"):
        raise MalformedModel(f"Manifest.json names {name!r}, which is not a path inside the package")
    target = package / "Data" / name
    if not target.exists():
        raise MalformedModel(f"Manifest.json names Data/{name}, which is missing")
    if not target.resolve().is_relative_to(package.resolve()):
        raise MalformedModel(f"Manifest.json names Data/{name}, which resolves outside the package")
    return target


def _read(path: Path, cap: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise MalformedModel(f"{path.name} is larger than {cap} bytes")
    return data


def _walk(message: Any, layers: Counter[str], precision: Counter[str], depth: int) -> None:
    """Count layers and operations and size every stored weight, in nested models too."""
    if depth > _NESTING:
        raise MalformedModel("the specification nests deeper than fleetgate reads")
    kind = message.DESCRIPTOR.name
    if kind == "NeuralNetworkLayer":
        layers[message.WhichOneof("layer") or "unknown"] += 1
    elif kind == "Operation":
        layers[message.type] += 1
        _operation(message, precision)
    elif kind == "WeightParams":
        _weights(message, precision)
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        items = value.values() if field.message_type.GetOptions().map_entry else value
        for item in items if field.is_repeated else [value]:
            if hasattr(item, "DESCRIPTOR"):
                _walk(item, layers, precision, depth + 1)


def _weights(weights: Any, precision: Counter[str]) -> None:
    precision["fp32"] += 4 * len(weights.floatValue)
    precision["fp16"] += len(weights.float16Value)
    precision["int8"] += len(weights.int8RawValue)
    if weights.rawValue:
        scheme = (
            weights.quantization.WhichOneof("QuantizationType") if weights.HasField("quantization") else None
        )
        names = {"linearQuantization": "linear-quantized", "lookupTableQuantization": "palettized"}
        precision[names.get(scheme or "", "fp32")] += len(weights.rawValue)


def _operation(operation: Any, precision: Counter[str]) -> None:
    if operation.type not in ("const", *_LINEAR, *_PALETTE):
        return
    kind = (
        "linear-quantized"
        if operation.type in _LINEAR
        else "palettized"
        if operation.type in _PALETTE
        else None
    )
    for name, value in operation.attributes.items():
        if name == "val" or kind is not None:
            size, dtype = _tensor_bytes(value)
            if size:
                precision[kind or _precision(dtype)] += size


def _tensor_bytes(value: Any) -> tuple[int, str]:
    from coremltools.proto import MIL_pb2

    tensor = value.type.tensorType
    dtype = MIL_pb2.DataType.Name(tensor.dataType) if tensor.dataType in MIL_pb2.DataType.values() else "?"
    dims = [d.constant.size for d in tensor.dimensions]
    return math.ceil(math.prod(dims) * _MIL_BITS.get(dtype, 0) / 8), dtype


def _precision(dtype: str) -> str:
    if dtype in ("FLOAT16", "BFLOAT16"):
        return "fp16"
    if dtype in ("INT8", "UINT8"):
        return "int8"
    return "fp32" if dtype.startswith("FLOAT") else dtype.lower()


def _label(precision: Counter[str], total: int) -> dict[str, Any]:
    quantized = sum(
        size for name, size in precision.items() if name in ("int8", "linear-quantized", "palettized")
    )
    share = quantized / total if total else 0.0
    if total and share >= 0.5:
        label = (
            "int8"
            if precision["int8"] + precision["linear-quantized"] >= precision["palettized"]
            else "palettized"
        )
    elif total and precision["fp16"] / total >= 0.5:
        label = "fp16"
    else:
        label = "fp32"
    return {"quantized_weight_share": round(share, 4), "quantization": label}
