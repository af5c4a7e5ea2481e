"""Ways around the rule library found in review, each reproduced on a real repository.

Every test plays the attacker's pull request(s) through the real CLI and asserts that the
gate now denies what it used to admit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from support import GitRepo, manifest, to_yaml, violations


def denied_rules(decision: dict[str, Any]) -> set[str]:
    return {v["rule"] for v in violations(decision) if v["severity"] == "deny"}


def pull_request(repo: GitRepo, base: dict[str, Any], head: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    repo.write("models/m.yaml", to_yaml(base))
    before = repo.commit("base")
    repo.write("models/m.yaml", to_yaml(head))
    after = repo.commit("pull request")
    return repo.decision("--base", before, "--head", after)


def test_removing_a_staged_percentage_is_refused_by_the_schema(repo: GitRepo) -> None:
    base = manifest("m", updateStrategy={"rolloutPercentage": 25})
    code, decision = pull_request(repo, base, manifest("m", updateStrategy={"rolloutPercentage": None}))
    assert code == 1
    [finding] = violations(decision, "schema.invalid")
    assert "spec.updateStrategy.rolloutPercentage" in finding["message"]


def test_removing_the_update_strategy_counts_as_a_jump_to_full_rollout(repo: GitRepo) -> None:
    base = manifest("m", "staging", updateStrategy={"rolloutPercentage": 25})
    code, decision = pull_request(repo, base, manifest("m", "staging", updateStrategy=None))
    assert code == 1
    [finding] = violations(decision, "rollout.step-limit")
    assert "from 25 % to 100 % (no rolloutPercentage counts as 100 %)" in finding["message"]


def test_the_second_step_of_the_two_pull_request_attack_is_denied_too(repo: GitRepo) -> None:
    # Even if the first step landed without the gate, a version with no percentage is already
    # at 100 %: it takes no step, and a new deployment without a percentage starts too high.
    code, decision = pull_request(
        repo,
        manifest("other", "staging"),
        manifest("m", "staging", updateStrategy=None),
    )
    assert code == 1
    [finding] = [v for v in violations(decision, "rollout.step-limit") if "m.yaml" in v["file"]]
    assert "the deployment is new" in finding["message"]
    assert "starts at 100 %" in finding["message"]


def test_a_namespace_with_a_trailing_newline_is_not_a_new_namespace(repo: GitRepo) -> None:
    # "production\n" used to pass the DNS-label pattern and then escape every strict rule.
    head = manifest("m", "production\n", updateStrategy={"type": "immediate", "rolloutPercentage": None})
    repo.write("models/m.yaml", to_yaml(head))
    code, decision = repo.decision()
    assert code == 1
    [finding] = violations(decision, "schema.invalid")
    assert finding["field"] == "metadata.namespace"
    assert finding["line"] == 5


def test_an_fp32_artifact_without_a_declared_quantization_is_denied_in_production(repo: GitRepo) -> None:
    import support_onnx

    model = support_onnx.save(support_onnx.linear_classifier([4.0, 4.0, 0.0]), repo.root / "models/m.onnx")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    head = manifest(
        "m",
        modelUri="file:models/m.onnx",
        checksum=f"sha256:{digest}",
        sizeBytes=model.stat().st_size,
        inferenceConfig={"quantization": None},
    )
    repo.write("models/m.yaml", to_yaml(head))
    code, decision = repo.decision("--evidence", "artifact,model")
    assert code == 1
    messages = [v["message"] for v in violations(decision, "targeting.quantization")]
    assert any("the model artifact is fp32 (measured)" in m for m in messages), messages
    assert any("requires spec.inferenceConfig.quantization" in m for m in messages), messages


LEAK = """package fleetgate.leak

import rego.v1

deny contains {"rule": "leak.env", "msg": msg, "field": "spec"} if {
\tmsg := opa.runtime().env.AWS_SECRET_ACCESS_KEY
}
"""


def test_a_repository_policy_cannot_publish_the_ci_environment(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    repo.write("policy/leak/leak.rego", LEAK)
    repo.write("fleetgate.yaml", "policies:\n  dirs: [policy]\n")
    repo.commit("a policy folder that reads the environment")  # gate files come from HEAD
    repo.write("models/m.yaml", to_yaml(manifest("m")))
    done = repo.fleetgate("check", "--format", "json", "--no-audit")
    assert done.returncode == 2
    assert "policy/leak/leak.rego:6: opa.runtime reads the gate's environment variables" in done.stderr
    assert secret not in done.stdout + done.stderr


def test_a_typo_in_kind_does_not_turn_a_deployment_into_a_deletion(repo: GitRepo) -> None:
    head = manifest("m", updateStrategy={"rolloutPercentage": 100})
    head["kind"] = "OnDeviceModle"
    code, decision = pull_request(repo, manifest("m"), head)
    assert code == 1
    [subject] = decision["subjects"]
    assert subject["change"] == "modified"
    [finding] = violations(decision, "schema.invalid")
    assert finding["message"] == 'kind is "OnDeviceModle", expected OnDeviceModel'
    assert (finding["file"], finding["line"]) == ("models/m.yaml", 2)


def test_a_new_file_with_a_typo_in_kind_is_not_ignored(repo: GitRepo) -> None:
    head = manifest("m")
    head["kind"] = "OnDeviceModle"
    repo.write("models/m.yaml", to_yaml(head))
    code, decision = repo.decision()
    assert code == 1
    assert [v["line"] for v in violations(decision, "schema.invalid")] == [2]


FACTS = ("artifact", "signature", "provenance", "model", "latency", "fairness")


def test_waiving_one_missing_fact_does_not_waive_the_others(repo: GitRepo) -> None:
    repo.write(
        "fleetgate-waivers.yaml",
        "waivers:\n  - rule: evidence.missing.fairness\n    target: production/m\n"
        "    reason: an image model has no tabular evaluation set\n    approvedBy: ml-lead\n"
        "    expires: 2099-12-31\n",
    )
    repo.write("models/m.yaml", to_yaml(manifest("m")))
    code, decision = repo.decision("--stage", "pre-deploy")
    assert code == 1
    [subject] = decision["subjects"]
    assert [w["rule"] for w in subject["waived"]] == ["evidence.missing.fairness"]
    assert denied_rules(decision) == {f"evidence.missing.{fact}" for fact in FACTS if fact != "fairness"}


def test_a_model_without_an_evaluation_set_says_why_instead_of_a_waiver(repo: GitRepo) -> None:
    import support_onnx

    model = support_onnx.save(support_onnx.linear_classifier([4.0, 4.0, 0.0]), repo.root / "models/m.onnx")
    head = manifest(
        "m",
        "research",
        modelUri="file:models/m.onnx",
        checksum="sha256:" + hashlib.sha256(model.read_bytes()).hexdigest(),
        evaluation={"notApplicable": "image model: no tabular evaluation set"},
    )
    repo.write("models/m.yaml", to_yaml(head))
    code, decision = repo.decision("--stage", "pre-deploy", "--evidence", "artifact,fairness")
    rules = {v["rule"] for v in violations(decision)}
    assert "evidence.missing.fairness" not in rules
    assert "evidence.failed" not in rules
    assert "evidence.missing.artifact" not in rules
    assert code == 1  # signature, provenance, model and latency were not gathered
