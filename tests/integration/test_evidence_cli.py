"""A correct release end to end in child processes: decision summary, audit facts, cache, light runs.

The pull request adds a fully evidenced release (signed, recorded, int8, timed, evaluated);
``fleetgate check`` admits it, the decision summarizes the evidence, the decision log keeps
every fact, and a second check is served from the evidence cache. A manifest-only pre-commit
run never imports the heavy evidence libraries.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from support import GIT_ENV, GitRepo, manifest, to_yaml
from support_release import (
    IDENTITY,
    TRUST_FILE,
    Published,
    ReleaseKit,
    digest_of,
    int8_classifier,
    serialized,
)

FACTS = ["artifact", "fairness", "latency", "model", "provenance", "signature"]
HEAVY = [
    "ai_edge_litert", "coremltools", "fairlearn", "in_toto", "jsonschema", "model_signing", "onnx",
    "onnxruntime", "pandas", "sigstore",
]  # fmt: skip


class Checked:
    """Two identical checks of one pull request, each run as a user would (a child process)."""

    def __init__(self, repo: GitRepo, release: Published, base: str, head: str) -> None:
        self.repo, self.release = repo, release
        self.runs = [
            repo.fleetgate("check", "--base", base, "--head", head, "--format", "json") for _ in range(2)
        ]

    def decision(self, run: int) -> dict[str, Any]:
        done = self.runs[run]
        assert done.returncode == 0, done.stdout + done.stderr
        document: dict[str, Any] = json.loads(done.stdout)
        return document

    def recorded_facts(self, run: int) -> dict[str, Any]:
        """The full facts the decision log holds for run ``run``, read back through ``audit show``."""
        gate_id = self.decision(run)["decision_id"]
        query = self.repo.fleetgate(
            "audit", "query", "--artifact-digest", self.release.digest, "--format", "json"
        )
        assert query.returncode == 0, query.stderr
        [record] = [r for r in map(json.loads, query.stdout.splitlines()) if r["gate_decision_id"] == gate_id]
        shown = self.repo.fleetgate("audit", "show", record["decision_id"], "--format", "json")
        assert shown.returncode == 0, shown.stderr
        facts: dict[str, Any] = json.loads(shown.stdout)["input"]["facts"]
        return facts


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    work = tmp_path_factory.mktemp("evidence")
    repo = GitRepo(work / "repo")
    kit = ReleaseKit(repo, work / "pipelines")
    base = repo.commit("trust material, evaluation set and gate configuration")
    release = kit.publish(
        "image-classifier-v3", serialized(int8_classifier()), inferenceConfig={"quantization": "int8"}
    )
    head = repo.commit("release image-classifier-v3")
    return Checked(repo, release, base, head)


def test_the_release_is_admitted_and_the_decision_summarizes_its_evidence(checked: Checked) -> None:
    decision = checked.decision(0)
    assert decision["decision"] == "admit"
    [subject] = decision["subjects"]
    assert (subject["file"], subject["change"], subject["violations"]) == (
        checked.release.manifest_path,
        "added",
        [],
    )
    evidence = subject["evidence"]
    latency = evidence.pop("latency_p50_ms")
    assert isinstance(latency, float) and latency > 0
    trust_file = checked.repo.root / TRUST_FILE
    assert evidence == {
        "artifact": checked.release.digest,
        "signature": "verified",
        "signer": IDENTITY,
        "provenance": "verified",
        "trust_config": digest_of(trust_file.read_bytes()),
        "trusted_root": digest_of((trust_file.parent / "roots" / "trusted_root.json").read_bytes()),
        "quantization": "int8",
        "fairness": "measured",
        # How each fact was obtained: the latency was timed here, on the CI machine.
        "classes": {
            "artifact": "derived",
            "signature": "derived",
            "provenance": "derived",
            "model": "derived",
            "latency": "observed",
            "fairness": "observed",
        },
    }


def test_the_decision_log_keeps_every_fact(checked: Checked) -> None:
    facts = checked.recorded_facts(0)
    assert sorted(facts) == FACTS
    digest = checked.release.digest
    assert facts["artifact"]["digest"] == digest and facts["artifact"]["path"] == checked.release.model_path
    signature = facts["signature"]
    assert (signature["status"], signature["format"], signature["method"]) == (
        "verified",
        "model-signing",
        "keyless",
    )
    assert signature["signer"] == IDENTITY and signature["trusted_root"].startswith("sha256:")
    provenance = facts["provenance"]
    assert provenance["status"] == "verified" and provenance["product_digest"] == digest
    assert provenance["steps"] == ["train", "quantize", "evaluate"]
    model = facts["model"]
    assert model["quantization"] == "int8" and model["runtime"]["unsupported"] == []
    assert facts["latency"]["p50_ms"] > 0 and model["peak_memory_mb"] == facts["latency"]["peak_memory_mb"]
    fairness = facts["fairness"]
    assert fairness["rows"] == 400 and fairness["demographic_parity_difference"] <= 0.1
    assert sorted(g["group"]["gender"] for g in fairness["groups"]) == ["F", "M"]


def test_a_second_check_is_served_from_the_evidence_cache(checked: Checked) -> None:
    first, second = checked.runs
    # The collectors print a summary line when they measure, and nothing when the cache answers.
    for measured in (
        "fleetgate: latency models/image-classifier-v3/model.onnx: p50",
        "fleetgate: fairness data/",
    ):
        assert measured in first.stderr
        assert measured not in second.stderr, second.stderr
    assert checked.decision(1)["decision_id"] != checked.decision(0)["decision_id"]
    assert checked.recorded_facts(1) == checked.recorded_facts(0)
    cache = checked.repo.root / ".git" / "fleetgate-cache" / "facts"
    assert sorted(p.name for p in cache.iterdir()) == ["fairness", "latency", "model"]


def test_the_pre_deploy_stage_measures_afresh_instead_of_reading_the_cache(checked: Checked) -> None:
    head = checked.decision(0)["context"]["head_commit"]
    base = checked.decision(0)["context"]["base_commit"]
    again = checked.repo.fleetgate("check", "--base", base, "--head", head, "--stage", "pre-deploy")
    assert "fleetgate: latency models/image-classifier-v3/model.onnx: p50" in again.stderr
    assert "fleetgate: fairness data/" in again.stderr


def test_a_manifest_only_pre_commit_check_imports_no_evidence_library(
    checked: Checked, repo: GitRepo, tmp_path: Path
) -> None:
    # The same gate configuration and trust file as the release repository: evidence is on.
    shutil.copytree(checked.repo.root / "attestations", repo.root / "attestations")
    shutil.copyfile(checked.repo.root / "fleetgate.yaml", repo.root / "fleetgate.yaml")
    repo.write("models/img.yaml", to_yaml(manifest()))  # modelUri is s3://..., not reachable here
    repo.commit("base")
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 25})))
    repo.git("add", "models/img.yaml")
    report = tmp_path / "decision.json"
    program = textwrap.dedent(
        f"""
        import json, sys
        from fleetgate.cli import main
        status = main(["check", "--staged", "--format", "json", "--output", {str(report)!r}, "--quiet"])
        heavy = {HEAVY!r}
        print(json.dumps({{"status": status, "loaded": [m for m in heavy if m in sys.modules]}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=repo.root,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome == {"status": 0, "loaded": []}
    [subject] = json.loads(report.read_text())["subjects"]
    assert (subject["name"], subject["change"], subject["evidence"]) == (
        "image-classifier-v3",
        "modified",
        {},
    )
