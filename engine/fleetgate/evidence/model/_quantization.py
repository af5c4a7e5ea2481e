"""How much of a model is quantized: by stored weight bytes and by compute node.

Storage is judged by initializer data types only. A fake-quantized model (QuantizeLinear and
DequantizeLinear around float weights, as quantization-aware training exports) computes in
float and ships float bytes, so it counts as float and is flagged ``fake_quantized``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import onnx

from fleetgate.evidence.model._graph import NodeUse, dtype_bits, dtype_name, tensors

__all__ = ["Quantization", "measure_quantization"]

QUANTIZED_STORAGE = ("int8", "uint8", "int4", "uint4", "int16", "uint16")
_HALF_STORAGE = ("float16", "bfloat16")
# Operators that carry a model's multiply-accumulate work, in float form...
_FLOAT_COMPUTE = frozenset(
    {
        "Conv", "ConvTranspose", "MatMul", "Gemm", "Attention", "MultiHeadAttention",
        "LSTM", "GRU", "RNN", "Einsum", "FusedConv", "FusedGemm", "FusedMatMul",
    }
)  # fmt: skip
# ...and in the quantized forms ORT's quantizers and kernels use.
_QUANTIZED_COMPUTE = frozenset(
    {
        "QLinearConv", "QLinearConvTranspose", "QLinearMatMul", "QGemm", "QAttention",
        "MatMulInteger", "ConvInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul",
        "DynamicQuantizeLSTM", "MatMulNBits", "MatMulBnb4",
    }
)  # fmt: skip
# A weight may pass through layout operators between its DequantizeLinear and the compute node.
_LAYOUT = frozenset({"Transpose", "Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"})
_QDQ = frozenset({"QuantizeLinear", "DequantizeLinear"})
# Operators whose packed integer weight is the input at this index.
_PACKED = {"MatMulNBits": 1, "GatherBlockQuantized": 0}


@dataclass(frozen=True)
class Quantization:
    """The quantization numbers of the model fact."""

    weight_bytes: int
    weight_types: dict[str, int]
    quantized_weight_share: float
    compute_nodes: int
    quantized_compute_nodes: int
    quantized_compute_share: float | None
    label: str
    fake_quantized: bool


def measure_quantization(model: onnx.ModelProto, uses: list[NodeUse]) -> Quantization:
    """Weight bytes by storage type, quantized compute nodes and the resulting label."""
    weight_types = _weight_types(tensors(model), _packed_weights(uses))
    total = sum(weight_types.values())
    quantized = sum(weight_types.get(name, 0) for name in QUANTIZED_STORAGE)
    half = sum(weight_types.get(name, 0) for name in _HALF_STORAGE)
    share = quantized / total if total else 0.0
    compute, quantized_compute = _compute_nodes(model, uses)
    if share >= 0.5:
        label = max(QUANTIZED_STORAGE, key=lambda name: weight_types.get(name, 0))
    elif total and half / total >= 0.5:
        label = "fp16"
    else:
        label = "fp32"
    has_qdq = any(use.domain in ("", "com.microsoft") and use.node.op_type in _QDQ for use in uses)
    return Quantization(
        weight_bytes=total,
        weight_types=dict(sorted(weight_types.items())),
        quantized_weight_share=round(share, 4),
        compute_nodes=compute,
        quantized_compute_nodes=quantized_compute,
        quantized_compute_share=round(quantized_compute / compute, 4) if compute else None,
        label=label,
        fake_quantized=has_qdq and label in ("fp32", "fp16"),
    )


def _weight_types(stored: Iterable[onnx.TensorProto], packed: dict[str, str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for tensor in stored:
        name = packed.get(tensor.name) or dtype_name(tensor.data_type)
        found[name] = found.get(name, 0) + _stored_bytes(tensor)
    return found


def _packed_weights(uses: list[NodeUse]) -> dict[str, str]:
    """Weights stored as uint8 bytes that each pack several narrower integers, by name.

    MatMulNBits (and GatherBlockQuantized for embeddings) keep 4-bit (or 2-bit) weights two
    (or four) to a uint8 byte; the ``bits`` attribute says how wide each integer is.
    """
    packed: dict[str, str] = {}
    for use in uses:
        node = use.node
        if use.domain != "com.microsoft" or node.op_type not in _PACKED or len(node.input) < 2:
            continue
        bits = next((int(a.i) for a in node.attribute if a.name == "bits"), 4)
        weight = node.input[_PACKED[node.op_type]]
        if bits in (2, 4, 8):
            packed[weight] = f"uint{bits}"
    return packed


def _stored_bytes(tensor: onnx.TensorProto) -> int:
    # The checker (and, for external data, the loader) verified the data covers the shape, so
    # the shape gives the stored size whether the bytes are raw, typed fields or external.
    bits = dtype_bits(tensor.data_type)
    if bits:
        return (int(math.prod(tensor.dims)) * bits + 7) // 8
    return int(sum(len(value) for value in tensor.string_data) or len(tensor.raw_data))


def _compute_nodes(model: onnx.ModelProto, uses: list[NodeUse]) -> tuple[int, int]:
    integer_weights = {
        tensor.name for tensor in tensors(model) if dtype_name(tensor.data_type) in QUANTIZED_STORAGE
    }
    producers = {output: use.node for use in uses for output in use.node.output}
    compute = quantized = 0
    for use in uses:
        op = use.node.op_type
        if op in _QUANTIZED_COMPUTE:
            compute += 1
            quantized += 1
        elif op in _FLOAT_COMPUTE and use.domain in ("", "com.microsoft"):
            compute += 1
            if any(_dequantized_integer(name, producers, integer_weights) for name in use.node.input):
                quantized += 1
    return compute, quantized


def _dequantized_integer(name: str, producers: dict[str, onnx.NodeProto], integer: set[str]) -> bool:
    """Whether ``name`` is a DequantizeLinear of a stored integer weight, through layout ops."""
    seen: set[str] = set()
    while name in producers and name not in seen:
        seen.add(name)
        node = producers[name]
        if node.op_type == "DequantizeLinear":
            source = node.input[0] if node.input else ""
            return source in integer or _is_integer_constant(producers.get(source))
        if node.op_type not in _LAYOUT or not node.input:
            return False
        name = node.input[0]
    return False


def _is_integer_constant(node: onnx.NodeProto | None) -> bool:
    # A Constant node's tensor is usually unnamed, so it is found by its producer, not its name.
    if node is None or node.op_type != "Constant":
        return False
    return any(
        attribute.name == "value" and dtype_name(attribute.t.data_type) in QUANTIZED_STORAGE
        for attribute in node.attribute
    )
