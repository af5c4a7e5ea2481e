from __future__ import annotations

import jsonschema

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
