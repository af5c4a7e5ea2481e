from __future__ import annotations

import pytest

from fleetgate.errors import ManifestError
from fleetgate.manifest import read_manifests

from support import line_of, manifest, to_yaml


def test_other_kinds_are_skipped_and_identity_comes_from_metadata() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    text = to_yaml(config_map, manifest(name="a"), manifest(name="b", namespace="staging"))
    found = read_manifests(text.encode(), "models/all.yaml")
    assert [(m.identity, m.index) for m in found] == [(("production", "a"), 1), (("staging", "b"), 2)]


def test_line_of_a_field_and_of_a_missing_field_falls_back_to_its_parent() -> None:
    text = to_yaml(manifest())
    [found] = read_manifests(text.encode(), "m.yaml")
    assert found.line_of("spec.updateStrategy.rolloutPercentage") == line_of(text, "rolloutPercentage")
    assert found.line_of("spec.targetDevices.regions[1]") == line_of(text, "- EU")
    assert found.line_of("spec.updateStrategy.nothingHere") == line_of(text, "updateStrategy:")
    assert found.line_of("not a path!") == 1


def test_a_non_mapping_document_is_refused() -> None:
    with pytest.raises(ManifestError, match=r"m\.yaml:3: document 2 is a sequence, expected a mapping"):
        read_manifests(b"kind: OnDeviceModel\n---\n- 1\n", "m.yaml")


def renamed(kind: object, **changes: object) -> dict[str, object]:
    doc = manifest(name="typo")
    doc["kind"] = kind
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "kind", ["OnDeviceModle", "ondevicemodel", "OnDeviceModels", "OnDevice-Model", "OnDeviceMode"]
)
def test_a_near_miss_of_the_kind_is_kept_to_fail_the_schema(kind: str) -> None:
    text = to_yaml(renamed(kind, spec={"note": "no modelUri here"}))
    [found] = read_manifests(text.encode(), "m.yaml")
    assert found.identity == ("production", "typo")
    assert found.line_of(("kind",)) == line_of(text, "kind:")


def test_a_document_with_a_model_uri_is_kept_whatever_its_kind() -> None:
    [found] = read_manifests(to_yaml(renamed("Deployment")).encode(), "m.yaml")
    assert found.body["kind"] == "Deployment"


def test_a_document_in_the_api_group_of_a_manifest_of_the_file_is_kept() -> None:
    text = to_yaml(manifest(name="a"), renamed("Model", spec={}))
    assert [m.name for m in read_manifests(text.encode(), "m.yaml")] == ["a", "typo"]


def test_unrelated_kinds_are_still_skipped() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "OnDeviceModel"}}
    text = to_yaml(deployment, config_map, manifest(name="a"))
    assert [m.name for m in read_manifests(text.encode(), "m.yaml")] == ["a"]
