"""The external-data files an ONNX model names, read from its protobuf without importing onnx.

A model keeps large tensors in other files when a ``TensorProto`` has ``data_location =
EXTERNAL`` and names the file in ``external_data["location"]``. Those files ship with the model,
so they are part of the artifact (its digest, its signature). The walk visits every place a
tensor can live: graph initializers and sparse initializers, node attributes (tensors, sparse
tensors, subgraphs), local functions and training graphs.

Protobuf accepts fields in any order and repeated, so the walk parses fields rather than
searching for byte patterns: a location cannot hide behind an unusual encoding. Large payloads
(``raw_data``) are skipped by length, never copied. Bytes that do not parse raise ValueError.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator

__all__ = ["external_locations", "top_level_fields"]

# Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ...).
_MODEL = {7: "graph", 20: "training", 25: "function"}
_TRAINING = {1: "graph", 2: "graph"}
_GRAPH = {1: "node", 5: "tensor", 15: "sparse"}
_FUNCTION = {7: "node"}
_NODE = {5: "attribute"}
_ATTRIBUTE = {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"}
_SPARSE = {1: "tensor", 2: "tensor"}
_CHILDREN = {
    "model": _MODEL,
    "training": _TRAINING,
    "graph": _GRAPH,
    "function": _FUNCTION,
    "node": _NODE,
    "attribute": _ATTRIBUTE,
    "sparse": _SPARSE,
}
_TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION, _EXTERNAL = 13, 14, 1
_MAX_DEPTH = 64  # subgraphs nest; a hostile model could nest without end


def external_locations(data: bytes | memoryview | mmap.mmap) -> set[str]:
    """Every ``location`` an external tensor of the model in ``data`` names (as written)."""
    found: set[str] = set()
    with memoryview(data) as view:
        _visit(view, "model", 0, found)
    return found


def top_level_fields(data: bytes | memoryview | mmap.mmap) -> set[tuple[int, int]]:
    """The ``(field number, wire type)`` pairs of a protobuf message's top level (0 varint, 2 bytes).

    ValueError when the bytes are not one well-formed message.
    """
    with memoryview(data) as view:
        return {(number, 2 if isinstance(value, memoryview) else 0) for number, value in _fields(view)}


def _visit(data: memoryview, kind: str, depth: int, found: set[str]) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("the model nests deeper than fleetgate reads")
    if kind == "tensor":
        _tensor(data, found)
        return
    children = _CHILDREN[kind]
    for number, value in _fields(data):
        child = children.get(number)
        if child is not None and isinstance(value, memoryview):
            _visit(value, child, depth + 1, found)


def _tensor(data: memoryview, found: set[str]) -> None:
    external = False
    locations: list[str] = []
    for number, value in _fields(data):
        if number == _TENSOR_DATA_LOCATION and value == _EXTERNAL:
            external = True
        elif number == _TENSOR_EXTERNAL_DATA and isinstance(value, memoryview):
            entry = dict(_fields(value))
            if bytes(_as_bytes(entry.get(1))) == b"location":
                locations.append(bytes(_as_bytes(entry.get(2))).decode("utf-8", "surrogateescape"))
    if external:
        found.update(locations or [""])  # an external tensor without a location is refused later


def _as_bytes(value: int | memoryview | None) -> memoryview:
    return value if isinstance(value, memoryview) else memoryview(b"")


def _fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """``(field number, value)``: varints as int, length-delimited fields as views; others skipped."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise ValueError("a field runs past the end of the message")
            yield number, data[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    if pos != end:
        raise ValueError("a field runs past the end of the message")


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
