"""Gate integrity with real evidence: trust material and bundles come from where they should.

A change may not trust its own signing identity or root, and replacing a signature bundle with the
manifest untouched still gets the deployment judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from support import GitRepo
from support_release import (
    DATASET,
    TRUST_FILE,
    ReleaseKit,
    by_name,
    denied_rules,
    int8_classifier,
    run_cli,
    serialized,
)
from support_sigstore import PrivateSigstore

INT8: dict[str, Any] = {"inferenceConfig": {"quantization": "int8"}}
FAIRNESS = ("--format", "json", "--evidence", "artifact,fairness", "--no-audit")
SIGNATURE_ONLY = ("--format", "json", "--evidence", "artifact,signature", "--no-audit")


def test_a_change_that_trusts_its_own_root_and_identity_is_denied(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    kit = ReleaseKit(repo, tmp_path / "work")
    model = serialized(int8_classifier())
    kit.publish("good", model, **INT8)
    base = repo.commit("a release signed by the release identity")
    # The change swaps in its own sigstore root, trusts its own identity, and signs with both.
    attacker = PrivateSigstore(tmp_path / "attacker", name="attacker")
    repo.write("attestations/roots/trusted_root.json", attacker.trusted_root_path.read_bytes())
    trust = yaml.safe_load((repo.root / TRUST_FILE).read_text())
    trust["signature"]["identities"]["anyOf"].append(
        {"identity": "mallory@example.com", "issuer": "https://issuer.example.com"}
    )
    repo.write(TRUST_FILE, yaml.safe_dump(trust, sort_keys=False))
    kit.sigstore = attacker
    kit.publish("evil", serialized(int8_classifier((4.0, 2.0, 0.0))), signer="mallory@example.com", **INT8)
    repo.commit("trust myself")
    ran = run_cli(repo.root, "check", "--base", base, "--head", "HEAD", *SIGNATURE_ONLY)
    assert ran.code == 1, ran.stderr
    subjects = by_name(ran.decision())
    assert "supplychain.signature" in denied_rules(subjects["evil"])
    gate_files = {v["file"] for v in subjects["gate-configuration"]["violations"]}
    assert gate_files == {TRUST_FILE, "attestations/roots/trusted_root.json"}
    assert denied_rules(subjects["good"]) == []  # re-evaluated under the base trust: still fine


def test_a_replaced_signature_bundle_gets_its_deployment_judged(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    kit = ReleaseKit(repo, tmp_path / "work")
    published = kit.publish("good", serialized(int8_classifier()), **INT8)
    base = repo.commit("release")
    # A bundle signed by another identity replaces the good one; the manifest is untouched.
    kit._sign(repo.root / published.model_path, "mallory@example.com")
    assert repo.git("status", "--porcelain") == f"M {published.model_path}.sig"
    repo.commit("replace the bundle")
    ran = run_cli(repo.root, "check", "--base", base, "--head", "HEAD", *SIGNATURE_ONLY)
    assert ran.code == 1, ran.stderr
    good = by_name(ran.decision())["good"]
    assert good["reasons"] == [f"signature bundle {published.model_path}.sig changed"]
    assert "supplychain.signature" in denied_rules(good)


def test_a_change_cannot_rewrite_the_dataset_it_is_measured_on(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    kit = ReleaseKit(repo, tmp_path / "work")
    kit.publish("vision", serialized(int8_classifier()), **INT8)
    base = repo.commit("a fair model and its evaluation set")
    # The change ships a model that disfavours group F through the proxy column x3, and rewrites
    # the evaluation set so that x3 carries no signal: measured on it, the model looks fair.
    kit.publish("vision", serialized(int8_classifier(uses_group=1.0)), version="3.3.0", **INT8)
    rows = (repo.root / DATASET).read_text().splitlines()
    header = rows[0].split(",")
    column = header.index("x3")
    rewritten = [rows[0]] + [
        ",".join("0.0" if i == column else v for i, v in enumerate(r.split(","))) for r in rows[1:]
    ]
    repo.write(DATASET, "\n".join(rewritten) + "\n")
    repo.commit("biased model, laundered dataset")
    ran = run_cli(repo.root, "check", "--base", base, "--head", "HEAD", *FAIRNESS)
    assert ran.code == 1, ran.stderr
    subjects = by_name(ran.decision())
    assert "responsible.demographic-parity" in denied_rules(subjects["vision"])
    [changed] = [v for v in subjects["gate-configuration"]["violations"] if v["file"] == DATASET]
    assert changed["severity"] == "deny"
