"""Walk every node and stored tensor of a model: main graph, subgraphs and local functions.

Control-flow operators (If, Loop, Scan) carry subgraphs in attributes, and model-local
functions carry their own node lists: an operator or weight hidden there still ships to the
device, so every measurement walks all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import onnx

from fleetgate.errors import EvidenceError

__all__ = ["NodeUse", "dtype_bits", "dtype_name", "node_uses", "shown_domain", "tensors"]

_T = onnx.TensorProto
# Storage size and the name the fact shows, per TensorProto data type.
_DTYPES: dict[int, tuple[str, int]] = {
    _T.FLOAT: ("float32", 32),
    _T.UINT8: ("uint8", 8),
    _T.INT8: ("int8", 8),
    _T.UINT16: ("uint16", 16),
    _T.INT16: ("int16", 16),
    _T.INT32: ("int32", 32),
    _T.INT64: ("int64", 64),
    _T.STRING: ("string", 0),
    _T.BOOL: ("bool", 8),
    _T.FLOAT16: ("float16", 16),
    _T.DOUBLE: ("float64", 64),
    _T.UINT32: ("uint32", 32),
    _T.UINT64: ("uint64", 64),
    _T.COMPLEX64: ("complex64", 64),
    _T.COMPLEX128: ("complex128", 128),
    _T.BFLOAT16: ("bfloat16", 16),
    _T.FLOAT8E4M3FN: ("float8e4m3fn", 8),
    _T.FLOAT8E4M3FNUZ: ("float8e4m3fnuz", 8),
    _T.FLOAT8E5M2: ("float8e5m2", 8),
    _T.FLOAT8E5M2FNUZ: ("float8e5m2fnuz", 8),
    _T.UINT4: ("uint4", 4),
    _T.INT4: ("int4", 4),
    _T.FLOAT4E2M1: ("float4e2m1", 4),
    _T.FLOAT8E8M0: ("float8e8m0", 8),
    _T.UINT2: ("uint2", 2),
    _T.INT2: ("int2", 2),
    _T.FLOAT6E2M3: ("float6e2m3", 8),
    _T.FLOAT6E3M2: ("float6e3m2", 8),
}


def dtype_name(data_type: int) -> str:
    return _DTYPES.get(data_type, (f"type{data_type}", 0))[0]


def dtype_bits(data_type: int) -> int:
    """Bits per stored element; 0 for strings and unknown types (sized by their data instead)."""
    return _DTYPES.get(data_type, ("", 0))[1]


def shown_domain(domain: str) -> str:
    """The domain as the fact shows it: the default domain is ``ai.onnx``."""
    return domain or "ai.onnx"


@dataclass(frozen=True)
class NodeUse:
    """One node with the opset version its domain has where the node lives."""

    node: onnx.NodeProto
    domain: str  # "" for the default domain, whatever the node spelled
    opset: int
    calls_function: bool  # the node invokes a model-local function, not a runtime operator


def node_uses(model: onnx.ModelProto, shown: str) -> list[NodeUse]:
    """Every node of the model, subgraphs and local function bodies included.

    EvidenceError (naming ``shown``) when a node's domain has no opset import.
    """
    functions = {(f.domain, f.name) for f in model.functions}
    uses: list[NodeUse] = []
    model_opsets = _opsets(model.opset_import)
    _walk(shown, model.graph.node, model_opsets, functions, uses)
    for function in model.functions:
        opsets = {**model_opsets, **_opsets(function.opset_import)}
        _walk(shown, function.node, opsets, functions, uses)
    return uses


def tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every stored tensor: initializers, sparse values and Constant values, everywhere."""
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def _opsets(imports: Iterable[onnx.OperatorSetIdProto]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in imports:
        found[_normal(item.domain)] = item.version
    return found


def _normal(domain: str) -> str:
    return "" if domain == "ai.onnx" else domain


def _walk(
    shown: str,
    nodes: Iterable[onnx.NodeProto],
    opsets: dict[str, int],
    functions: set[tuple[str, str]],
    uses: list[NodeUse],
) -> None:
    for node in nodes:
        domain = _normal(node.domain)
        calls = (node.domain, node.op_type) in functions
        if domain not in opsets and not calls:
            domain_name = shown_domain(domain)
            raise EvidenceError(f"{shown}: node {node.op_type!r} uses domain {domain_name!r}, not imported")
        uses.append(NodeUse(node, domain, opsets.get(domain, 0), calls))
        for graph in _subgraphs(node):
            _walk(shown, graph.node, opsets, functions, uses)


def _subgraphs(node: onnx.NodeProto) -> Iterator[onnx.GraphProto]:
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            yield attribute.g
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            yield from attribute.graphs


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
    for node in graph.node:
        yield from _node_tensors(node)
        for sub in _subgraphs(node):
            yield from _graph_tensors(sub)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    if node.op_type != "Constant" or _normal(node.domain) != "":
        return
    for attribute in node.attribute:
        if attribute.name == "value":
            yield attribute.t
        elif attribute.name == "sparse_value":
            yield attribute.sparse_tensor.values
        elif attribute.name in ("value_float", "value_floats"):
            count = 1 if attribute.name == "value_float" else len(attribute.floats)
            yield onnx.TensorProto(data_type=_T.FLOAT, dims=[count])
        elif attribute.name in ("value_int", "value_ints"):
            count = 1 if attribute.name == "value_int" else len(attribute.ints)
            yield onnx.TensorProto(data_type=_T.INT64, dims=[count])
