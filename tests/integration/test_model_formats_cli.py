"""TFLite and Core ML artifacts through the real CLI, on a real git repository.

One repository ships a correct full-integer TFLite release and one release per rule to break
(a float model declared int8, a custom op, a biased model, ONNX bytes under a .tflite name),
plus Core ML packages for old and new iOS. One ``fleetgate check`` judges them all: each rule
denies its release and admits the correct one. A pull request then replaces the TFLite model,
so the base model is timed and scored in the same run.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from fleetgate.errors import EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact

import support_onnx
import support_tflite
from support import GitRepo, manifest, to_yaml
from support_fairness import EVALUATION, FAIR_WEIGHTS, biased_dataset
from support_release import by_name, denied_rules, digest_of, run_cli

pytest.importorskip("ai_edge_litert")
pytest.importorskip("coremltools")
import support_coreml  # (needs coremltools)

EVIDENCE = {"latency": {"repeats": 1, "warmupRuns": 1, "timedRuns": 5}}
BIASED = (FAIR_WEIGHTS[0], FAIR_WEIGHTS[1], -6.0)


def ship(repo: GitRepo, name: str, path: str, data: bytes | None, **spec: Any) -> None:
    """The model at ``path`` (written unless ``data`` is None) and its manifest pinning it."""
    if data is not None:
        repo.write(path, data)
    try:
        artifact = resolve_artifact(f"file:{path}", ArtifactSource(root=repo.root))
        digest = artifact.digest if artifact is not None else ""
    except EvidenceError:  # a release whose name contradicts its bytes: pin the bytes
        digest = digest_of(data or b"")
    spec = {"modelUri": f"file:{path}", "checksum": digest, "sizeBytes": None, **spec}
    repo.write(f"models/{name}.yaml", to_yaml(manifest(name, **spec)))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo(tmp_path_factory.mktemp("formats") / "repo")
    repo.write("fleetgate.yaml", yaml.safe_dump({"evidence": EVIDENCE}))
    biased_dataset(repo.root / str(EVALUATION["dataset"]), rows=400)
    int8 = {"inferenceConfig": {"quantization": "int8"}, "evaluation": EVALUATION}
    ship(repo, "good", "models/good.tflite", support_tflite.classifier(FAIR_WEIGHTS, storage="int8"), **int8)
    ship(repo, "float", "models/float.tflite", support_tflite.classifier(FAIR_WEIGHTS), **int8)
    ship(repo, "biased", "models/biased.tflite", support_tflite.classifier(BIASED, storage="int8"), **int8)
    custom = support_tflite.classifier(FAIR_WEIGHTS, storage="int8", custom_op="MyCustomOp")
    ship(repo, "custom", "models/custom.tflite", custom, inferenceConfig={"quantization": "int8"})
    onnx_bytes = support_onnx.linear_classifier(list(FAIR_WEIGHTS)).SerializeToString()
    ship(repo, "renamed", "models/renamed.tflite", onnx_bytes, **int8)
    package = support_coreml.ml_program(repo.root / "models" / "phone.mlpackage")
    fp16 = {"inferenceConfig": {"quantization": "fp16"}, "evaluation": EVALUATION}
    ship(repo, "phone", "models/phone.mlpackage", None, **fp16)
    ship(repo, "old-phone", "models/phone.mlpackage", None, targetDevices={"minOSVersion": "iOS15"}, **fp16)
    assert package.is_dir()
    research = {"namespace": "research", "inferenceConfig": {"quantization": "fp32"}}
    ship(repo, "speed", "models/speed.tflite", support_tflite.classifier(FAIR_WEIGHTS), **research)
    repo.commit("releases")  # gate files are read from the trusted revision: commit them first
    return repo


@pytest.fixture(scope="module")
def decision(repo: GitRepo) -> dict[str, Any]:
    ran = run_cli(repo.root, "check", "models", "--format", "json", "--no-audit")
    assert ran.code == 1, ran.stderr
    return by_name(ran.decision())


def finding(subject: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(v for v in subject["violations"] if v["rule"] == rule)


def test_a_correct_full_integer_tflite_release_is_admitted_with_its_facts(decision: dict[str, Any]) -> None:
    good = decision["good"]
    assert good["allowed"] is True and denied_rules(good) == []
    evidence = good["evidence"]
    assert (evidence["quantization"], evidence["fairness"]) == ("int8", "measured")
    assert isinstance(evidence["latency_p50_ms"], float) and evidence["latency_p50_ms"] > 0
    # No trust file in this repository: nothing to verify the release against.
    assert evidence["classes"] == {
        "artifact": "derived",
        "signature": "not-assessable",
        "provenance": "not-assessable",
        "model": "derived",
        "latency": "observed",
        "fairness": "observed",
    }


def test_a_float_tflite_model_declared_int8_is_denied(decision: dict[str, Any]) -> None:
    subject = decision["float"]
    assert denied_rules(subject) == ["targeting.quantization"]
    assert (
        "declares int8 but the model artifact is fp32"
        in finding(subject, "targeting.quantization")["message"]
    )


def test_a_custom_op_is_denied_by_runtime_ops_and_cannot_be_timed(decision: dict[str, Any]) -> None:
    subject = decision["custom"]
    assert denied_rules(subject) == ["evidence.failed", "targeting.runtime-ops"]
    message = finding(subject, "targeting.runtime-ops")["message"]
    assert "operator MyCustomOp (domain custom" in message and "LiteRT" in message


def test_a_biased_tflite_model_is_denied_by_the_fairness_rules(decision: dict[str, Any]) -> None:
    rules = denied_rules(decision["biased"])
    assert "responsible.demographic-parity" in rules and "evidence.failed" not in rules


def test_onnx_bytes_under_a_tflite_name_fail_naming_both(decision: dict[str, Any]) -> None:
    subject = decision["renamed"]
    assert "evidence.failed" in denied_rules(subject)
    message = finding(subject, "evidence.failed")["message"]
    assert "the name says tflite (.tflite) but the content is onnx" in message


def test_core_ml_needs_the_ios_its_specification_version_names(decision: dict[str, Any]) -> None:
    assert denied_rules(decision["phone"]) == []
    old = decision["old-phone"]
    assert "targeting.coreml-os" in denied_rules(old)
    assert finding(old, "targeting.coreml-os")["message"] == (
        "the Core ML model (specification version 7) needs iOS 16 or later, but minOSVersion is iOS15"
    )


def test_core_ml_latency_and_fairness_are_absent_never_passed(decision: dict[str, Any]) -> None:
    violations = decision["phone"]["violations"]
    missing = [v["message"] for v in violations if v["rule"].startswith("evidence.missing.")]
    assert any("latency evidence is absent (Core ML runs only on Apple platforms)" in m for m in missing)
    assert any("fairness evidence is absent (Core ML runs only on Apple platforms)" in m for m in missing)
    evidence = decision["phone"]["evidence"]
    assert evidence["classes"]["model"] == "derived"
    assert (evidence["classes"]["latency"], evidence["classes"]["fairness"]) == ("not-assessable",) * 2
    assert evidence["not_assessable"]["latency"] == "Core ML runs only on Apple platforms"


def test_not_assessable_evidence_denies_at_pre_deploy_and_the_text_report_says_why(repo: GitRepo) -> None:
    ran = run_cli(
        repo.root, "check", "models/phone.yaml", "models/good.yaml", "--stage", "pre-deploy", "--no-audit"
    )
    assert ran.code == 1, ran.stderr
    assert "evidence.missing.latency" in ran.stdout  # absent: fails closed where it must
    lines = ran.stdout.splitlines()
    assert (
        "latency (Core ML runs only on Apple platforms), fairness (Core ML runs only on Apple platforms)"
        in next(line for line in lines if "Core ML runs only" in line)
    )
    # The TFLite release was timed here: the report says on what, so nobody reads it as a phone's.
    observed = next(line for line in lines if line.lstrip().startswith("observed"))
    assert "latency p50 " in observed and "(timed on this machine's CPU, not on a device)" in observed


def test_a_replaced_tflite_model_is_compared_with_its_base_in_the_same_run(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "slower")
    try:
        bigger = support_tflite.cnn(channels=32, image=32)
        ship(
            repo,
            "speed",
            "models/speed.tflite",
            bigger,
            namespace="research",
            inferenceConfig={"quantization": "fp32"},
        )
        repo.commit("replace the model")
        ran = run_cli(repo.root, "check", "--base", base, "--head", "HEAD", "--format", "json", "--no-audit")
        subject = by_name(ran.decision())["speed"]
        rules = denied_rules(subject)
        assert "cost.latency-regression" in rules and "evidence.failed" not in rules
    finally:
        repo.git("checkout", "-q", "main")
