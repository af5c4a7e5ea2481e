"""The artifact's format comes from its bytes, once; its name only breaks ties or contradicts."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence import registry
from fleetgate.evidence._format import detect_format
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.registry import COLLECTORS

import support_onnx

TFLITE = b"\x1c\x00\x00\x00TFL3" + bytes(64)
ORT = b"\x1c\x00\x00\x00ORTM" + bytes(64)
# A Core ML Model: specificationVersion 7 (field 1) and a neuralNetwork (field 500, empty).
COREML = b"\x08\x07" + b"\xa2\x1f\x00"


def onnx_bytes() -> bytes:
    return support_onnx.linear_classifier([1.0, 2.0]).SerializeToString()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("model.bin", TFLITE, "tflite"),
        ("model.bin", ORT, "ort"),
        ("model.bin", COREML, "coreml"),
        ("model.tflite", TFLITE, "tflite"),
        ("model.mlmodel", COREML, "coreml"),
        ("model.bin", b"neither", "unknown"),
        ("model.tflite", b"garbage that is no flatbuffer", "tflite"),  # the reader explains
    ],
)
def test_the_format_is_read_from_the_bytes(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    (tmp_path / name).write_bytes(data)
    assert detect_format(f"file:{name}", tmp_path / name, False) == expected


def test_an_onnx_model_is_onnx_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "3f9a").write_bytes(onnx_bytes())
    assert detect_format("https://models.example/3f9a", tmp_path / "3f9a", False) == "onnx"


@pytest.mark.parametrize(
    ("name", "data", "claimed", "found"),
    [
        ("model.onnx", TFLITE, "onnx (.onnx)", "tflite"),
        ("model.tflite", COREML, "tflite (.tflite)", "coreml"),
    ],
)
def test_a_name_that_contradicts_the_bytes_is_refused_naming_both(
    tmp_path: Path, name: str, data: bytes, claimed: str, found: str
) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(EvidenceError, match=re.escape(f"the name says {claimed} but the content is {found}")):
        resolve_artifact(name, ArtifactSource(root=tmp_path))


def test_an_mlpackage_directory_is_core_ml_and_a_plain_folder_is_not(tmp_path: Path) -> None:
    package = tmp_path / "m.mlpackage"
    package.mkdir()
    (package / "Manifest.json").write_text(json.dumps({"itemInfoEntries": {}}))
    artifact = resolve_artifact("m.mlpackage", ArtifactSource(root=tmp_path))
    assert (
        artifact is not None
        and artifact.format == "coreml"
        and artifact.to_fact(tmp_path)["format"] == "coreml"
    )
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "w.bin").write_bytes(b"w")
    assert detect_format("plain", tmp_path / "plain", True) == "unknown"


# onnxruntime times ONNX Runtime's own format, so latency is the one collector that reads .ort.
STEPS_ASIDE = [
    (name, model_format)
    for name in (c.name for c in COLLECTORS if c.name in ("model", "latency", "fairness"))
    for model_format in ("unknown", "ort")
    if (name, model_format) != ("latency", "ort")
]


@pytest.mark.parametrize(("collector", "model_format"), STEPS_ASIDE)
def test_every_model_collector_steps_aside_for_a_format_it_does_not_handle(
    tmp_path: Path, collector: str, model_format: str
) -> None:
    import importlib

    (tmp_path / "data.csv").write_text("x,g,label\n1,a,1\n")
    (tmp_path / "m.bin").write_bytes(ORT)
    artifact = resolve_artifact("m.bin", ArtifactSource(root=tmp_path))
    assert artifact is not None
    manifest = {"spec": {"evaluation": {"dataset": "data.csv", "label": "label", "sensitiveFeatures": ["g"]}}}
    context = CollectorContext(
        manifest=manifest,
        previous=None,
        root=tmp_path,
        artifact=dataclasses.replace(artifact, format=model_format),
    )
    module = importlib.import_module(registry.spec(collector).module)
    assert module.COLLECTOR.collect(context) is None
    assert module.COLLECTOR.cache_key(context) is None
