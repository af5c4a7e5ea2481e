"""The demo's second part: evidence about the artifacts, gathered and judged on a pull request.

A deployment repository whose models live beside their manifests. ``main`` holds three signed
releases with recorded provenance (see ``release_pipeline.py``); the pull request then ships:

* ``image-classifier`` v4.1, released properly and then tampered with (one byte of the weights,
  with the manifest's checksum updated to match): the signature and the provenance fail;
* ``keyboard-suggest`` v1.1, declared int8 but released without its quantize step: fp32;
* ``content-ranker`` v2, a model that leans on a proxy of the sensitive group: it treats the
  two groups of the evaluation set differently, and is less accurate than v1;
* ``wake-word`` v1.0, a new TFLite model declared int8 and converted to full integer by the
  pipeline: its claim is checked against the bytes and it is admitted. Its CycloneDX ML-BOM
  (``fleetgate verify --format cyclonedx``) then records what was proven, each property with its
  evidence class.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from demo_support import DemoError, environment, fleetgate, git, summarize
from release_pipeline import (
    ReleaseKeys,
    evaluation_set,
    image_classifier,
    ranker,
    release,
    release_tflite,
    tamper,
    write_trust,
)
from tflite_model import wake_word

BRANCH = "pr/model-refresh"
EVAL_SET = "data/content-ranker-eval.csv"

# What each deployment of the pull request should get: the rules that deny it.
EXPECTED: dict[str, set[str]] = {
    "production/image-classifier": {"supplychain.signature", "supplychain.provenance"},
    "production/keyboard-suggest": {"targeting.quantization"},
    "staging/content-ranker": {
        "responsible.demographic-parity",
        "responsible.equalized-odds",
        "responsible.accuracy-drop",
    },
    "production/wake-word": set(),
}
WAKE_WORD = "models/wake-word/model.tflite"

FLEETGATE_YAML = {
    "trust": "attestations/trust.yaml",
    # Three fresh processes per model, short runs: enough for a same-run comparison.
    "evidence": {"latency": {"repeats": 3, "warmupRuns": 3, "timedRuns": 20}},
}


def run_release_demo(tmp: Path) -> None:
    repo = tmp / "model-repo"
    keys = ReleaseKeys.generate(tmp / "release-keys")
    build_main(repo, tmp / "workspace", keys)
    verify(repo, "models/image-classifier/model.onnx")
    build_pull_request(repo, tmp / "workspace", keys)
    decision = check(repo)
    summarize(decision)
    show_evidence(decision)
    check_expectations(decision)
    show_bom(repo, WAKE_WORD, "deployments/wake-word.yaml")


def build_main(repo: Path, workspace: Path, keys: ReleaseKeys) -> None:
    repo.mkdir(parents=True)
    write_trust(repo, keys)
    (repo / "fleetgate.yaml").write_text(yaml.safe_dump(FLEETGATE_YAML, sort_keys=False))
    evaluation_set(repo / EVAL_SET)
    ship(repo, workspace, keys, "image-classifier", "production", "4.0.0", image_classifier(), "int8")
    ship(repo, workspace, keys, "keyboard-suggest", "production", "1.0.0", image_classifier(32, 1), "int8")
    ship(repo, workspace, keys, "content-ranker", "staging", "1.0.0", ranker([3, 3, 0], 0), "fp32")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=Signed releases with recorded provenance")


def build_pull_request(repo: Path, workspace: Path, keys: ReleaseKeys) -> None:
    git(repo, "switch", "--quiet", "--create", BRANCH)
    model = ship(
        repo, workspace, keys, "image-classifier", "production", "4.1.0", image_classifier(seed=2), "int8"
    )
    tamper(model)
    # The attacker updates the checksum to the new bytes: only signature and provenance can tell.
    write_manifest(repo, "image-classifier", "production", "4.1.0", "int8")
    ship(
        repo,
        workspace,
        keys,
        "keyboard-suggest",
        "production",
        "1.1.0",
        image_classifier(32, 3),
        "int8",
        False,
    )
    ship(repo, workspace, keys, "content-ranker", "staging", "2.0.0", ranker([3, 3, -4], 2), "fp32")
    # A new on-device model in TFLite, converted to full integer as its manifest declares.
    target = repo / WAKE_WORD
    target.parent.mkdir(parents=True, exist_ok=True)
    release_tflite(workspace, target, wake_word("float32"), wake_word("int8"), keys)
    write_manifest(repo, "wake-word", "production", "1.0.0", "int8", WAKE_WORD)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=Refresh three models, add a TFLite wake-word model")


def ship(
    repo: Path,
    workspace: Path,
    keys: ReleaseKeys,
    name: str,
    namespace: str,
    version: str,
    fp32: Any,
    declared: str,
    quantize: bool | None = None,
) -> Path:
    """Release a model through the pipeline into the repository and write its manifest."""
    target = repo / "models" / name / "model.onnx"
    target.parent.mkdir(parents=True, exist_ok=True)
    release(workspace, target, fp32, keys, quantize=declared == "int8" if quantize is None else quantize)
    write_manifest(repo, name, namespace, version, declared)
    return target


def write_manifest(
    repo: Path, name: str, namespace: str, version: str, quantization: str, model_path: str | None = None
) -> None:
    import hashlib

    model_path = model_path or f"models/{name}/model.onnx"
    model = repo / model_path
    spec: dict[str, Any] = {
        "modelId": name,
        "version": version,
        "modelUri": f"file:{model_path}",
        "checksum": "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest(),
        "tier": "standard",
        "targetDevices": {
            "minOSVersion": "iOS16",
            "minAPILevel": 30,
            "minMemoryMB": 4096,
            "regions": ["US", "EU"],
        },
        "updateStrategy": {
            "type": "stagedRollout",
            "rolloutPercentage": 5,
            "minBatteryLevel": 50,
            "networkConstraint": "WIFI",
        },
        "inferenceConfig": {"batchSize": 1, "numThreads": 1, "quantization": quantization},
    }
    if name == "content-ranker":
        spec["evaluation"] = {"dataset": EVAL_SET, "label": "label", "sensitiveFeatures": ["group"]}
    manifest = {
        "apiVersion": "mobileai.example.com/v1",
        "kind": "OnDeviceModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    path = repo / "deployments" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


def verify(repo: Path, artifact: str) -> None:
    args = ["verify", artifact, "--trust", "attestations/trust.yaml"]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    done = subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), check=False)
    if done.returncode != 0:
        raise DemoError(f"fleetgate verify exited {done.returncode} on a properly signed release")


def check(repo: Path) -> dict[str, Any]:
    args = ["check", "--base", "main", "--head", BRANCH]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), check=False)
    done = subprocess.run(
        [*fleetgate(), *args, "--format", "json", "--quiet"],
        cwd=repo,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 1:
        raise DemoError(
            f"the gate exited {done.returncode} on the model refresh; expected 1 (deny)\n{done.stderr}"
        )
    decision: dict[str, Any] = json.loads(done.stdout)
    return decision


def show_evidence(decision: dict[str, Any]) -> None:
    """Each deployment's evidence, every value with how it was obtained."""
    print("  evidence per deployment (how each fact was obtained):")
    shown = {"signature": "signature", "provenance": "provenance", "model": "quantization"}
    shown.update(latency="latency_p50_ms", fairness="fairness")
    for subject in decision["subjects"]:
        evidence = subject["evidence"]
        classes = evidence.get("classes", {})
        facts = [f"{key}={evidence[key]} [{classes[fact]}]" for fact, key in shown.items() if key in evidence]
        print(f"    {subject['namespace']}/{subject['name']}: {', '.join(facts)}")


def show_bom(repo: Path, artifact: str, manifest: str) -> None:
    """The admitted TFLite model's ML-BOM, in short: what was proven and how each part is known."""
    args = ["verify", artifact, "--trust", "attestations/trust.yaml", "--manifest", manifest]
    args += ["--format", "cyclonedx"]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    done = subprocess.run(
        [*fleetgate(), *args], cwd=repo, env=environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DemoError(f"fleetgate verify --format cyclonedx exited {done.returncode}\n{done.stderr}")
    [model] = json.loads(done.stdout)["components"]
    card = {p["name"].removeprefix("fleetgate:"): p["value"] for p in model["modelCard"]["properties"]}
    print(f"  CycloneDX {model['type']} {model['group']}/{model['name']} {model['version']}")
    print(f"    sha256      {model['hashes'][0]['content']}")
    for name in ("format", "quantization", "quantizationMode", "declared:quantization", "signature:signer"):
        print(f"    {name:22} {card[name]}  [{card[name + ':evidenceClass']}]")
    for reference in model["externalReferences"]:
        print(f"    {reference['type']:22} {reference['url']}")
    if (card["quantization"], card["declared:quantization"]) != ("int8", "int8"):
        raise DemoError(f"the wake-word BOM says {card['quantization']}, the manifest declares int8")


def check_expectations(decision: dict[str, Any]) -> None:
    problems = []
    for subject in decision["subjects"]:
        target = f"{subject['namespace']}/{subject['name']}"
        denies = {f["rule"] for f in subject["violations"] if f["severity"] == "deny"}
        if denies != EXPECTED.get(target):
            problems.append(
                f"{target}: expected deny {sorted(EXPECTED.get(target, []))}, got {sorted(denies)}"
            )
    if problems:
        raise DemoError("the model refresh was not judged as expected:\n  " + "\n  ".join(problems))
