"""ml_bom: the CycloneDX 1.6 ML-BOM of one verified artifact, checked against the official schema."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fleetgate.format.cyclonedx import ml_bom

pytest.importorskip("cyclonedx")
from support_cyclonedx import properties, schema_errors  # (needs cyclonedx-python-lib)

DIGEST = "sha256:" + "ab" * 32
ARTIFACT = {"path": "models/kb.tflite", "digest": DIGEST, "size": 1234, "format": "tflite"}
SIGNATURE = {
    "status": "verified",
    "format": "model-signing",
    "method": "key",
    "signer": "release@example.com",
    "bundle": "models/kb.tflite.sig",
    "bundle_digest": "sha256:" + "cd" * 32,
}
PROVENANCE = {
    "status": "verified",
    "kind": "in-toto-layout",
    "layout": "attestations/layouts/release.layout",
    "layout_digest": "sha256:" + "ef" * 32,
    "steps": ["train", "quantize", "evaluate"],
    "product_digest": DIGEST,
}
MODEL = {"quantization": "int8", "quantized_weight_share": 0.9412, "quantization_mode": "full-integer"}
MANIFEST = {
    "metadata": {"name": "keyboard-suggest", "namespace": "production"},
    "spec": {
        "version": "1.1.0",
        "modelUri": "file:models/kb.tflite",
        "inferenceConfig": {"quantization": "int8"},
    },
}
SERIAL = "6f1e2a4c-9b7d-4c3e-8a5f-2d1b0c9e7a63"


def bom(
    facts: dict[str, Any] | None = None, artifact: dict[str, Any] | None = None, declared: Any = MANIFEST
) -> dict[str, Any]:
    gathered = {"signature": SIGNATURE, "provenance": PROVENANCE, "model": MODEL} if facts is None else facts
    return ml_bom(
        artifact or ARTIFACT,
        gathered,
        declared=declared,
        tool_version="0.1.0",
        timestamp="2026-12-03T01:00:00Z",
        serial=SERIAL,
    )


def test_the_bom_is_valid_cyclonedx_1_6_with_one_machine_learning_model() -> None:
    document = bom()
    assert schema_errors(document) == []
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.6")
    [component] = document["components"]
    assert component["type"] == "machine-learning-model"
    assert (component["name"], component["version"], component["group"]) == (
        "keyboard-suggest",
        "1.1.0",
        "production",
    )
    assert component["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]


def test_the_schema_check_is_real() -> None:
    broken = copy.deepcopy(bom())
    broken["components"][0]["type"] = "model"
    assert schema_errors(broken)
    broken = copy.deepcopy(bom())
    broken["components"][0]["modelCard"]["quantization"] = "int8"  # not a modelCard field
    assert schema_errors(broken)


def test_every_property_states_its_evidence_class() -> None:
    found = properties(bom()["components"][0])
    assert found["fleetgate:format"] == "tflite" and found["fleetgate:format:evidenceClass"] == "derived"
    assert found["fleetgate:quantization"] == "int8"
    assert found["fleetgate:quantization:evidenceClass"] == "derived"
    assert found["fleetgate:signature:signer"] == "release@example.com"
    assert found["fleetgate:provenance:steps"] == "train -> quantize -> evaluate"
    # What the manifest claims is declared, beside what was read from the bytes.
    assert found["fleetgate:declared:quantization"] == "int8"
    assert found["fleetgate:declared:quantization:evidenceClass"] == "declared"
    values = [name for name in found if not name.endswith((":evidenceClass", ":reason"))]
    assert all(f"{name}:evidenceClass" in found for name in values)
    assert {found[f"{name}:evidenceClass"] for name in values} <= {"derived", "declared"}


def test_the_signature_and_the_in_toto_layout_are_referenced_with_their_digests() -> None:
    references = bom()["components"][0]["externalReferences"]
    assert [(r["type"], r["url"], r["hashes"][0]["content"]) for r in references] == [
        ("digital-signature", "models/kb.tflite.sig", "cd" * 32),
        ("attestation", "attestations/layouts/release.layout", "ef" * 32),
    ]


def test_a_fact_that_could_not_be_read_is_not_assessable_with_its_reason() -> None:
    facts = {
        "signature": SIGNATURE,
        "provenance": {"status": "absent", "reason": "the trust file names no provenance check"},
        "model": {"status": "absent", "reason": "coremltools is not installed here"},
    }
    document = bom(facts, {**ARTIFACT, "format": "coreml"})
    assert schema_errors(document) == []
    found = properties(document["components"][0])
    assert found["fleetgate:quantization:evidenceClass"] == "not-assessable"
    assert found["fleetgate:quantization:reason"] == "coremltools is not installed here"
    assert "fleetgate:quantization" not in found  # never a value for what was not read
    assert found["fleetgate:provenance:evidenceClass"] == "not-assessable"
    assert [r["type"] for r in document["components"][0]["externalReferences"]] == ["digital-signature"]


def test_an_artifact_of_several_files_lists_each_file_with_its_own_hash() -> None:
    files = [
        {"name": "model.onnx", "digest": "sha256:" + "01" * 32, "size": 10},
        {"name": "weights.bin", "digest": "sha256:" + "02" * 32, "size": 20},
    ]
    document = bom(artifact={**ARTIFACT, "format": "onnx", "files": files}, declared=None)
    assert schema_errors(document) == []
    [component] = document["components"]
    assert "hashes" not in component  # the file-set digest hashes no single file
    assert [(c["name"], c["hashes"][0]["content"]) for c in component["components"]] == [
        ("model.onnx", "01" * 32),
        ("weights.bin", "02" * 32),
    ]
    assert component["name"] == "kb.tflite"  # no manifest: the file's name
    assert properties(component)["fleetgate:digest"] == DIGEST
