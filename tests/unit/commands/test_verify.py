"""run_verify: what can be proven about one artifact file, with real signatures and in-toto links.

The artifact is signed with OpenSSF model signing (an EC key) and comes out of a recorded
train -> quantize -> evaluate in-toto chain; the trust file names the public key and the layout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import model_signing
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from fleetgate.commands.verify import run_verify
from fleetgate.errors import ConfigError, FleetgateError

from support_intoto import MODEL, Keys, Release
from support_sigstore import write_private_key, write_public_key

DIGEST = "sha256:" + hashlib.sha256(MODEL).hexdigest()


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A release signing key: (private key file, public key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path_factory.mktemp("signing") / "release.key"
    private.write_bytes(write_private_key(key))
    return private, write_public_key(key.public_key())


@pytest.fixture
def release(tmp_path: Path, keys: Keys, signing_key: tuple[Path, bytes]) -> Release:
    """``repo/models/model.onnx``, its in-toto links, its model signature and the trust material."""
    scenario = Release(tmp_path, keys)
    scenario.chain()
    scenario.layout()
    private, public = signing_key
    # model-signing's auto-detected shard config fails on 1.1.1: pin file serialization.
    hashing = model_signing.hashing.Config().use_file_serialization()
    signing = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    signing.set_hashing_config(hashing).sign(
        scenario.artifact_path, scenario.artifact_path.parent / "model.onnx.sig"
    )
    (scenario.trust_dir / "keys" / "release.pub").write_bytes(public)
    return scenario


SIGNATURE = {"format": "model-signing", "method": "key", "publicKeys": ["keys/release.pub"]}


def trust_file(release: Release, *, signature: bool = True, provenance: bool = True) -> Path:
    document: dict[str, Any] = {"apiVersion": "fleetgate.dev/v1", "kind": "TrustConfig"}
    if signature:
        document["signature"] = SIGNATURE
    if provenance:
        document["provenance"] = release.provenance
    path = release.trust_dir / "trust.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_signed_artifact_from_the_release_chain_is_proven(release: Release) -> None:
    verified = run_verify(release.artifact_path, trust_file(release))
    assert verified.proven
    assert verified.checksum_matches is None
    assert verified.artifact == {
        "uri": f"file:{release.artifact_path}",
        "path": "model.onnx",
        "digest": DIGEST,
        "size": len(MODEL),
        "source": "file",
        "format": "onnx",
    }
    signature, provenance = verified.facts["signature"], verified.facts["provenance"]
    assert (signature["status"], signature["method"], signature["bundle"]) == (
        "verified",
        "key",
        "model.onnx.sig",
    )
    assert provenance["status"] == "verified" and provenance["kind"] == "in-toto-layout"
    assert provenance["product_digest"] == DIGEST
    trust_digest = "sha256:" + hashlib.sha256(trust_file(release).read_bytes()).hexdigest()
    assert signature["trust_config"] == provenance["trust_config"] == trust_digest


def test_the_json_report(release: Release) -> None:
    report = run_verify(release.artifact_path, trust_file(release), checksum=DIGEST).to_json()
    json.dumps(report)  # JSON-ready
    assert list(report) == ["artifact", "checksum_matches", "signature", "provenance", "proven"]
    assert report["proven"] is True and report["checksum_matches"] is True


def test_a_tampered_artifact_is_not_proven_and_says_why(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL + b" with a backdoor")
    verified = run_verify(release.artifact_path, trust_file(release))
    assert not verified.proven
    signature, provenance = verified.facts["signature"], verified.facts["provenance"]
    shipped = "sha256:" + hashlib.sha256(release.artifact_path.read_bytes()).hexdigest()
    assert verified.artifact["digest"] == shipped
    assert signature["status"] == "failed"
    assert signature["reason"] == f"the signed digest {DIGEST} is not the artifact's digest {shipped}"
    assert provenance["status"] == "failed"
    assert provenance["reason"] == (
        f"final step 'evaluate' product model.onnx is {DIGEST}, the artifact is {shipped}"
    )


def test_a_tampered_artifact_fails_each_check_on_its_own(release: Release) -> None:
    release.artifact_path.write_bytes(b"another model")
    only_signature = run_verify(release.artifact_path, trust_file(release, provenance=False))
    assert list(only_signature.facts) == ["signature"] and not only_signature.proven
    only_provenance = run_verify(release.artifact_path, trust_file(release, signature=False))
    assert list(only_provenance.facts) == ["provenance"] and not only_provenance.proven


def test_one_configured_check_is_enough_to_prove(release: Release) -> None:
    verified = run_verify(release.artifact_path, trust_file(release, provenance=False))
    assert list(verified.facts) == ["signature"] and verified.proven


def test_a_checksum_mismatch_is_not_proven(release: Release) -> None:
    verified = run_verify(release.artifact_path, trust_file(release), checksum="sha256:" + "0" * 64)
    assert verified.checksum_matches is False
    assert verified.facts["signature"]["status"] == "verified"  # the signature itself is fine
    assert not verified.proven


def test_an_unsigned_artifact_is_not_proven(release: Release) -> None:
    (release.artifact_path.parent / "model.onnx.sig").unlink()
    verified = run_verify(release.artifact_path, trust_file(release, provenance=False))
    assert verified.facts["signature"]["status"] == "absent"
    assert not verified.proven


def test_a_trust_file_with_neither_section_is_an_error(release: Release) -> None:
    trust = trust_file(release, signature=False, provenance=False)
    with pytest.raises(FleetgateError, match="names neither signature nor provenance requirements"):
        run_verify(release.artifact_path, trust)


def test_a_missing_artifact_is_an_error(release: Release) -> None:
    with pytest.raises(FleetgateError, match=r"absent\.onnx: no such artifact file"):
        run_verify(release.artifact_path.parent / "absent.onnx", trust_file(release))


def test_a_folder_is_not_an_artifact(release: Release) -> None:
    with pytest.raises(FleetgateError, match="no such artifact file"):
        run_verify(release.artifact_path.parent, trust_file(release))


def test_an_invalid_trust_file_is_a_config_error(release: Release) -> None:
    path = release.trust_dir / "trust.yaml"
    path.write_text("apiVersion: fleetgate.dev/v1\nkind: Trust\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="kind"):
        run_verify(release.artifact_path, path)


def test_an_invalid_section_is_a_config_error_not_a_failed_check(release: Release) -> None:
    path = trust_file(release, provenance=False)
    path.write_text(path.read_text().replace("method: key", "method: telepathy"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"signature\.method"):
        run_verify(release.artifact_path, path)
