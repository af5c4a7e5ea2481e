"""Model, latency and fairness evidence through the CLI, on real ONNX models and real git history.

A release repository holds a correct int8 release and one release per rule to break; one
``fleetgate check`` judges them all (each rule denies its release and admits the correct one).
A pull request history then replaces models, so the base artifact is timed and evaluated in
the same run: a slower model and a less accurate one are denied, their reverse admitted.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

import support_onnx
from support import GitRepo, line_of, manifest, to_yaml
from support_fairness import biased_dataset
from support_release import (
    EVIDENCE,
    Published,
    ReleaseKit,
    by_name,
    denied_rules,
    digest_of,
    int8_classifier,
    run_cli,
    serialized,
    warned_rules,
)

INT8: dict[str, Any] = {"inferenceConfig": {"quantization": "int8"}}
SMALL_GROUPS_CSV = "data/small-groups.csv"
SMALL_GROUPS = {"dataset": SMALL_GROUPS_CSV, "label": "label", "sensitiveFeatures": ["gender"]}
# The budget the tight config allows the standard tier: below any real inference time.
TIGHT_BUDGET_MS = 0.001


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, Published]]:
    work = tmp_path_factory.mktemp("model-evidence")
    repo = GitRepo(work / "repo")
    kit = ReleaseKit(repo, work / "pipelines")
    model = serialized(int8_classifier())
    float_twin = support_onnx.linear_classifier([4.0, 4.0, 0.0])  # same predictions, fp32 storage
    biased_dataset(repo.root / SMALL_GROUPS_CSV, rows=40)  # 20 rows per group
    published = {
        "good": kit.publish("good", model, **INT8),
        "fp32": kit.publish("fp32", serialized(float_twin), **INT8),
        "custom-op": kit.publish(
            "custom-op",
            serialized(support_onnx.custom_op()),
            namespace="research",
            evaluation=None,
            inferenceConfig={"quantization": "fp32"},
        ),
        "small-device": kit.publish("small-device", model, targetDevices={"minMemoryMB": 128}, **INT8),
        "biased": kit.publish("biased", serialized(int8_classifier(uses_group=1.0)), **INT8),
        "small-groups": kit.publish("small-groups", model, evaluation=SMALL_GROUPS, **INT8),
    }
    kit.write_config("tight.yaml", data={"cost": {"inferenceBudgetMs": {"standard": TIGHT_BUDGET_MS}}})
    repo.commit("releases")
    return repo, published


@pytest.fixture(scope="module")
def decision(releases: tuple[GitRepo, dict[str, Published]]) -> dict[str, Any]:
    repo, _ = releases
    ran = run_cli(repo.root, "check", ".", "--format", "json", "--no-audit")
    assert ran.code == 1, ran.stderr
    return ran.decision()


def finding(subject: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(v for v in subject["violations"] if v["rule"] == rule)


def test_the_correct_release_is_admitted_with_every_fact(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    good = by_name(decision)["good"]
    assert good["allowed"] is True and good["violations"] == []
    evidence = good["evidence"]
    assert evidence["artifact"] == releases[1]["good"].digest
    assert (evidence["signature"], evidence["provenance"]) == ("verified", "verified")
    assert (evidence["quantization"], evidence["fairness"]) == ("int8", "measured")
    assert isinstance(evidence["latency_p50_ms"], float) and evidence["latency_p50_ms"] > 0


def test_declared_int8_with_a_float_model_is_denied(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    subject = by_name(decision)["fp32"]
    assert denied_rules(subject) == ["targeting.quantization"]
    found = finding(subject, "targeting.quantization")
    assert found["field"] == "spec.inferenceConfig.quantization"
    assert found["line"] == line_of(releases[1]["fp32"].text, "quantization:")
    assert found["message"].startswith(
        "inferenceConfig.quantization declares int8 but the model artifact is fp32"
    )
    assert subject["evidence"]["quantization"] == "fp32"


def test_an_operator_the_runtime_lacks_is_denied(decision: dict[str, Any]) -> None:
    subject = by_name(decision)["custom-op"]
    # onnxruntime cannot load the model to time it either: that is a failed fact, never a pass.
    assert denied_rules(subject) == ["evidence.failed", "targeting.runtime-ops"]
    message = finding(subject, "targeting.runtime-ops")["message"]
    assert message.startswith(
        "the model uses operator FancyOp (domain com.example, opset 1), which onnxruntime"
    )
    assert "com.example:FancyOp" in finding(subject, "evidence.failed")["message"]
    assert warned_rules(subject) == ["evidence.missing.fairness"]  # no evaluation block: no fairness fact


def test_a_model_too_large_for_the_devices_memory_is_denied(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    subject = by_name(decision)["small-device"]
    assert denied_rules(subject) == ["targeting.memory-headroom"]
    found = finding(subject, "targeting.memory-headroom")
    assert found["line"] == line_of(releases[1]["small-device"].text, "minMemoryMB:")
    assert "above 0.25 of minMemoryMB 128 (32 MB)" in found["message"]


def test_a_biased_model_fails_parity_and_equalized_odds(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    subject = by_name(decision)["biased"]
    assert denied_rules(subject) == ["responsible.demographic-parity", "responsible.equalized-odds"]
    parity = finding(subject, "responsible.demographic-parity")
    assert parity["field"] == "spec.evaluation.sensitiveFeatures"
    assert parity["line"] == line_of(releases[1]["biased"].text, "sensitiveFeatures:")
    assert "gender=F" in parity["message"] and "above the maximum 0.1" in parity["message"]
    assert "above the maximum 0.1" in finding(subject, "responsible.equalized-odds")["message"]


def test_a_group_too_small_to_judge_is_insufficient_evidence(decision: dict[str, Any]) -> None:
    subject = by_name(decision)["small-groups"]
    assert set(denied_rules(subject)) == {"responsible.insufficient-data"}
    messages = [v["message"] for v in subject["violations"]]
    for group in ("gender=F", "gender=M"):
        assert f"group {group} has 20 rows in the evaluation set, fewer than the minimum 30" in messages
    # Too little data is not judged: no parity finding either way, and the summary says why.
    assert subject["evidence"]["fairness"] == "insufficient"


def test_a_tiny_inference_budget_denies_the_correct_release(
    releases: tuple[GitRepo, dict[str, Published]],
) -> None:
    repo, published = releases
    args = ("check", "models/good.yaml", "--format", "json", "--no-audit", "--config", "tight.yaml")
    ran = run_cli(repo.root, *args)
    assert ran.code == 1, ran.stderr
    [subject] = ran.decision()["subjects"]
    assert denied_rules(subject) == ["cost.inference-budget"]
    found = finding(subject, "cost.inference-budget")
    assert found["line"] == line_of(published["good"].text, "inferenceConfig:")
    assert f"above the {TIGHT_BUDGET_MS} ms budget of tier standard" in found["message"]


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, list[str], dict[str, Published]]:
    """main holds v1 of four deployments and every v2 model; two commits then switch manifests.

    The first commit swaps a small model for a large one (and back, for another deployment),
    the second a good classifier for a worse one (and back). Both versions stay in the
    worktree, as when a release publishes the new model beside the old one.
    """
    work = tmp_path_factory.mktemp("pull-request")
    repo = GitRepo(work / "repo")
    kit = ReleaseKit(repo, work / "pipelines")
    small = good = serialized(int8_classifier())  # the small model is the good classifier
    large = serialized(support_onnx.cnn(channels=64))
    worse = serialized(int8_classifier((4.0, 0.0, 0.0)))  # ignores x2: about 0.75 accuracy
    timed: dict[str, Any] = {"namespace": "research", "evaluation": None}
    versions = {
        "slower": [(small, "int8"), (large, "fp32")],
        "faster": [(large, "fp32"), (small, "int8")],
        "less-accurate": [(good, "int8"), (worse, "int8")],
        "more-accurate": [(worse, "int8"), (good, "int8")],
    }
    published: dict[str, Published] = {}
    for name, [(old, old_q), (new, new_q)] in versions.items():
        extra: dict[str, Any] = timed if name in ("slower", "faster") else {}
        where: dict[str, Any] = {"manifest_path": f"models/{name}.yaml"}
        published[f"{name}-v2"] = kit.publish(
            name, new, folder=f"models/{name}/v2", **where, inferenceConfig={"quantization": new_q}, **extra
        )
        published[name] = kit.publish(
            name, old, folder=f"models/{name}/v1", **where, inferenceConfig={"quantization": old_q}, **extra
        )
    commits = [repo.commit("v1 of every deployment, v2 models published")]
    for step in (("slower", "faster"), ("less-accurate", "more-accurate")):
        for name in step:
            repo.write(f"models/{name}.yaml", published[f"{name}-v2"].text)
        commits.append(repo.commit(f"switch {' and '.join(step)} to v2"))
    return repo, commits, published


def audit_facts(repo: GitRepo, name: str) -> dict[str, Any]:
    """The facts the audit log recorded for the newest decision about deployment ``name``."""
    ran = run_cli(repo.root, "audit", "query", "--format", "json")
    assert ran.code == 0, ran.stderr
    records = [json.loads(line) for line in ran.stdout.splitlines()]
    record = next(r for r in records if r["name"] == name)
    facts: dict[str, Any] = record["input"]["facts"]
    return facts


def test_a_much_slower_replacement_is_a_latency_regression(
    pull_request: tuple[GitRepo, list[str], dict[str, Published]],
) -> None:
    repo, commits, published = pull_request
    ran = run_cli(repo.root, "check", "--base", commits[0], "--head", commits[1], "--format", "json")
    assert ran.code == 1, ran.stderr
    subjects = by_name(ran.decision())
    assert sorted(subjects) == ["faster", "slower"]
    slower, faster = subjects["slower"], subjects["faster"]
    assert (slower["change"], faster["change"]) == ("modified", "modified")
    assert denied_rules(slower) == ["cost.latency-regression"]
    found = finding(slower, "cost.latency-regression")
    assert found["line"] == line_of(published["slower-v2"].text, "modelUri:")
    assert "times the previous artifact's" in found["message"] and "timed in the same run" in found["message"]
    assert faster["allowed"] is True and denied_rules(faster) == []
    # Both were compared with their base artifact, timed in this run.
    for name, old in (("slower", "slower"), ("faster", "faster")):
        latency = audit_facts(repo, name)["latency"]
        assert latency["base"]["digest"] == published[old].digest
    assert (
        audit_facts(repo, "faster")["latency"]["base"]["p50_ms"]
        > audit_facts(repo, "faster")["latency"]["p50_ms"]
    )


def test_a_less_accurate_replacement_is_an_accuracy_drop(
    pull_request: tuple[GitRepo, list[str], dict[str, Published]],
) -> None:
    repo, commits, published = pull_request
    # Latency is left out: two same-sized models differ by noise, and that is not this test's rule.
    args = ("--evidence", "artifact,signature,provenance,model,fairness", "--format", "json")
    ran = run_cli(repo.root, "check", "--base", commits[1], "--head", commits[2], *args)
    assert ran.code == 1, ran.stderr
    subjects = by_name(ran.decision())
    assert sorted(subjects) == ["less-accurate", "more-accurate"]
    less, more = subjects["less-accurate"], subjects["more-accurate"]
    assert denied_rules(less) == ["responsible.accuracy-drop"]
    found = finding(less, "responsible.accuracy-drop")
    assert (found["field"], found["line"]) == (
        "spec.evaluation",
        line_of(published["less-accurate-v2"].text, "evaluation:"),
    )
    fairness = audit_facts(repo, "less-accurate")["fairness"]
    assert fairness["base"]["digest"] == published["less-accurate"].digest
    # The engine may print 0.935 as 0.9350000000000001: compare the numbers, not their spelling.
    shown = re.search(
        r"fell from ([0-9.]+) to ([0-9.]+), more than the allowed drop of 0.01", found["message"]
    )
    assert shown is not None, found["message"]
    assert [float(n) for n in shown.groups()] == pytest.approx(
        [fairness["base"]["accuracy"], fairness["accuracy"]]
    )
    assert fairness["base"]["accuracy"] - fairness["accuracy"] > 0.1
    assert more["allowed"] is True and denied_rules(more) == []
    improved = audit_facts(repo, "more-accurate")["fairness"]
    assert improved["accuracy"] > improved["base"]["accuracy"]


def _fp32_declared_int8(repo: GitRepo) -> str:
    """A production deployment that declares int8 for an fp32 model; returns the head commit."""
    data = serialized(support_onnx.linear_classifier([4.0, 4.0, 0.0]))
    repo.write("models/m.onnx", data)
    spec = {"modelUri": "file:models/m.onnx", "checksum": digest_of(data), "sizeBytes": len(data)}
    repo.write("models/m.yaml", to_yaml(manifest("m", **spec, **INT8)))
    return repo.commit("an fp32 model declared int8")


def test_planted_cache_entries_cannot_turn_fp32_into_int8(repo: GitRepo) -> None:
    base = repo.commit("empty main")
    head = _fp32_declared_int8(repo)
    args = ("check", "--base", base, "--head", head, "--evidence", "artifact,model", "--format", "json")
    first = run_cli(repo.root, *args, "--no-audit")
    assert first.code == 1 and "targeting.quantization" in denied_rules(first.decision()["subjects"][0])
    # Someone who can write the cache folder rewrites the measured fact, keeping its MAC, and
    # adds an unauthenticated entry in the old format beside it.
    [entry] = (repo.root / ".git" / "fleetgate-cache" / "facts" / "model").iterdir()
    mac, _, body = entry.read_text().partition("\n")
    forged = {**json.loads(body), "quantization": "int8"}
    entry.write_text(f"{mac}\n{json.dumps(forged, sort_keys=True, separators=(',', ':'))}")
    (entry.parent / ("0" * 64 + ".json")).write_text(json.dumps(forged))
    again = run_cli(repo.root, *args, "--no-audit")
    assert again.code == 1, again.stderr
    assert "targeting.quantization" in denied_rules(again.decision()["subjects"][0])


def test_a_cache_folder_inside_the_work_tree_is_refused(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "evidence:\n  cache: .fleetgate-cache\n")
    base = repo.commit("a cache folder a pull request could write")
    head = _fp32_declared_int8(repo)
    ran = run_cli(repo.root, "check", "--base", base, "--head", head, "--evidence", "artifact,model")
    assert ran.code == 2
    assert "evidence.cache" in ran.stderr and "inside the repository's work tree" in ran.stderr


def test_a_symlinked_artifact_folder_keeps_the_latency_comparison(repo: GitRepo) -> None:
    """The base version is found through the base commit's own link, not the head's re-pointed one."""
    small, large = serialized(int8_classifier()), serialized(support_onnx.cnn(channels=64))
    repo.write("fleetgate.yaml", yaml.safe_dump({"evidence": EVIDENCE}))
    repo.write("models/v1/model.onnx", small)
    repo.write("models/v2/model.onnx", large)
    link = repo.root / "models" / "current"
    uri = "file:models/current/model.onnx"

    def deploy(data: bytes, quantization: str) -> None:
        spec = {"modelUri": uri, "checksum": digest_of(data), "sizeBytes": None}
        doc = manifest("linked", "research", **spec, inferenceConfig={"quantization": quantization})
        repo.write("models/linked.yaml", to_yaml(doc))

    link.symlink_to("v1")
    deploy(small, "int8")
    base = repo.commit("current is v1")
    link.unlink()
    link.symlink_to("v2")
    deploy(large, "fp32")
    head = repo.commit("current is v2, a much slower model")
    args = ("--evidence", "artifact,latency", "--format", "json", "--no-audit")
    ran = run_cli(repo.root, "check", "--base", base, "--head", head, *args)
    assert ran.code == 1, ran.stderr
    [subject] = ran.decision()["subjects"]
    assert "cost.latency-regression" in denied_rules(subject), subject["violations"]


def test_a_previous_artifact_missing_from_the_base_fails_the_comparison(repo: GitRepo) -> None:
    model = serialized(int8_classifier())
    repo.write("fleetgate.yaml", yaml.safe_dump({"evidence": EVIDENCE}))
    old = {"modelUri": "file:models/old.onnx", "sizeBytes": None, **INT8}
    repo.write("models/m.yaml", to_yaml(manifest("m", "research", **old)))
    base = repo.commit("a base whose artifact was never committed")
    repo.write("models/new.onnx", model)
    new = {"modelUri": "file:models/new.onnx", "checksum": digest_of(model), "sizeBytes": None, **INT8}
    repo.write("models/m.yaml", to_yaml(manifest("m", "research", **new)))
    head = repo.commit("a new artifact")
    args = ("--evidence", "artifact,latency", "--format", "json", "--no-audit")
    ran = run_cli(repo.root, "check", "--base", base, "--head", head, *args)
    assert ran.code == 1, ran.stderr
    [subject] = ran.decision()["subjects"]
    [failed] = [v for v in subject["violations"] if v["rule"] == "evidence.failed"]
    assert failed["message"].startswith("cost.latency-regression cannot compare with the previous artifact")
    assert "models/old.onnx is not in the base commit" in failed["message"]
