"""Every manifest-only rule of the catalog, end to end through the CLI on one real pull request.

Each case is one deployment: its base version (None: added in the pull request) and its head
version. All cases share one repository and one `fleetgate check` run, and every deployment's set
of denied rules must be exactly what the case expects: a rule that denies too much fails here as
surely as one that denies too little.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from support import GitRepo, line_of, manifest, to_yaml, violations

MIB = 1024 * 1024


class Case(NamedTuple):
    base: dict[str, Any] | None
    head: dict[str, Any]
    denies: dict[str, str]  # rule -> field the (first) finding points at


def m(name: str, namespace: str = "production", **spec: Any) -> dict[str, Any]:
    return manifest(name, namespace, **spec)


CASES: dict[str, Case] = {
    # Admitted: the rules' boundaries.
    "ok-version-bump": Case(m("ok-version-bump"), m("ok-version-bump", version="3.3.0"), {}),
    "ok-one-rung-up": Case(
        m("ok-one-rung-up"), m("ok-one-rung-up", updateStrategy={"rolloutPercentage": 25}), {}
    ),
    "ok-decrease": Case(
        m("ok-decrease", updateStrategy={"rolloutPercentage": 50}),
        m("ok-decrease", updateStrategy={"rolloutPercentage": 5}),
        {},
    ),
    "ok-added-at-max": Case(None, m("ok-added-at-max"), {}),
    "ok-floors": Case(
        None,
        m(
            "ok-floors",
            targetDevices={"minAPILevel": 26, "minOSVersion": "iOS15"},
            updateStrategy={"minBatteryLevel": 20},
            inferenceConfig={"numThreads": 4, "batchSize": 8},
        ),
        {},
    ),
    "ok-at-tier-cap": Case(None, m("ok-at-tier-cap", sizeBytes=50 * MIB), {}),
    "ok-large-on-wifi": Case(None, m("ok-large-on-wifi", tier="premium", sizeBytes=120 * MIB), {}),
    "ok-fp32-outside-strict": Case(
        None, m("ok-fp32-outside-strict", "staging", inferenceConfig={"quantization": "fp32"}), {}
    ),
    "ok-immediate-outside-strict": Case(
        m(
            "ok-immediate-outside-strict",
            "staging",
            updateStrategy={"type": "immediate", "rolloutPercentage": None},
        ),
        m(
            "ok-immediate-outside-strict",
            "staging",
            updateStrategy={"type": "immediate", "rolloutPercentage": None},
            featureFlags={"x": True},
        ),
        {},
    ),
    "ok-registries": Case(None, m("ok-registries", modelUri="https://models.example.com/a.onnx"), {}),
    # Denied: one rule each (plus what the case necessarily implies).
    "staged-required": Case(
        m("staged-required", updateStrategy={"rolloutPercentage": 100}),
        m("staged-required", updateStrategy={"type": "immediate", "rolloutPercentage": 100}),
        {"rollout.staged-required": "spec.updateStrategy.type"},
    ),
    "ladder": Case(
        m("ladder"),
        m("ladder", updateStrategy={"rolloutPercentage": 7}),
        {"rollout.ladder": "spec.updateStrategy.rolloutPercentage"},
    ),
    "step-two-rungs": Case(
        m("step-two-rungs"),
        m("step-two-rungs", updateStrategy={"rolloutPercentage": 50}),
        {"rollout.step-limit": "spec.updateStrategy.rolloutPercentage"},
    ),
    "step-added-high": Case(
        None,
        m("step-added-high", updateStrategy={"rolloutPercentage": 25}),
        {"rollout.step-limit": "spec.updateStrategy.rolloutPercentage"},
    ),
    "step-new-artifact-high": Case(
        m("step-new-artifact-high", updateStrategy={"rolloutPercentage": 25}),
        m("step-new-artifact-high", version="3.3.0", updateStrategy={"rolloutPercentage": 25}),
        {"rollout.step-limit": "spec.updateStrategy.rolloutPercentage"},
    ),
    "battery": Case(
        None,
        m("battery", updateStrategy={"minBatteryLevel": 19}),
        {"rollout.battery-floor": "spec.updateStrategy.minBatteryLevel"},
    ),
    "wifi-for-large": Case(
        None,
        m("wifi-for-large", tier="premium", sizeBytes=60 * MIB, updateStrategy={"networkConstraint": "ANY"}),
        {"rollout.wifi-for-large": "spec.updateStrategy.networkConstraint"},
    ),
    "min-api": Case(
        None,
        m("min-api", targetDevices={"minAPILevel": 25}),
        {"targeting.min-api-level": "spec.targetDevices.minAPILevel"},
    ),
    "min-os-old": Case(
        None,
        m("min-os-old", targetDevices={"minOSVersion": "iOS14"}),
        {"targeting.min-os": "spec.targetDevices.minOSVersion"},
    ),
    "min-os-malformed": Case(
        None,
        m("min-os-malformed", targetDevices={"minOSVersion": "Android12"}),
        {"targeting.min-os": "spec.targetDevices.minOSVersion"},
    ),
    "regions-unknown": Case(
        None,
        m("regions-unknown", targetDevices={"regions": ["US", "FR"]}),
        {"targeting.regions": "spec.targetDevices.regions[1]"},
    ),
    "regions-empty": Case(
        None,
        m("regions-empty", targetDevices={"regions": []}),
        {"targeting.regions": "spec.targetDevices.regions"},
    ),
    "fp32-production": Case(
        None,
        m("fp32-production", inferenceConfig={"quantization": "fp32"}),
        {"targeting.quantization": "spec.inferenceConfig.quantization"},
    ),
    "over-tier-cap": Case(
        None, m("over-tier-cap", tier="lite", sizeBytes=11 * MIB), {"cost.model-size": "spec.sizeBytes"}
    ),
    "threads": Case(
        None,
        m("threads", inferenceConfig={"numThreads": 5}),
        {"cost.threads": "spec.inferenceConfig.numThreads"},
    ),
    "batch": Case(
        None, m("batch", inferenceConfig={"batchSize": 9}), {"cost.threads": "spec.inferenceConfig.batchSize"}
    ),
    "checksum-format": Case(
        None,
        m("checksum-format", checksum="sha256:" + "AB" * 32),
        {"supplychain.checksum-format": "spec.checksum"},
    ),
    "registry": Case(
        None,
        m("registry", modelUri="ftp://models.example.com/a.onnx"),
        {"supplychain.registry": "spec.modelUri"},
    ),
    "registry-traversal": Case(
        None,
        m("registry-traversal", modelUri="file:models/../../etc/a.onnx"),
        # The artifact resolver refuses the path too: it never reads outside the repository.
        {"supplychain.registry": "spec.modelUri", "evidence.failed": "spec.modelUri"},
    ),
    "schema": Case(None, m("schema", tier="gold"), {"schema.invalid": "spec.tier"}),
}


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, str]]:
    repo = GitRepo(tmp_path_factory.mktemp("rules") / "repo")
    texts: dict[str, str] = {}
    for name, case in CASES.items():
        if case.base is not None:
            repo.write(f"models/{name}.yaml", to_yaml(case.base))
    base = repo.commit("base")
    for name, case in CASES.items():
        texts[name] = to_yaml(case.head)
        repo.write(f"models/{name}.yaml", texts[name])
    head = repo.commit("pull request")
    code, decision = repo.decision("--base", base, "--head", head)
    assert code == 1
    return decision, texts


@pytest.mark.parametrize("name", list(CASES))
def test_each_deployment_is_denied_by_exactly_its_rules(
    pull_request: tuple[dict[str, Any], dict[str, str]], name: str
) -> None:
    decision, texts = pull_request
    [subject] = [s for s in decision["subjects"] if s["name"] == name]
    denies = {v["rule"]: v for v in subject["violations"] if v["severity"] == "deny"}
    assert set(denies) == set(CASES[name].denies), subject["violations"]
    assert subject["allowed"] is not CASES[name].denies
    for rule, field in CASES[name].denies.items():
        finding = denies[rule]
        assert finding["field"] == field
        assert finding["file"] == f"models/{name}.yaml"
        leaf = field.rsplit(".", 1)[-1].split("[")[0]
        expected_line = line_of(texts[name], f"{leaf}:")
        if field.endswith("]"):
            index = int(field.rsplit("[", 1)[1][:-1])
            expected_line += index + 1
        assert finding["line"] == expected_line, finding


def test_missing_evidence_warns_at_pre_merge(pull_request: tuple[dict[str, Any], dict[str, str]]) -> None:
    decision, _ = pull_request
    [subject] = [s for s in decision["subjects"] if s["name"] == "ok-version-bump"]
    warned = [v for v in subject["violations"] if v["rule"].startswith("evidence.missing.")]
    assert warned and all(v["severity"] == "warn" for v in warned)


def test_missing_evidence_denies_at_pre_deploy(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(m("a")))
    code, decision = repo.decision("--stage", "pre-deploy")
    assert code == 1
    missing = [v for v in violations(decision) if v["rule"].startswith("evidence.missing.")]
    assert {v["severity"] for v in missing} == {"deny"}
    assert {v["rule"] for v in missing} == {
        f"evidence.missing.{fact}"
        for fact in ("artifact", "signature", "provenance", "model", "latency", "fairness")
    }


def test_thresholds_come_from_config(repo: GitRepo) -> None:
    repo.write(
        "fleetgate.yaml", "policies:\n  data:\n    rollout: {initialMax: 25}\n    cost: {maxThreads: 8}\n"
    )
    repo.commit("gate configuration")
    repo.write(
        "models/a.yaml",
        to_yaml(m("a", updateStrategy={"rolloutPercentage": 25}, inferenceConfig={"numThreads": 6})),
    )
    code, decision = repo.decision()
    assert code == 0, [v for v in violations(decision) if v["severity"] == "deny"]


def test_a_misspelt_threshold_override_is_a_located_error(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "stage: pre-merge\npolicies:\n  data:\n    rollout:\n      intialMax: 50\n")
    repo.commit("a typo in the gate configuration")
    repo.write("models/a.yaml", to_yaml(m("a", updateStrategy={"rolloutPercentage": 50})))
    done = repo.fleetgate("check", "--format", "json")
    assert done.returncode == 2
    assert (
        "fleetgate.yaml:5: policies.data.rollout.intialMax is not a threshold of the policy library"
        in done.stderr
    )
    assert "did you mean 'policies.data.rollout.initialMax'?" in done.stderr


def test_a_threshold_override_of_the_wrong_type_is_a_located_error(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "policies:\n  data:\n    targeting:\n      allowedRegions: US\n")
    repo.commit("a wrong type in the gate configuration")
    repo.write("models/a.yaml", to_yaml(m("a")))
    done = repo.fleetgate("check", "--format", "json")
    assert done.returncode == 2
    assert "fleetgate.yaml:4: policies.data.targeting.allowedRegions is a string" in done.stderr
