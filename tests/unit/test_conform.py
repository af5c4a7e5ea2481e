"""The quick conformance check answers exactly as jsonschema does, on thousands of mutated documents."""

from __future__ import annotations

import copy
import json
import math
import random
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from fleetgate import config
from fleetgate.conform import Unsupported, compile_schema
from fleetgate.manifest.schema import schema_document

from support import manifest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Values a hostile or careless author might put anywhere.
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, 100, 101, 10**20, math.nan, math.inf, -math.inf,
    "", "x", "production\n", "Production", "a" * 300, "sha256:" + "0" * 64, "1.2.3", "3.2.1-rc.1",
    "stagedRollout", "immediate", "WIFI", "ANY", "int8", "fp64", "lite", "premium", "OnDeviceModel",
    [], ["US"], [1], ["US", "US"], {}, {"x": 1}, {"type": "stagedRollout"},
]  # fmt: skip


def _fleet_schema(name: str) -> dict[str, Any]:
    text = resources.files("fleetgate.fleet").joinpath(f"schemas/{name}").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _yaml_documents(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def _manifest_seeds() -> list[Any]:
    files = sorted((EXAMPLES / "gitops-repo" / "models").rglob("*.yaml"))
    seeds = [doc for path in files for doc in _yaml_documents(path)]
    full = manifest(
        tier="lite",
        sizeBytes=1000,
        targetDevices={"minOSVersion": "16.0", "minAPILevel": 30, "minMemoryMB": 2048, "regions": ["US"]},
        inferenceConfig={"batchSize": 1, "numThreads": 2, "quantization": "int8"},
        featureFlags={"lite": True, "variant": "a", "share": 0.5},
        evaluation={"dataset": "eval.csv", "label": "y", "sensitiveFeatures": ["group"]},
    )
    full["metadata"]["labels"] = {"team": "vision", "example.com/owner": "x"}
    return [*seeds, full, manifest(evaluation={"notApplicable": "no users' data"})]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _paths(sub, (*prefix, index))
    return found


def _mutate(document: Any, rng: random.Random) -> Any:
    mutated = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(mutated))
        if not path:
            continue
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        key, action = path[-1], rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.25 and isinstance(parent, dict):
            parent[rng.choice(["extra", "rolloutPercent", "notApplicable", "label"])] = rng.choice(ODD_VALUES)
        elif action < 0.35 and isinstance(parent[key], dict) and parent[key]:
            parent[key].pop(rng.choice(list(parent[key])))
        else:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return mutated


def _agree(schema: dict[str, Any], seeds: list[Any], count: int, seed: int) -> int:
    """Mutate seeds ``count`` times; fail on the first disagreement; how many were invalid."""
    quick, full = compile_schema(schema), Draft202012Validator(schema)
    rng, invalid = random.Random(seed), 0
    for document in [*seeds, *(_mutate(rng.choice(seeds), rng) for _ in range(count))]:
        expected = full.is_valid(document)
        assert quick(document) == expected, json.dumps(document, default=str)[:500]
        invalid += not expected
    return invalid


def test_manifests_agree_with_jsonschema() -> None:
    seeds = [s for s in _manifest_seeds() if Draft202012Validator(schema_document()).is_valid(s)]
    assert len(seeds) >= 6
    invalid = _agree(schema_document(), seeds, 4000, seed=1)
    assert 500 < invalid < 4000  # the mutations reach both answers


def test_config_agrees_with_jsonschema() -> None:
    seeds = _yaml_documents(EXAMPLES / "gitops-repo" / "fleetgate.yaml")
    assert _agree(config._SCHEMA, seeds, 2000, seed=2) > 200


@pytest.mark.parametrize("name", ["inventory", "prices"])
def test_fleet_files_agree_with_jsonschema(name: str) -> None:
    seeds = _yaml_documents(EXAMPLES / "fleet" / f"{name}.yaml")
    assert _agree(_fleet_schema(f"{name}.schema.json"), seeds, 2000, seed=3) > 200


def test_type_rules_follow_jsonschema() -> None:
    check = compile_schema({"type": "integer", "minimum": 0})
    answers = [check(v) for v in (1, 2.0, True, -1, 1.5, math.nan, "1")]
    assert answers == [True, True, False, False, False, False, False]
    assert not compile_schema({"enum": [1]})(True)
    assert compile_schema({"enum": [1]})(1.0)


def test_patterns_search_like_jsonschema() -> None:
    check = compile_schema({"pattern": "^[a-z]+$(?!\\n)"})
    assert check("abc") and not check("abc\n") and check(5)


def test_local_references_and_recursion() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}
    schema = {"$defs": {"node": node}, "$ref": "#/$defs/node"}
    check = compile_schema(schema)
    assert check({"next": {"next": {}}}) and not check({"next": {"next": 3}})


@pytest.mark.parametrize("path", sorted((EXAMPLES.parent / "attestations").glob("*.schema.json")), ids=str)
def test_every_trust_schema_compiles(path: Path) -> None:
    compile_schema(json.loads(path.read_text(encoding="utf-8")))


def test_dependent_required() -> None:
    check = compile_schema({"dependentRequired": {"a": ["b"]}})
    assert check({"a": 1, "b": 2}) and check({"b": 2}) and not check({"a": 1}) and check([1])


@pytest.mark.parametrize(
    "schema", [{"format": "email"}, {"patternProperties": {}}, {"$ref": "other.json"}, {"contains": {}}]
)
def test_unknown_keywords_are_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(Unsupported):
        compile_schema(schema)
