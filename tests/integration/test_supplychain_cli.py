"""Supply-chain evidence through the CLI: checksum, signature, provenance, missing and failed evidence.

One repository holds a correct release and one release per broken link of the chain; a single
``fleetgate check`` judges them all, so each rule is shown to deny the broken release and to
admit the correct one in the same run. ``fleetgate verify`` proves (or refuses) one file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from fleetgate.evidence._multifile import file_set_digest
from fleetgate.evidence.interface import ArtifactFile

import support_onnx
from support import GitRepo, line_of, manifest, to_yaml
from support_release import (
    TRUST_FILE,
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
from support_sigstore import write_private_key, write_public_key

# The facts this module needs: timing and fairness are the model module's business.
SUPPLY_CHAIN = "artifact,signature,provenance,model"
INT8: dict[str, Any] = {"inferenceConfig": {"quantization": "int8"}}


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, Published]]:
    work = tmp_path_factory.mktemp("supplychain")
    repo = GitRepo(work / "repo")
    kit = ReleaseKit(repo, work / "pipelines")
    model = serialized(int8_classifier())
    published = {
        "good": kit.publish("good", model, **INT8),
        "checksum": kit.publish("checksum", model, checksum="sha256:" + "0" * 64, **INT8),
        "tampered": kit.publish("tampered", model, tamper=True, **INT8),
        "stranger": kit.publish("stranger", model, signer="mallory@example.com", **INT8),
        # The pipeline recorded another model; the trusted signer signed the swapped one.
        "swapped": kit.publish(
            "swapped", model, recorded=serialized(int8_classifier((4.0, 2.0, 0.0))), **INT8
        ),
        "unsigned": kit.publish("unsigned", model, signed=False, **INT8),
        "hostile": _hostile(kit, work / "hostile"),
    }
    repo.commit("releases")
    return repo, published


def _hostile(kit: ReleaseKit, scratch: Path) -> Published:
    """A signed, recorded model whose external weights sit outside its folder (``../``)."""
    path = support_onnx.save_external(support_onnx.mlp(inputs=3, classes=1), scratch / "model.onnx")
    support_onnx.set_external_location(path, "../hostile-weights.bin")
    weights = {"models/hostile-weights.bin": (scratch / "weights.bin").read_bytes()}
    return kit.publish("hostile", path.read_bytes(), files=weights, evaluation=None, **INT8)


@pytest.fixture(scope="module")
def decision(releases: tuple[GitRepo, dict[str, Published]]) -> dict[str, Any]:
    repo, _ = releases
    ran = run_cli(repo.root, "check", ".", "--format", "json", "--evidence", SUPPLY_CHAIN, "--no-audit")
    assert ran.code == 1, ran.stderr
    return ran.decision()


def finding(subject: dict[str, Any], rule: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [v for v in subject["violations"] if v["rule"] == rule]
    assert len(found) == 1, found
    return found[0]


def test_the_correct_release_is_admitted_with_verified_evidence(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    good = by_name(decision)["good"]
    assert good["allowed"] is True and denied_rules(good) == []
    # Only the facts this run was told not to gather are missing, and only as warnings.
    assert warned_rules(good) == ["evidence.missing.fairness", "evidence.missing.latency"]
    assert all("latency" in v["message"] or "fairness" in v["message"] for v in good["violations"])
    trust_file = releases[0].root / TRUST_FILE
    assert good["evidence"] == {
        "artifact": releases[1]["good"].digest,
        "signature": "verified",
        "provenance": "verified",
        "signer": "release@example.com",
        "trust_config": digest_of(trust_file.read_bytes()),
        "trusted_root": digest_of((trust_file.parent / "roots" / "trusted_root.json").read_bytes()),
        "quantization": "int8",
        "classes": dict.fromkeys(("artifact", "signature", "provenance", "model"), "derived"),
    }


def test_a_checksum_that_is_not_the_artifacts_digest_is_denied(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    published = releases[1]["checksum"]
    subject = by_name(decision)["checksum"]
    assert denied_rules(subject) == ["supplychain.checksum-match"]
    found = finding(subject, "supplychain.checksum-match")
    assert (found["file"], found["field"]) == ("models/checksum.yaml", "spec.checksum")
    assert found["line"] == line_of(published.text, "checksum:")
    assert published.digest in found["message"] and "sha256:" + "0" * 64 in found["message"]
    # The bytes themselves are the signed, recorded ones: only the pin is wrong.
    assert subject["evidence"]["signature"] == subject["evidence"]["provenance"] == "verified"


def test_a_tampered_model_byte_breaks_signature_and_provenance(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    published, original = releases[1]["tampered"], releases[1]["good"]
    subject = by_name(decision)["tampered"]
    assert denied_rules(subject) == ["supplychain.provenance", "supplychain.signature"]
    signature = finding(subject, "supplychain.signature")
    assert signature["field"] == "spec.modelUri"
    assert signature["line"] == line_of(published.text, "modelUri:")
    assert (
        f"the signed digest {original.digest} is not the artifact's digest {published.digest}"
        in (signature["message"])
    )
    assert subject["evidence"]["signature"] == "failed" and "signer" not in subject["evidence"]
    # The model still loads: the change is one bit of a weight, not a broken file.
    assert subject["evidence"]["quantization"] == "int8"


def test_a_signer_the_trust_file_does_not_name_is_denied(decision: dict[str, Any]) -> None:
    subject = by_name(decision)["stranger"]
    assert denied_rules(subject) == ["supplychain.signature"]
    message = finding(subject, "supplychain.signature")["message"]
    assert "mallory@example.com" in message and "is not a trusted identity" in message
    assert subject["evidence"]["provenance"] == "verified"


def test_a_model_swapped_after_evaluate_fails_provenance(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    published = releases[1]["swapped"]
    subject = by_name(decision)["swapped"]
    assert denied_rules(subject) == ["supplychain.provenance"]
    message = finding(subject, "supplychain.provenance")["message"]
    assert "final step 'evaluate' product model.onnx is sha256:" in message
    assert f"the artifact is {published.digest}" in message
    assert subject["evidence"]["signature"] == "verified"


def test_hostile_external_data_fails_the_evidence_and_denies(decision: dict[str, Any]) -> None:
    subject = by_name(decision)["hostile"]
    assert denied_rules(subject) == ["evidence.failed"]
    message = finding(subject, "evidence.failed")["message"]
    # The weights are part of the artifact: resolving it refuses them, before any collector runs.
    assert message.startswith("the artifact evidence could not be gathered: file:models/hostile/model.onnx: ")
    assert "'../hostile-weights.bin' escapes the model's folder" in message
    assert subject["evidence"]["artifact"] == "error"


def test_an_absent_bundle_warns_before_merge_and_denies_before_deploy(
    decision: dict[str, Any], releases: tuple[GitRepo, dict[str, Published]]
) -> None:
    subject = by_name(decision)["unsigned"]
    assert subject["allowed"] is True and denied_rules(subject) == []
    [absent] = [v for v in subject["violations"] if "signature" in v["message"]]
    assert (absent["rule"], absent["severity"]) == ("evidence.missing.signature", "warn")
    assert "no signature bundle at models/unsigned/model.onnx.sig" in absent["message"]
    assert subject["evidence"]["signature"] == "absent"

    repo, published = releases
    ran = run_cli(
        repo.root, "check", "models/good.yaml", "models/unsigned.yaml", "--stage", "pre-deploy",
        "--format", "json", "--no-audit",
    )  # fmt: skip
    assert ran.code == 1, ran.stderr
    deploy = by_name(ran.decision())
    assert deploy["good"]["allowed"] is True and deploy["good"]["violations"] == []
    assert denied_rules(deploy["unsigned"]) == ["evidence.missing.signature"]
    [missing] = deploy["unsigned"]["violations"]
    assert missing["line"] == line_of(published["unsigned"].text, "modelUri:")
    assert "supplychain.signature cannot decide" in missing["message"]


def test_verify_proves_the_release_and_refuses_the_tampered_file(
    releases: tuple[GitRepo, dict[str, Published]],
) -> None:
    repo, published = releases
    good = repo.fleetgate("verify", published["good"].model_path, "--trust", TRUST_FILE)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines()[-1] == "proven"
    assert (
        "signature   verified: signed by release@example.com, issuer https://issuer.example.com"
        in good.stdout
    )
    assert "provenance  verified: in-toto-layout, steps train -> quantize -> evaluate" in good.stdout

    bad = repo.fleetgate(
        "verify", published["tampered"].model_path, "--trust", TRUST_FILE, "--format", "json"
    )
    assert bad.returncode == 1, bad.stderr
    result = json.loads(bad.stdout)
    assert result["proven"] is False
    assert result["artifact"]["digest"] == published["tampered"].digest
    assert result["signature"]["status"] == "failed"
    assert "is not the artifact's digest" in result["signature"]["reason"]
    assert result["provenance"]["status"] == "failed"


def test_verify_with_a_checksum_that_does_not_match_is_not_proven(
    releases: tuple[GitRepo, dict[str, Published]],
) -> None:
    repo, published = releases
    ran = run_cli(
        repo.root,
        "verify",
        published["good"].model_path,
        "--trust",
        TRUST_FILE,
        "--checksum",
        "sha256:" + "0" * 64,
    )
    assert ran.code == 1, ran.stderr
    assert "checksum    DOES NOT MATCH" in ran.stdout and ran.stdout.splitlines()[-1] == "NOT proven"
    matching = run_cli(
        repo.root,
        "verify",
        published["good"].model_path,
        "--trust",
        TRUST_FILE,
        "--checksum",
        published["good"].digest,
    )
    assert matching.code == 0 and "checksum    matches" in matching.stdout


@pytest.mark.parametrize("stage", ["pre-merge", "pre-deploy"])
def test_a_repository_artifact_that_does_not_exist_is_denied_at_every_stage(
    tmp_path: Path, stage: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit("empty main")
    text = to_yaml(manifest("ghost", modelUri="file:models/ghost.onnx"))
    repo.write("models/ghost.yaml", text)
    head = repo.commit("a deployment whose model was never committed")
    ran = run_cli(repo.root, "check", "--base", base, "--head", head, "--stage", stage, "--format", "json")
    assert ran.code == 1, ran.stderr
    subject = by_name(ran.decision())["ghost"]
    # Before deploy, the facts nobody could gather from a missing file are denied as well.
    assert [r for r in denied_rules(subject) if not r.startswith("evidence.missing")] == [
        "supplychain.artifact-missing"
    ]
    found = finding(subject, "supplychain.artifact-missing")
    assert (found["file"], found["field"]) == ("models/ghost.yaml", "spec.modelUri")
    assert found["line"] == line_of(text, "modelUri:")
    assert found["message"] == "spec.modelUri names models/ghost.onnx, which does not exist in the repository"
    assert subject["evidence"]["artifact"] == "missing"


class SignedExternalModel:
    """A model with external weights, signed as one artifact with model-signing's directory signing.

    ``directory``: the manifest names the model's folder (a model directory) instead of its
    ``.onnx`` file, and the bundle sits beside the folder.
    """

    def __init__(self, work: Path, directory: bool = False) -> None:
        self.repo = GitRepo(work / "repo")
        self.directory = directory
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_key = work / "signer.key"  # the signer's secret: outside the repository
        self.private_key.write_bytes(write_private_key(key))
        self.repo.write("attestations/keys/signer.pub", write_public_key(key.public_key()))
        section = {"format": "model-signing", "method": "key", "publicKeys": ["keys/signer.pub"]}
        trust = {"apiVersion": "fleetgate.dev/v1", "kind": "TrustConfig", "signature": section}
        self.repo.write("attestations/trust.yaml", yaml.safe_dump(trust))
        self.repo.write("fleetgate.yaml", yaml.safe_dump({"trust": "attestations/trust.yaml"}))
        self.base = self.repo.commit("trust material")
        self.model = support_onnx.save_external(
            support_onnx.mlp(inputs=3, classes=1), self.repo.root / "models" / "m" / "model.onnx"
        )
        self.weights = self.model.parent / "weights.bin"

    def sign(self) -> None:
        """``model_signing``'s own API over the model's folder: one resource per file."""
        import model_signing

        hashing = model_signing.hashing.Config().use_file_serialization()
        config = model_signing.signing.Config().use_elliptic_key_signer(private_key=self.private_key)
        folder = self.model.parent
        bundle = folder.with_name(folder.name + ".sig") if self.directory else folder / "model.onnx.sig"
        config.set_hashing_config(hashing).sign(folder, bundle)

    def flip_weight_bit(self) -> None:
        """Change the external weights after signing, as an attacker would."""
        data = bytearray(self.weights.read_bytes())
        data[-1] ^= 0x01
        self.weights.write_bytes(bytes(data))

    def digest(self) -> str:
        """The file-set digest of the model and its weights (or of its folder), as they are now."""
        paths = sorted(self.model.parent.iterdir()) if self.directory else [self.model, self.weights]
        return file_set_digest(ArtifactFile(p.name, digest_of(p.read_bytes()), 0) for p in paths)

    def pin(self, checksum: str | None = None) -> str:
        """Write the manifest pinning ``checksum`` (the current file-set digest); return the text."""
        spec = {
            "modelUri": "file:models/m" if self.directory else "file:models/m/model.onnx",
            "checksum": checksum or self.digest(),
            "sizeBytes": None,
        }
        text = to_yaml(manifest("m", "research", **spec, inferenceConfig={"quantization": "fp32"}))
        self.repo.write("models/m.yaml", text)
        return text

    def check(self, head: str) -> dict[str, Any]:
        args = ("--evidence", "artifact,signature", "--format", "json", "--no-audit")
        ran = run_cli(self.repo.root, "check", "--base", self.base, "--head", head, *args)
        [subject] = ran.decision()["subjects"]
        return subject


def test_an_external_data_file_swapped_after_signing_is_denied_naming_it(tmp_path: Path) -> None:
    release = SignedExternalModel(tmp_path)
    release.sign()
    release.pin()
    signed = release.check(release.repo.commit("a model with external weights, signed whole"))
    assert signed["allowed"] is True and "supplychain.signature" not in denied_rules(signed)
    assert signed["evidence"]["signature"] == "verified"
    # The weights change after signing; the manifest pins the new bytes, as an attacker would.
    release.flip_weight_bit()
    text = release.pin()
    swapped = release.check(release.repo.commit("new weights, old signature"))
    assert denied_rules(swapped) == ["supplychain.signature"]
    found = finding(swapped, "supplychain.signature")
    assert found["line"] == line_of(text, "modelUri:")
    assert (
        "weights.bin has digest sha256:" in found["message"] and "not the signed sha256:" in found["message"]
    )


def test_a_checksum_of_the_model_file_alone_does_not_pin_a_model_with_external_data(tmp_path: Path) -> None:
    # spec.checksum is the file-set digest: pinning only model.onnx leaves the weights unpinned.
    release = SignedExternalModel(tmp_path)
    release.sign()
    text = release.pin(digest_of(release.model.read_bytes()))
    subject = release.check(release.repo.commit("pins the model file only"))
    assert denied_rules(subject) == ["supplychain.checksum-match"]
    assert finding(subject, "supplychain.checksum-match")["line"] == line_of(text, "checksum:")


def test_a_file_added_to_a_signed_model_directory_is_denied_naming_it(tmp_path: Path) -> None:
    release = SignedExternalModel(tmp_path, directory=True)
    release.sign()
    release.pin()
    signed = release.check(release.repo.commit("a model directory, signed whole"))
    assert signed["evidence"]["signature"] == "verified" and "supplychain.signature" not in denied_rules(
        signed
    )
    release.repo.write("models/m/extra.bin", b"bytes nobody signed")
    release.pin()
    extended = release.check(release.repo.commit("one more file in the signed folder"))
    assert denied_rules(extended) == ["supplychain.signature"]
    message = finding(extended, "supplychain.signature")["message"]
    assert "the signature does not cover extra.bin, a file of the artifact" in message


def test_verify_treats_a_model_with_external_data_as_the_check_does(tmp_path: Path) -> None:
    release = SignedExternalModel(tmp_path)
    release.sign()
    args = ("verify", "models/m/model.onnx", "--trust", "attestations/trust.yaml", "--format", "json")
    good = run_cli(release.repo.root, *args, "--checksum", release.digest())
    assert good.code == 0, good.stdout + good.stderr
    proven = json.loads(good.stdout)
    assert proven["proven"] is True and [f["name"] for f in proven["artifact"]["files"]] == [
        "model.onnx",
        "weights.bin",
    ]
    release.flip_weight_bit()
    bad = run_cli(release.repo.root, *args)
    assert bad.code == 1, bad.stderr
    refused = json.loads(bad.stdout)
    assert (
        refused["signature"]["status"] == "failed"
        and "weights.bin has digest" in refused["signature"]["reason"]
    )
