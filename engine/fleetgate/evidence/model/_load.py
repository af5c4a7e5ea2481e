"""Read an ONNX model without trusting it.

The numbered steps, each of which raises EvidenceError naming the file:

1. refuse a file over the size cap (and over protobuf's 2 GiB message limit);
2. parse the protobuf without external data; bytes that do not parse, or parse to something
   without a graph, are not an ONNX model: refused when the file or URI is named ``*.onnx``,
   otherwise another format this fact does not measure (no fact);
3. refuse external-data locations that are absolute or resolve outside the model's folder
   (``..`` or a symlink), that are not regular files, or that are too short for their tensor.
   External bytes are never read here: sizes come from the entries and ``os.stat``;
4. run the ONNX checker with ``full_check`` (shape inference): a dangling input or a shape
   mismatch fails here. A model with external data is checked through its path.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import onnx

from fleetgate.errors import EvidenceError
from fleetgate.evidence._files import read_capped
from fleetgate.evidence._kit import contained, first_line
from fleetgate.evidence.model._graph import dtype_bits, tensors

__all__ = ["ExternalFile", "LoadedModel", "load_model"]

_PROTOBUF_LIMIT = (2 << 30) - 1


@dataclass(frozen=True)
class ExternalFile:
    """One external-data file a model refers to, inside the model's folder."""

    location: str  # as written in the model
    path: Path  # resolved
    size: int


@dataclass(frozen=True)
class LoadedModel:
    """A model that parsed and passed the checker, with its validated external files."""

    proto: onnx.ModelProto
    external: tuple[ExternalFile, ...]

    @property
    def external_bytes(self) -> int:
        return sum(item.size for item in self.external)


def load_model(path: Path, shown: str, claims_onnx: bool, size: int, max_bytes: int) -> LoadedModel | None:
    """The checked model at ``path`` (``shown`` names it in messages); EvidenceError otherwise.

    None when the bytes are not ONNX and nothing named them ONNX (``claims_onnx`` is false):
    another format (``.ort``, ``.tflite``) is not measured here, and the fact stays absent.
    """
    cap = min(max_bytes, _PROTOBUF_LIMIT)
    if size > cap:
        raise EvidenceError(
            f"{shown}: the model is {size} bytes, over the {cap}-byte cap (evidence.model.maxBytes)"
        )
    data = _read(path, shown, cap)
    model = _parse(data, shown, claims_onnx)
    if model is None:
        return None
    external = _check_external(model, path, shown)
    if size + sum(item.size for item in external) > max_bytes:
        raise EvidenceError(f"{shown}: the model and its external data exceed the {max_bytes}-byte cap")
    _check(path if external else data, shown)
    return LoadedModel(model, external)


def _read(path: Path, shown: str, cap: int) -> bytes:
    return read_capped(path, cap, "model", EvidenceError, shown)


def _parse(data: bytes, shown: str, claims_onnx: bool) -> onnx.ModelProto | None:
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises DecodeError, RecursionError, ValueError...
        reason = first_line(exc) or type(exc).__name__
        if claims_onnx:
            raise EvidenceError(f"{shown}: not a valid ONNX model: {reason}") from None
        return None
    # Protobuf skips unknown fields, so many byte strings "parse"; a model must have a graph.
    if model.ir_version <= 0 or not model.HasField("graph"):
        if claims_onnx:
            raise EvidenceError(f"{shown}: not a valid ONNX model: no IR version or graph")
        return None
    return model


def _check_external(model: onnx.ModelProto, path: Path, shown: str) -> tuple[ExternalFile, ...]:
    folder = path.parent
    base = folder.resolve()
    files: dict[str, ExternalFile] = {}
    for tensor in tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        if location not in files:
            files[location] = _external_file(location, folder, base, shown, tensor.name)
        _check_region(tensor, entries, files[location], shown)
    return tuple(files.values())


def _external_file(location: str, folder: Path, base: Path, shown: str, tensor: str) -> ExternalFile:
    where = f"{shown}: tensor {tensor!r}: external data"
    if not location:
        raise EvidenceError(f"{where} has no location")
    if PurePosixPath(location).is_absolute() or PureWindowsPath(location).is_absolute():
        raise EvidenceError(f"{where} location {location!r} is an absolute path")
    if ".." in location.replace("\\", "/").split("/"):
        raise EvidenceError(f"{where} location {location!r} escapes the model's folder")
    resolved = contained(folder / location, base)
    if resolved is None:  # also a symlink inside the folder that points out of it
        raise EvidenceError(f"{where} location {location!r} resolves outside the model's folder")
    try:
        info = resolved.stat()
    except OSError as exc:
        raise EvidenceError(f"{where} file {location!r} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise EvidenceError(f"{where} location {location!r} is not a regular file")
    return ExternalFile(location, resolved, info.st_size)


def _check_region(tensor: onnx.TensorProto, entries: dict[str, str], file: ExternalFile, shown: str) -> None:
    where = f"{shown}: tensor {tensor.name!r}: external data in {file.location!r}"
    try:
        offset = int(entries.get("offset", "0"))
        length = int(entries["length"]) if "length" in entries else file.size - offset
    except ValueError:
        raise EvidenceError(f"{where} has a non-integer offset or length") from None
    needed = (int(math.prod(tensor.dims)) * dtype_bits(tensor.data_type) + 7) // 8
    if offset < 0 or length < 0 or any(dim < 0 for dim in tensor.dims):
        raise EvidenceError(f"{where} has a negative offset, length or dimension")
    if offset + length > file.size or length < needed:
        raise EvidenceError(f"{where} is shorter than the tensor it holds ({needed} bytes)")


def _check(model: Path | bytes, shown: str) -> None:
    try:
        onnx.checker.check_model(os.fspath(model) if isinstance(model, Path) else model, full_check=True)
    except Exception as exc:  # ValidationError, InferenceError, and whatever a hostile graph provokes
        raise EvidenceError(f"{shown}: the ONNX checker refused the model: {first_line(exc)}") from None
