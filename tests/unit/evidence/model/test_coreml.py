"""The model fact of Core ML models (``.mlmodel`` and ``.mlpackage``), read in a bounded child."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import CollectorContext
from fleetgate.evidence.model import COLLECTOR

pytest.importorskip("coremltools")
import support_coreml


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("coreml")
    return {
        "nn": support_coreml.neural_network(folder / "nn.mlmodel"),
        "quantized": support_coreml.neural_network(folder / "q.mlmodel", quantize=8),
        "program": support_coreml.ml_program(folder / "program.mlpackage"),
    }


def collect(path: Path, root: Path) -> Any:
    artifact = resolve_artifact(path.relative_to(root).as_posix(), ArtifactSource(root=root))
    assert artifact is not None and artifact.format == "coreml"
    return COLLECTOR.collect(CollectorContext(manifest={}, previous=None, root=root, artifact=artifact))


def copied(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def test_a_neural_network_mlmodel(built: dict[str, Path], tmp_path: Path) -> None:
    fact = collect(copied(built["nn"], tmp_path), tmp_path)
    assert (fact["format"], fact["model_type"], fact["specification_version"]) == (
        "coreml",
        "neuralNetwork",
        1,
    )
    assert fact["min_ios_major"] == 11
    assert fact["operators"] == [{"op": "activation", "count": 1}, {"op": "innerProduct", "count": 1}]
    assert (fact["quantization"], fact["weight_precision"]) == ("fp32", {"fp32": 16})


def test_linear_quantized_weights_are_int8(built: dict[str, Path], tmp_path: Path) -> None:
    fact = collect(copied(built["quantized"], tmp_path), tmp_path)
    assert fact["weight_precision"] == {"linear-quantized": 4}
    assert (fact["quantization"], fact["quantized_weight_share"]) == ("int8", 1.0)


def test_an_fp16_ml_program_package_needs_ios_16(built: dict[str, Path], tmp_path: Path) -> None:
    fact = collect(copied(built["program"], tmp_path), tmp_path)
    assert (fact["model_type"], fact["specification_version"], fact["min_ios_major"]) == ("mlProgram", 7, 16)
    assert fact["quantization"] == "fp16" and set(fact["weight_precision"]) == {"fp16"}
    assert {"op": "linear", "count": 1} in fact["operators"]


def test_a_manifest_naming_a_missing_file_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    package = copied(built["program"], tmp_path)
    manifest = json.loads((package / "Manifest.json").read_text())
    next(iter(manifest["itemInfoEntries"].values()))["path"] = "com.apple.CoreML/gone.mlmodel"
    (package / "Manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        EvidenceError, match=r"program.mlpackage: .*Data/com.apple.CoreML/gone.mlmodel, which is missing"
    ):
        collect(package, tmp_path)


def test_a_symlink_leaving_the_package_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    package = copied(built["program"], tmp_path)
    (tmp_path / "outside.bin").write_bytes(b"secret")
    (package / "Data" / "com.apple.CoreML" / "weights" / "extra.bin").symlink_to(tmp_path / "outside.bin")
    with pytest.raises(EvidenceError, match=r"extra.bin is a symlink"):
        collect(package, tmp_path)


def test_garbage_named_mlmodel_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.mlmodel").write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(EvidenceError, match=r"bad.mlmodel: reading the Core ML model failed .*not a Core ML"):
        collect(tmp_path / "bad.mlmodel", tmp_path)


def test_a_package_over_the_size_cap_is_refused_before_it_is_parsed(
    built: dict[str, Path], tmp_path: Path
) -> None:
    package = copied(built["program"], tmp_path)
    artifact = resolve_artifact(package.name, ArtifactSource(root=tmp_path))
    assert artifact is not None
    context = CollectorContext(
        manifest={}, previous=None, root=tmp_path, artifact=artifact, settings={"maxBytes": 100}
    )
    with pytest.raises(
        EvidenceError, match=r"program.mlpackage: the model is \d+ bytes, over the 100-byte cap"
    ):
        COLLECTOR.collect(context)
