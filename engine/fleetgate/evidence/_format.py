"""Which model format an artifact is, decided once from its bytes.

* TFLite / LiteRT: a flatbuffer whose file identifier (bytes 4-8) is ``TFL3``;
* ONNX Runtime's own format: a flatbuffer with the identifier ``ORTM``;
* ONNX: a protobuf ``ModelProto``: top-level fields only from ONNX's numbering, with a graph;
* Core ML: a ``.mlmodel`` protobuf ``Model`` (a model type field numbered 200 or above), or an
  ``.mlpackage`` directory with its ``Manifest.json``.

Both protobufs start with a version varint, so the top-level fields decide. The walk skips
payloads by their length and never copies them, so a multi-gigabyte model costs one pass over
its field headers. The name (file or URI) only breaks ties: bytes that are no known format
take the format their extension names, so the reader of that format explains what is wrong;
a name that names one format while the bytes are another is refused, naming both.
"""

from __future__ import annotations

import mmap
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from fleetgate.errors import EvidenceError
from fleetgate.evidence._onnx_files import top_level_fields
from fleetgate.evidence.interface import Artifact

__all__ = ["FORMATS", "UNKNOWN", "claimed_format", "content_format", "detect_format", "with_format"]

UNKNOWN = "unknown"
FORMATS = ("onnx", "ort", "tflite", "coreml", UNKNOWN)
_EXTENSIONS = {
    ".onnx": "onnx",
    ".ort": "ort",
    ".tflite": "tflite",
    ".lite": "tflite",
    ".mlmodel": "coreml",
    ".mlpackage": "coreml",
}
_FLATBUFFER_IDENTIFIERS = {b"TFL3": "tflite", b"ORTM": "ort"}
# ModelProto's field numbers (onnx.proto); graph is field 7.
_ONNX_FIELDS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25})
_ONNX_GRAPH = 7
# Core ML's Model keeps its type in a oneof numbered from 200 (pipelines) upwards.
_COREML_TYPES = 200
_MLPACKAGE_MANIFEST = "Manifest.json"


def with_format(artifact: Artifact) -> Artifact:
    """``artifact`` with its format; EvidenceError when its name contradicts its bytes."""
    return replace(artifact, format=detect_format(artifact.uri, artifact.path, artifact.directory))


def detect_format(uri: str, path: Path, directory: bool) -> str:
    """The format of the bytes at ``path``, else the one its name claims, else ``unknown``.

    EvidenceError, naming both, when the name claims one known format and the bytes are another.
    """
    found = content_format(path, directory)
    claimed = claimed_format(uri, path)
    if found != UNKNOWN and claimed is not None and claimed != found:
        raise EvidenceError(
            f"{uri}: the name says {claimed} ({_extension(uri, path)}) but the content is {found}"
        )
    return found if found != UNKNOWN else claimed or UNKNOWN


def claimed_format(uri: str, path: Path) -> str | None:
    """The format the extension of the URI or the local file names, or None."""
    for name in (urlsplit(uri).path, path.name):
        suffix = Path(name.rstrip("/")).suffix.lower()
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    return None


def content_format(path: Path, directory: bool) -> str:
    """The format the bytes at ``path`` are, or ``unknown``."""
    if directory:
        return "coreml" if (path / _MLPACKAGE_MANIFEST).is_file() else UNKNOWN
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) == 8 and head[4:8] in _FLATBUFFER_IDENTIFIERS:
                return _FLATBUFFER_IDENTIFIERS[head[4:8]]
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _protobuf_format(data)
    except (OSError, ValueError):
        return UNKNOWN


def _protobuf_format(data: mmap.mmap) -> str:
    try:
        fields = top_level_fields(data)
    except ValueError:
        return UNKNOWN
    if any(number >= _COREML_TYPES for number, _ in fields):
        return "coreml"
    numbers = {number for number, _ in fields}
    if (_ONNX_GRAPH, 2) in fields and numbers <= _ONNX_FIELDS:
        return "onnx"
    return UNKNOWN


def _extension(uri: str, path: Path) -> str:
    for name in (urlsplit(uri).path, path.name):
        suffix = Path(name.rstrip("/")).suffix.lower()
        if suffix in _EXTENSIONS:
            return suffix
    return "no extension"
