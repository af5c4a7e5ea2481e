"""A generated corpus of policy inputs: every manifest field at its boundaries, with unicode,
missing and extra fields, and evidence facts of every shape the collectors produce."""

from __future__ import annotations

import copy
import random
from typing import Any

from fleetgate.manifest import validate

from support import BASE_MANIFEST


def _group(value: str, rows: int, rate: float) -> dict[str, Any]:
    positives = rows // 2
    return {
        "group": {"gender": value},
        "name": f"gender={value}",
        "rows": rows,
        "positives": positives,
        "negatives": rows - positives,
        "selection_rate": rate,
        "accuracy": 0.9,
        "true_positive_rate": 0.9,
        "false_positive_rate": 0.05,
    }


_NUMBERS = [-1, 0, 1, 2, 5, 9, 10, 11, 19, 20, 25, 49, 50, 51, 99, 100, 101, 0.5, 10.0, 1e9, 2**53]
_STRINGS = ["", "int8", "fp16", "fp32", "WIFI", "ANY", "stagedRollout", "immediate", "é模型", 'a"b\\c', "US"]
_FIELDS: dict[tuple[str, ...], list[Any]] = {
    ("metadata", "namespace"): ["production", "staging", "dev", "prod-eu", "ñ"],
    ("spec", "tier"): ["standard", "premium", "free", "critical", ""],
    ("spec", "version"): ["3.2.1", "0.0.1", "10.0.0", "3.2", "v1"],
    ("spec", "checksum"): ["sha256:" + "ab" * 32, "md5:abc", "sha256:" + "AB" * 32, ""],
    ("spec", "modelUri"): ["s3://m/v1/model.onnx", "https://x/model.tflite", "model.gguf", "file:///é.onnx"],
    ("spec", "sizeBytes"): [0, 1, 12582912, 104857600, 104857601, 2**31, 2**40],
    ("spec", "targetDevices", "minAPILevel"): [0, 21, 29, 30, 34, 35],
    ("spec", "targetDevices", "minMemoryMB"): [0, 512, 1024, 2048, 4096, 16384],
    ("spec", "targetDevices", "minOSVersion"): ["iOS16", "iOS9", "iOS17.4", "Android14", ""],
    ("spec", "targetDevices", "regions"): [[], ["US"], ["CN"], ["EU", "US", "JP"], ["é"]],
    ("spec", "updateStrategy", "type"): ["stagedRollout", "immediate", "canary", "manual"],
    ("spec", "updateStrategy", "rolloutPercentage"): _NUMBERS,
    ("spec", "updateStrategy", "minBatteryLevel"): _NUMBERS,
    ("spec", "updateStrategy", "networkConstraint"): ["WIFI", "ANY", "CELLULAR", ""],
    ("spec", "inferenceConfig", "quantization"): ["int8", "fp16", "fp32", "int4", ""],
    ("spec", "inferenceConfig", "batchSize"): [1, 2, 8, 64, 1000],
    ("spec", "inferenceConfig", "numThreads"): [0, 1, 2, 4, 8, 16],
    ("spec", "featureFlags"): [{}, {"x": True}, {"é": False}],
}
_FACTS: dict[str, list[Any]] = {
    "artifact": [
        {"digest": "sha256:" + "ab" * 32, "size": 12582912, "path": "m.onnx"},
        {"digest": "sha256:" + "cd" * 32, "size": 1, "path": "m.onnx"},
        {"missing": True, "path": "gone.onnx"},
    ],
    "model": [
        {
            "quantization": q,
            "peak_memory_mb": peak,
            "runtime": {"target": "onnxruntime 1.20 CPU", "unsupported": ops},
        }
        for q in ("int8", "fp16", "fp32", "mixed", "")
        for peak in (0, 512, 1024, 1024.5, 4096.0)
        for ops in (
            [],
            [{"op": "NonMaxSuppression", "domain": "ai.onnx", "opset": 11, "reason": "no kernel"}],
        )
    ]
    + [{"error": "the model could not be read"}],
    "signature": [
        {"status": "verified", "signer": "a@example.com"},
        {"status": "failed", "reason": "bad signature"},
        {"status": "unsigned", "reason": "no signature"},
    ],
    "provenance": [
        {"status": "verified", "slsa": 3, "product_digest": "sha256:" + "ab" * 32, "final_step": "build"},
        {"status": "verified", "slsa": 1, "product_digest": "sha256:" + "00" * 32, "final_step": "x"},
        {"status": "failed", "reason": "digest mismatch"},
    ],
    "latency": [
        {"p50_ms": v, "p95_ms": v * 2, "runs": 20, "threads": 2, "batch": 1, **base}
        for v in (0, 1.5, 10, 20, 20.5, 50, 99.9, 150, 1000)
        for base in ({}, {"base": {"p50_ms": 10}}, {"base": {"p50_ms": 0}}, {"base": {"error": "gone"}})
    ],
    "fairness": [
        {
            "rows": rows,
            "accuracy": 0.91,
            "sensitive_features": ["gender"],
            "demographic_parity_difference": d,
            "equalized_odds_difference": d,
            "groups": [_group("F", rows // 2, d), _group("é", rows - rows // 2, 0)],
            "insufficient": [],
            **base,
        }
        for d in (0, 0.05, 0.1, 0.100001, 0.3, 1)
        for rows in (0, 40, 400)
        for base in ({}, {"base": {"accuracy": 0.95}}, {"base": {"accuracy": 0.915}})
    ]
    + [{"error": "no evaluation set"}, {"sensitive_features": ["gender"], "groups": []}],
}


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = copy.deepcopy(value)


def _drop(doc: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        doc = doc.get(key, {})
    doc.pop(path[-1], None)


def _manifest(rng: random.Random) -> dict[str, Any]:
    """A manifest that holds the schema: the gate never asks the policies about any other."""
    while True:
        doc = _variant(rng)
        if not validate(doc):
            return doc


def _variant(rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(BASE_MANIFEST)
    for path in rng.sample(sorted(_FIELDS), rng.randint(1, 5)):
        _set(doc, path, rng.choice(_FIELDS[path]))
    if rng.random() < 0.15:
        _drop(doc, rng.choice(sorted(_FIELDS)))
    if rng.random() < 0.1:
        _set(doc, ("spec", rng.choice(["extra", "é", "rollout"])), rng.choice(_STRINGS + _NUMBERS))
    return doc


def policy_inputs(count: int, seed: int = 15) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    inputs = []
    for _ in range(count):
        head = _manifest(rng)
        change = rng.choice(["added", "modified", "modified", "renamed"])
        previous = _manifest(rng) if change != "added" else None
        facts = {n: rng.choice(v) for n, v in _FACTS.items() if rng.random() < 0.4}
        diff = []
        if previous is not None:
            old = previous["spec"]["updateStrategy"].get("rolloutPercentage")
            new = head["spec"]["updateStrategy"].get("rolloutPercentage")
            if old != new:
                diff.append({"path": "spec.updateStrategy.rolloutPercentage", "old": old, "new": new})
        inputs.append(
            {
                "stage": rng.choice(["pre-merge", "pre-deploy"]),
                "change": change,
                "manifest": head,
                "previous": previous,
                "diff": diff,
                "facts": facts,
                "context": {"base_commit": rng.choice([None, "b" * 40])},
            }
        )
    return inputs
