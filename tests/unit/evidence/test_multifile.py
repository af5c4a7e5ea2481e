"""Artifacts of several files: an ONNX model with external data, and a model directory.

Every file that ships is hashed; the artifact's digest is the file-set digest, so changing,
adding or removing any file changes it. Real ONNX models are saved with real external data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence._multifile import file_set_digest
from fleetgate.evidence._onnx_files import external_locations
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import Artifact, ArtifactFile

import support_onnx


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def resolve(uri: str, root: Path) -> Artifact:
    artifact = resolve_artifact(uri, ArtifactSource(root=root))
    assert artifact is not None
    return artifact


@pytest.fixture
def external_model(tmp_path: Path) -> Path:
    """``models/m/model.onnx`` with its weights in ``models/m/weights.bin``."""
    return support_onnx.save_external(
        support_onnx.mlp(inputs=3, classes=1), tmp_path / "models" / "m" / "model.onnx"
    )


def test_external_data_files_are_part_of_the_artifact(tmp_path: Path, external_model: Path) -> None:
    artifact = resolve("file:models/m/model.onnx", tmp_path)
    main, weights = external_model.read_bytes(), (external_model.parent / "weights.bin").read_bytes()
    assert artifact.files == (
        ArtifactFile("model.onnx", sha256(main), len(main)),
        ArtifactFile("weights.bin", sha256(weights), len(weights)),
    )
    assert artifact.size == len(main) + len(weights) and not artifact.directory
    # The file-set digest: SHA-256 over the raw file digests in name order (model-signing's root).
    expected = hashlib.sha256(hashlib.sha256(main).digest() + hashlib.sha256(weights).digest())
    assert artifact.digest == "sha256:" + expected.hexdigest() == file_set_digest(artifact.files)
    assert artifact.path == external_model.resolve()
    assert artifact.to_fact(tmp_path)["files"][1] == {
        "name": "weights.bin",
        "digest": sha256(weights),
        "size": len(weights),
    }


def test_swapping_the_weights_changes_the_artifact_digest(tmp_path: Path, external_model: Path) -> None:
    before = resolve("file:models/m/model.onnx", tmp_path).digest
    weights = external_model.parent / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[0] ^= 1
    weights.write_bytes(bytes(data))
    assert resolve("file:models/m/model.onnx", tmp_path).digest != before


def test_missing_weights_are_refused_naming_the_file(tmp_path: Path, external_model: Path) -> None:
    (external_model.parent / "weights.bin").unlink()
    with pytest.raises(EvidenceError, match="weights.bin, a file of the artifact, is missing"):
        resolve("file:models/m/model.onnx", tmp_path)


@pytest.mark.parametrize(
    ("location", "said"),
    [("../outside.bin", "escapes the model's folder"), ("/etc/passwd", "is an absolute path")],
)
def test_external_locations_outside_the_folder_are_refused(
    tmp_path: Path, external_model: Path, location: str, said: str
) -> None:
    support_onnx.set_external_location(external_model, location)
    with pytest.raises(EvidenceError, match=said):
        resolve("file:models/m/model.onnx", tmp_path)


def test_a_symlinked_weights_file_leading_out_is_refused(tmp_path: Path, external_model: Path) -> None:
    weights = external_model.parent / "weights.bin"
    outside = tmp_path / "outside.bin"
    outside.write_bytes(weights.read_bytes())
    weights.unlink()
    weights.symlink_to(outside)
    with pytest.raises(EvidenceError, match="weights.bin resolves outside the model's folder"):
        resolve("file:models/m/model.onnx", tmp_path)


def test_a_model_without_external_data_stays_a_single_file(tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.mlp(), tmp_path / "m.onnx")
    artifact = resolve("file:m.onnx", tmp_path)
    assert artifact.files == () and artifact.digest == sha256(path.read_bytes())
    assert "files" not in artifact.to_fact(tmp_path)


def test_the_location_is_found_whatever_the_field_order(tmp_path: Path, external_model: Path) -> None:
    # Protobuf accepts fields in any order: value before key must not hide the location.
    model = onnx.load(str(external_model), load_external_data=False)
    entry = model.graph.initializer[0].external_data[0]
    assert entry.key == "location"
    swapped = b"\x12" + bytes([len(entry.value)]) + entry.value.encode() + b"\x0a\x08location"
    normal = entry.SerializeToString()
    data = external_model.read_bytes().replace(normal, swapped)
    assert data != external_model.read_bytes()
    assert external_locations(data) == {"weights.bin"}


def test_a_model_directory_is_every_file_under_it(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "bundle.mlpackage"
    (folder / "Data").mkdir(parents=True)
    (folder / "Manifest.json").write_bytes(b"{}")
    (folder / "Data" / "weights.bin").write_bytes(b"w" * 10)
    (folder / ".gitattributes").write_bytes(b"* binary")  # a repository file, not the model's
    artifact = resolve("file:models/bundle.mlpackage", tmp_path)
    assert artifact.directory and artifact.path == folder.resolve()
    assert [f.name for f in artifact.files] == ["Data/weights.bin", "Manifest.json"]
    assert artifact.size == 12


def test_a_symlink_inside_a_model_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "d"
    folder.mkdir(parents=True)
    (folder / "a.bin").write_bytes(b"a")
    (folder / "b.bin").symlink_to(folder / "a.bin")
    with pytest.raises(EvidenceError, match="b.bin is a symlink"):
        resolve("file:models/d", tmp_path)


def test_an_empty_model_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "models" / "empty").mkdir(parents=True)
    with pytest.raises(EvidenceError, match="holds no files"):
        resolve("file:models/empty", tmp_path)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\x3a\x05ab", "runs past the end"),  # graph field longer than the message
        (b"\x08\xff\xff", "truncated or overlong varint"),
        (b"\x0b", "unsupported protobuf wire type 3"),
    ],
)
def test_bytes_that_are_not_a_model_do_not_parse(data: bytes, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        external_locations(data)


def test_subgraphs_nested_without_end_are_refused() -> None:
    # A graph (field 7) holding a node whose attribute holds a graph, and so on, 100 deep.
    message = b""
    for _ in range(100):
        attribute = b"\x32" + _length(message) + message  # AttributeProto.g
        node = b"\x2a" + _length(attribute) + attribute  # NodeProto.attribute
        message = b"\x0a" + _length(node) + node  # GraphProto.node
    with pytest.raises(ValueError, match="nests deeper"):
        external_locations(b"\x3a" + _length(message) + message)


def _length(data: bytes) -> bytes:
    size, out = len(data), b""
    while True:
        byte, size = size & 0x7F, size >> 7
        out += bytes([byte | (0x80 if size else 0)])
        if not size:
            return out
