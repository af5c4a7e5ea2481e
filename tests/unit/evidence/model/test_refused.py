"""Malformed and hostile models are refused with one line naming the file, never a fact."""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence._format import with_format
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.model import COLLECTOR

import support_onnx

Measure = Callable[..., Any]
Context = Callable[..., CollectorContext]


def refused(measure: Measure, path: Path, **kwargs: Any) -> str:
    with pytest.raises(EvidenceError) as caught:
        measure(path, **kwargs)
    message = caught.value.message
    assert "\n" not in message
    return message


def test_dangling_input_fails_the_checker(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.linear_classifier([1.0, 2.0])
    model.graph.node[1].input[1] = "nowhere"
    message = refused(measure, support_onnx.save(model, tmp_path / "dangling.onnx"))
    assert message.startswith("dangling.onnx: the ONNX checker refused the model: ")
    assert "nowhere" in message


def test_shape_error_fails_the_checker(measure: Measure, tmp_path: Path) -> None:
    model = support_onnx.linear_classifier([1.0, 2.0])
    model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(np.ones((3, 1), np.float32), "w"))
    message = refused(measure, support_onnx.save(model, tmp_path / "shape.onnx"))
    assert "the ONNX checker refused the model" in message
    assert "Incompatible dimensions" in message


TFLITE_LIKE = b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 8


def test_a_tflite_file_named_onnx_is_refused_naming_both(measure: Measure, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(TFLITE_LIKE)
    assert refused(measure, path).endswith("model.onnx: the name says onnx (.onnx) but the content is tflite")


def test_a_non_onnx_file_whose_uri_names_onnx_is_refused(context: Context, tmp_path: Path) -> None:
    path = tmp_path / "cache" / "3f9a"  # a downloaded artifact, cached under its digest
    path.parent.mkdir()
    path.write_bytes(TFLITE_LIKE)
    ctx = replace_uri(context(path), "https://models.example/v3/model.onnx?X-Signature=abc")
    assert ctx.artifact is not None
    with pytest.raises(EvidenceError, match=r"the name says onnx \(\.onnx\) but the content is tflite"):
        with_format(ctx.artifact)


def test_a_format_no_reader_measures_gets_no_fact(context: Context, tmp_path: Path) -> None:
    path = tmp_path / "model.ort"  # ONNX Runtime's own flatbuffer format: timed, not read
    path.write_bytes(b"\x1c\x00\x00\x00ORTM" + bytes(64))
    assert COLLECTOR.collect(context(path)) is None


def test_an_onnx_model_is_measured_whatever_its_name(measure: Measure, tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.linear_classifier([1.0]), tmp_path / "cache" / "3f9a")
    assert measure(path)["opsets"] == {"ai.onnx": 17}


def replace_uri(ctx: CollectorContext, uri: str) -> CollectorContext:
    assert ctx.artifact is not None
    return dataclasses.replace(ctx, artifact=dataclasses.replace(ctx.artifact, uri=uri))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 64, b"hello, world\n", os.urandom(4096), b"\x08\x09\x3a\xff\xff\xff\xff\x0f"],
    ids=["empty", "zeros", "text", "random", "huge-length"],
)
def test_garbage_named_onnx_is_refused(measure: Measure, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "garbage.onnx"
    path.write_bytes(data)
    assert refused(measure, path).startswith("garbage.onnx: not a valid ONNX model")


def test_truncated_model_is_refused(measure: Measure, tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.cnn(channels=8), tmp_path / "cut.onnx")
    path.write_bytes(path.read_bytes()[:-700])
    assert refused(measure, path).startswith("cut.onnx: ")


def test_model_over_the_size_cap_is_refused_before_reading(measure: Measure, tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.cnn(channels=8), tmp_path / "big.onnx")
    message = refused(measure, path, settings={"maxBytes": 1024})
    assert "big.onnx: the model is" in message
    assert "1024-byte cap" in message


# --- external data -----------------------------------------------------------------------


def external_model(folder: Path, location: str = "weights.bin") -> Path:
    return support_onnx.save_external(support_onnx.cnn(channels=4), folder / "m.onnx", location)


def test_external_data_inside_the_folder_is_accepted_and_counted(measure: Measure, tmp_path: Path) -> None:
    path = external_model(tmp_path / "models", "parts/weights.bin")
    weights = tmp_path / "models" / "parts" / "weights.bin"
    fact = measure(path)
    assert fact["external_data"] == [{"location": "parts/weights.bin", "size": weights.stat().st_size}]
    assert fact["size"] == path.stat().st_size + weights.stat().st_size
    assert fact["weight_types"] == {"float32": weights.stat().st_size}
    assert fact["runtime"]["unsupported"] == []


@pytest.mark.parametrize("location", ["../outside.bin", "parts/../../outside.bin", "..\\outside.bin"])
def test_external_data_escaping_the_folder_is_refused(
    measure: Measure, tmp_path: Path, location: str
) -> None:
    path = external_model(tmp_path / "models")
    move_weights(path, location)
    message = refused(measure, path)
    assert message.startswith("models/m.onnx: tensor ")
    assert "escapes the model's folder" in message


@pytest.mark.parametrize("location", ["/etc/passwd", "C:\\Windows\\win.ini"])
def test_external_data_at_an_absolute_path_is_refused(
    measure: Measure, tmp_path: Path, location: str
) -> None:
    path = external_model(tmp_path / "models")
    support_onnx.set_external_location(path, location)
    assert "is an absolute path" in refused(measure, path)


def test_external_data_through_a_symlink_out_of_the_folder_is_refused(
    measure: Measure, tmp_path: Path
) -> None:
    path = external_model(tmp_path / "models")
    outside = tmp_path / "outside.bin"
    (tmp_path / "models" / "weights.bin").rename(outside)
    (tmp_path / "models" / "weights.bin").symlink_to(outside)
    assert "resolves outside the model's folder" in refused(measure, path)


def test_external_data_that_is_not_a_regular_file_is_refused(measure: Measure, tmp_path: Path) -> None:
    path = external_model(tmp_path / "models")
    (tmp_path / "models" / "weights.bin").unlink()
    (tmp_path / "models" / "weights.bin").mkdir()
    assert "is not a regular file" in refused(measure, path)


def test_external_data_shorter_than_its_tensor_is_refused(measure: Measure, tmp_path: Path) -> None:
    path = external_model(tmp_path / "models")
    weights = tmp_path / "models" / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:100])
    assert "is shorter than the tensor it holds" in refused(measure, path)


def test_missing_external_data_is_refused(measure: Measure, tmp_path: Path) -> None:
    path = external_model(tmp_path / "models")
    (tmp_path / "models" / "weights.bin").unlink()
    assert "cannot be read" in refused(measure, path)


def move_weights(path: Path, location: str) -> None:
    """Move the real weights to ``location`` and point the model there.

    The moved file is valid: only the location check stands between it and a passing fact.
    """
    support_onnx.set_external_location(path, location)
    target = (path.parent / location.replace("\\", "/")).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "weights.bin").rename(target)


def test_no_artifact_means_no_fact(tmp_path: Path) -> None:
    assert COLLECTOR.collect(CollectorContext(manifest={}, previous=None, root=tmp_path)) is None
    assert COLLECTOR.cache_key(CollectorContext(manifest={}, previous=None, root=tmp_path)) is None


def test_corrupted_bytes_give_a_fact_or_a_refusal_never_a_crash(measure: Measure, tmp_path: Path) -> None:
    original = support_onnx.cnn(channels=4).SerializeToString()
    rng = random.Random(7)
    outcomes = {"fact": 0, "refused": 0}
    for _ in range(60):
        corrupted = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
        path = tmp_path / "flipped.onnx"
        path.write_bytes(bytes(corrupted))
        try:
            measure(path)
            outcomes["fact"] += 1
        except EvidenceError as exc:
            assert exc.message.startswith("flipped.onnx: ")
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0  # the corruption reached the parser and the checker
