from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from fleetgate.manifest import schema_document, validate

from support import manifest


def test_the_shipped_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema_document())


def test_a_complete_manifest_is_valid() -> None:
    doc = manifest(evaluation={"dataset": "data/eval.csv", "label": "label", "sensitiveFeatures": ["gender"]})
    doc["metadata"]["labels"] = {"app.kubernetes.io/name": "img"}
    assert validate(doc) == []


def test_unknown_field_is_reported_at_the_field() -> None:
    doc = manifest(inferenceConfig={"numThread": 2})
    [violation] = validate(doc)
    assert violation.path == ("spec", "inferenceConfig", "numThread")
    assert "unknown field 'spec.inferenceConfig.numThread'" in violation.message


def test_missing_required_field_is_reported_at_its_parent() -> None:
    doc = manifest(checksum=None)
    [violation] = validate(doc)
    assert violation.path == ("spec",)
    assert "spec.checksum" in violation.message


def test_every_error_is_reported() -> None:
    doc = manifest(version="3.2", tier="gold", updateStrategy={"type": "canary"})
    doc["metadata"]["name"] = "Not_A_DNS_Label"
    paths = {v.path for v in validate(doc)}
    assert paths == {
        ("spec", "version"),
        ("spec", "tier"),
        ("spec", "updateStrategy", "type"),
        ("metadata", "name"),
    }


def test_api_version_must_be_a_dns_group_v1() -> None:
    doc = manifest()
    doc["apiVersion"] = "mobileai.apexlogic.com/v2"
    assert [v.path for v in validate(doc)] == [("apiVersion",)]
    doc["apiVersion"] = "example.org/v1"
    assert validate(doc) == []


def _patterns(node: Any, where: str = "#") -> dict[str, str]:
    """Every ``pattern`` of the schema, by the JSON pointer of the schema that holds it."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found[where] = node["pattern"]
        for key, value in node.items():
            found.update(_patterns(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.update(_patterns(value, f"{where}/{index}"))
    return found


# A value each pattern accepts; a pattern added to the schema without one fails the test below.
PATTERN_SAMPLES = {
    "#/properties/apiVersion": "mobileai.example.com/v1",
    "#/properties/metadata/properties/labels/propertyNames": "app.kubernetes.io/name",
    "#/properties/spec/properties/version": "3.2.1-rc.1+build.5",
    "#/$defs/dnsLabel": "production",
}


@pytest.mark.parametrize("pointer", sorted(PATTERN_SAMPLES))
def test_no_pattern_accepts_a_trailing_newline(pointer: str) -> None:
    pattern = _patterns(schema_document())[pointer]
    sample = PATTERN_SAMPLES[pointer]
    validator = jsonschema.Draft202012Validator({"type": "string", "pattern": pattern})
    assert validator.is_valid(sample)
    assert not validator.is_valid(sample + "\n")
    assert not validator.is_valid(sample + "\r\n")


def test_every_pattern_of_the_schema_has_a_sample() -> None:
    assert set(_patterns(schema_document())) == set(PATTERN_SAMPLES)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("apiVersion",), "mobileai.example.com/v1\n"),
        (("metadata", "name"), "image-classifier-v3\n"),
        (("metadata", "namespace"), "production\n"),
        (("spec", "version"), "3.2.1\n"),
    ],
)
def test_a_trailing_newline_fails_the_document(path: tuple[str, ...], value: str) -> None:
    doc = manifest()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    [violation] = validate(doc)
    assert violation.path == path
    assert "\\n" in violation.message


def test_a_label_key_with_a_trailing_newline_fails_the_document() -> None:
    doc = manifest()
    doc["metadata"]["labels"] = {"team\n": "vision"}
    [violation] = validate(doc)
    assert violation.path == ("metadata", "labels")
    assert "expected a label key" in violation.message


def test_a_staged_rollout_must_declare_its_percentage() -> None:
    doc = manifest(updateStrategy={"rolloutPercentage": None})
    [violation] = validate(doc)
    assert violation.path == ("spec", "updateStrategy")
    assert "spec.updateStrategy.rolloutPercentage" in violation.message
    assert "stagedRollout must declare" in violation.message
    assert validate(manifest(updateStrategy={"type": "immediate", "rolloutPercentage": None})) == []


def test_the_api_version_error_is_a_sentence() -> None:
    doc = manifest()
    doc["apiVersion"] = "mobileai/v1"
    [violation] = validate(doc)
    assert violation.message == (
        'apiVersion "mobileai/v1" is not valid: expected <dns-group>/v1, for example mobileai.example.com/v1'
    )
    assert "^" not in violation.message


def test_an_unknown_field_suggests_the_known_one() -> None:
    [violation] = validate(manifest(inferenceConfig={"numThread": 2}))
    assert violation.message.endswith("did you mean 'numThreads'?")
    [far] = validate(manifest(inferenceConfig={"colour": 2}))
    assert "did you mean" not in far.message


def test_a_misspelt_kind_names_the_expected_one() -> None:
    doc = manifest()
    doc["kind"] = "OnDeviceModle"
    [violation] = validate(doc)
    assert violation.path == ("kind",)
    assert violation.message == 'kind is "OnDeviceModle", expected OnDeviceModel'


def test_an_evaluation_may_say_why_it_does_not_apply() -> None:
    assert validate(manifest(evaluation={"notApplicable": "image model: no tabular evaluation set"})) == []
    [violation] = validate(manifest(evaluation={"notApplicable": "n/a", "dataset": "d.csv", "label": "y"}))
    assert violation.message == "spec.evaluation: notApplicable excludes dataset, label and sensitiveFeatures"
    [missing] = validate(manifest(evaluation={"label": "y"}))
    assert "spec.evaluation.dataset" in missing.message
