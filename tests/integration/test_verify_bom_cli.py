"""``fleetgate verify --format cyclonedx`` through the CLI, on a real repository with real trust material.

A correct int8 release gets a CycloneDX 1.6 ML-BOM that the official schema accepts, naming its
digest, signer and in-toto layout; a tampered release and a signed file that is no model get no
BOM, and the command says why on stderr with exit 1.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fleetgate.evidence.registry import DERIVED

from support import GitRepo
from support_release import TRUST_FILE, Published, ReleaseKit, int8_classifier, run_cli, serialized

pytest.importorskip("cyclonedx")
from support_cyclonedx import properties, schema_errors  # (needs cyclonedx-python-lib)

INT8: dict[str, Any] = {"inferenceConfig": {"quantization": "int8"}}


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, Published]]:
    work = tmp_path_factory.mktemp("bom")
    repo = GitRepo(work / "repo")
    kit = ReleaseKit(repo, work / "pipelines")
    model = serialized(int8_classifier())
    published = {
        "good": kit.publish("good", model, **INT8),
        "tampered": kit.publish("tampered", model, tamper=True, **INT8),
        "garbage": kit.publish("garbage", b"signed and recorded, but not a model", **INT8),
    }
    repo.commit("releases")
    return repo, published


def bom_of(repo: GitRepo, release: Published, *extra: str) -> tuple[int, str, str]:
    ran = run_cli(
        repo.root, "verify", release.model_path, "--trust", TRUST_FILE, "--format", "cyclonedx", *extra
    )
    return ran.code, ran.stdout, ran.stderr


def test_an_admitted_release_gets_a_valid_ml_bom(releases: tuple[GitRepo, dict[str, Published]]) -> None:
    repo, published = releases
    good = published["good"]
    code, out, err = bom_of(repo, good, "--manifest", good.manifest_path)
    assert code == 0, err
    document = json.loads(out)
    assert schema_errors(document) == []
    [component] = document["components"]
    assert component["type"] == "machine-learning-model"
    assert (component["name"], component["group"]) == ("good", "production")
    assert component["hashes"] == [{"alg": "SHA-256", "content": good.digest.removeprefix("sha256:")}]
    found = properties(component)
    assert (found["fleetgate:format"], found["fleetgate:quantization"]) == ("onnx", "int8")
    assert found["fleetgate:quantization:evidenceClass"] == DERIVED
    assert found["fleetgate:signature:signer"] == "release@example.com"
    assert found["fleetgate:provenance:steps"] == "train -> quantize -> evaluate"
    assert found["fleetgate:declared:quantization:evidenceClass"] == "declared"
    kinds = {r["type"]: r["url"] for r in component["externalReferences"]}
    assert kinds["attestation"].endswith("layouts/release.layout")
    assert kinds["digital-signature"] == f"{good.model_path}.sig"


@pytest.mark.parametrize("name", ["tampered", "garbage"])
def test_an_artifact_that_is_not_admitted_gets_no_bom(
    releases: tuple[GitRepo, dict[str, Published]], name: str
) -> None:
    repo, published = releases
    code, out, err = bom_of(repo, published[name])
    assert (code, out) == (1, "")
    assert f"{published[name].model_path} is not admitted: no BOM written" in err
    if name == "garbage":  # signed and recorded: only the model reader can tell, and it says so
        assert "proven" in err.splitlines() and "model       could not be read: " in err


def test_a_manifest_pinning_other_bytes_gets_no_bom(releases: tuple[GitRepo, dict[str, Published]]) -> None:
    repo, published = releases
    # The tampered release's manifest pins the tampered bytes; the good file is not those.
    code, out, err = bom_of(repo, published["good"], "--manifest", published["tampered"].manifest_path)
    assert (code, out) == (1, "") and "checksum    DOES NOT MATCH" in err


def test_a_manifest_that_is_not_one_deployment_is_a_one_line_error(
    releases: tuple[GitRepo, dict[str, Published]],
) -> None:
    repo, published = releases
    repo.write("notes.yaml", "kind: Something\n")
    code, out, err = bom_of(repo, published["good"], "--manifest", "notes.yaml")
    assert (code, out) == (2, "")
    assert err.strip().endswith("notes.yaml: expected one OnDeviceModel document, found 0")
    assert len(err.strip().splitlines()) == 1


def test_a_manifest_that_fails_the_schema_is_refused_at_its_line(
    releases: tuple[GitRepo, dict[str, Published]],
) -> None:
    repo, published = releases
    good = published["good"]
    text = (repo.root / good.manifest_path).read_text().replace("quantization: int8", "quantization: int7")
    repo.write("broken.yaml", text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "quantization: int7" in row)
    code, out, err = bom_of(repo, good, "--manifest", "broken.yaml")
    assert (code, out) == (2, "")
    assert f"broken.yaml:{line}: " in err and "int7" in err
