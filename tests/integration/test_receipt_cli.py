"""Signed decision receipts end to end: `check --receipt` issues them, `verify-receipt` checks them."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from support import GitRepo, manifest, to_yaml

DIGEST_A = "sha256:" + "ab" * 32
DIGEST_B = "sha256:" + "cd" * 32
MODEL_URI = "s3://apexlogic-models/image-classifier/v3.2.1/model.onnx"
# No evidence collector runs in these tests, so every pre-deploy check is denied by
# evidence.missing.<fact>; waivers for deployment "a" are the real way it gets admitted anyway.
WAIVE_A = "waivers:\n" + "".join(
    f"""  - rule: evidence.missing.{fact}
    target: production/a
    reason: evidence is gathered by the release pipeline, not in this test
    approvedBy: release-manager
    expires: 2099-12-31
"""
    for fact in ("artifact", "signature", "provenance", "model", "latency", "fairness")
)


def key_pair(tmp_path: Path, name: str = "gate.example.com/receipts") -> tuple[Path, str]:
    """A signer key file and its verifier key string, in fleetgate's Ed25519 key formats."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_hash = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4].hex()
    ed25519 = b"\x01"  # the signed-note signature type of Ed25519 keys
    path = tmp_path / f"signer-{key_hash}.key"
    path.write_text(f"PRIVATE+KEY+{name}+{key_hash}+{base64.b64encode(ed25519 + seed).decode()}\n")
    return path, f"{name}+{key_hash}+{base64.b64encode(ed25519 + public).decode()}"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str]:
    return key_pair(tmp_path)


@pytest.fixture
def deployments(repo: GitRepo) -> GitRepo:
    """Deployment "a" (admitted at pre-deploy through a waiver) and "b" (denied), with distinct digests."""
    repo.write("models/a.yaml", to_yaml(manifest("a", modelId="img-a")))
    repo.write("models/b.yaml", to_yaml(manifest("b", modelId="img-b", checksum=DIGEST_B)))
    repo.write("fleetgate-waivers.yaml", WAIVE_A)
    return repo


def issue(repo: GitRepo, signer: Path, receipt: Path, *paths: str) -> int:
    done = repo.fleetgate(
        "check",
        "--no-audit",
        "--stage",
        "pre-deploy",
        "--receipt",
        str(receipt),
        "--receipt-key",
        str(signer),
        *paths,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


def verify(
    repo: GitRepo, receipt: Path, key: str, *extra: str, target: str = "production/a"
) -> subprocess.CompletedProcess[str]:
    """``verify-receipt`` as a deploy step of ``target`` runs it."""
    return repo.fleetgate(
        "verify-receipt", str(receipt), "--key", key, "--target", target, "--stage", "pre-deploy", *extra
    )


def one_line_error(done: subprocess.CompletedProcess[str], needle: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_an_admitted_deployment_gets_a_receipt_that_verifies(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, verifier = keys
    receipt = tmp_path / "a.receipt.json"
    assert issue(deployments, signer, receipt, "models/a.yaml") == 0
    [line] = receipt.read_text().splitlines()
    envelope = json.loads(line)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    assert statement["subject"] == [{"name": MODEL_URI, "digest": {"sha256": "ab" * 32}}]
    assert statement["predicate"]["policy"]["digest"]["sha256"]
    done = verify(deployments, receipt, verifier, "--digest", DIGEST_A)
    assert done.returncode == 0, done.stderr
    shown, waived, digest, manifest_line = done.stdout.splitlines()
    assert shown.startswith(f"PASSED  {DIGEST_A}  {MODEL_URI}  production/a  decision ")
    facts = ("artifact", "fairness", "latency", "model", "provenance", "signature")
    assert waived == "  waived rules     " + ", ".join(f"evidence.missing.{fact}" for fact in facts)
    assert digest == "  artifact digest  only declared by the manifest (the gate did not read the artifact)"
    assert manifest_line.startswith("  manifest         not compared")


def test_a_denied_deployment_gets_a_failed_receipt_and_verify_exits_1(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, verifier = keys
    receipt = tmp_path / "b.receipt.json"
    assert issue(deployments, signer, receipt, "models/b.yaml") == 1
    done = verify(deployments, receipt, verifier, "--digest", DIGEST_B, target="production/b")
    # Authentic, but the gate said no: the deployment must not go ahead (exit 1, as `check` does).
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"FAILED  {DIGEST_B}  {MODEL_URI}  production/b  ")
    assert done.stderr == ""


def test_several_deployments_get_one_envelope_per_line(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, verifier = keys
    receipt = tmp_path / "all.receipts.jsonl"
    assert issue(deployments, signer, receipt, "models") == 1
    lines = receipt.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["signatures"] for line in lines)
    assert verify(deployments, receipt, verifier, "--digest", DIGEST_A).returncode == 0
    assert verify(deployments, receipt, verifier, "--digest", DIGEST_B, target="production/b").returncode == 1
    assert verify(deployments, receipt, verifier, target="production/b").returncode == 1
    # Each deployment's receipt speaks for that deployment only.
    one_line_error(verify(deployments, receipt, verifier, "--digest", DIGEST_B), "no receipt")
    one_line_error(verify(deployments, receipt, verifier, "--digest", "sha256:" + "ef" * 32), "no receipt")


def test_a_tampered_receipt_or_the_wrong_key_exits_2(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, verifier = keys
    receipt = tmp_path / "b.receipt.json"
    issue(deployments, signer, receipt, "models/b.yaml")
    envelope = json.loads(receipt.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verificationResult"] = "PASSED"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(envelope) + "\n")
    one_line_error(verify(deployments, forged, verifier, target="production/b"), "no signature")
    _, stranger = key_pair(tmp_path, "someone.else/receipts")
    one_line_error(verify(deployments, receipt, stranger, target="production/b"), "no signature")
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"payloadType": "application/vnd.in-toto+json", "payload": "%%%", "signatures": []}')
    one_line_error(verify(deployments, garbage, verifier), "receipt 1")
    one_line_error(verify(deployments, tmp_path / "missing.json", verifier), "cannot read")


def test_the_verifier_key_can_be_a_file(deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path) -> None:
    signer, verifier = keys
    receipt = tmp_path / "a.receipt.json"
    issue(deployments, signer, receipt, "models/a.yaml")
    key_file = tmp_path / "verifier.pub"
    key_file.write_text(verifier + "\n")
    assert verify(deployments, receipt, str(key_file)).returncode == 0


def test_receipts_are_only_issued_at_pre_deploy(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, _ = keys
    receipt = tmp_path / "r.json"
    done = deployments.fleetgate(
        "check",
        "--no-audit",
        "--stage",
        "pre-merge",
        "--receipt",
        str(receipt),
        "--receipt-key",
        str(signer),
        "models",
    )
    one_line_error(done, "pre-deploy")
    assert not receipt.exists()


def test_a_key_made_by_audit_keygen_signs_receipts(deployments: GitRepo, tmp_path: Path) -> None:
    """The gate's one Ed25519 key format serves checkpoints and receipts alike."""
    signer = tmp_path / "gate.key"
    made = deployments.fleetgate(
        "audit",
        "--log",
        f"sqlite:///{tmp_path / 'audit.db'}",
        "keygen",
        "gate.example.com",
        "--out",
        str(signer),
    )
    assert made.returncode == 0, made.stderr
    receipt = tmp_path / "a.receipt.json"
    assert issue(deployments, signer, receipt, "models/a.yaml") == 0
    assert verify(deployments, receipt, made.stdout.strip(), "--digest", DIGEST_A).returncode == 0


def test_a_receipt_for_ten_percent_cannot_authorize_the_deploy_of_a_hundred(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, verifier = keys
    receipt = tmp_path / "a.receipt.json"
    assert issue(deployments, signer, receipt, "models/a.yaml") == 0  # rolloutPercentage 10
    manifest_file = str(deployments.root / "models/a.yaml")
    done = verify(deployments, receipt, verifier, "--manifest", manifest_file)
    assert done.returncode == 0, done.stderr
    assert f"  manifest         {manifest_file} is the document the receipts were issued for" in done.stdout
    deployments.write(
        "models/a.yaml", to_yaml(manifest("a", modelId="img-a", updateStrategy={"rolloutPercentage": 100}))
    )
    one_line_error(verify(deployments, receipt, verifier, "--manifest", manifest_file), "another manifest")
    one_line_error(
        verify(deployments, receipt, verifier, target="staging/a"), "no receipt is about staging/a"
    )
    one_line_error(verify(deployments, receipt, verifier, "--require-measured"), "did not measure")


def test_key_mistakes_get_clear_messages(
    deployments: GitRepo, keys: tuple[Path, str], tmp_path: Path
) -> None:
    signer, _ = keys
    done = deployments.fleetgate(
        "check", "--no-audit", "--stage", "pre-deploy", "--receipt", str(tmp_path / "r.json"), "models"
    )
    one_line_error(done, "--receipt-key")
    receipt = tmp_path / "a.receipt.json"
    issue(deployments, signer, receipt, "models/a.yaml")
    mistaken = verify(deployments, receipt, str(signer))
    one_line_error(mistaken, "this is a private signer key; give its verifier key instead")
    assert "PRIVATE" not in mistaken.stderr.replace("private", "")
