"""OpenSSF model signing with EC keys and X.509 certificates, signed by model-signing itself."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import model_signing
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleetgate.errors import ConfigError
from fleetgate.evidence.signature import COLLECTOR

from support_sigstore import (
    IN_TOTO_PAYLOAD_TYPE,
    PlainCertificateAuthority,
    PrivateSigstore,
    model_signing_statement,
    write_private_key,
    write_public_key,
)


def _hashing() -> Any:
    # model-signing's auto-detected shard config fails on 1.1.1: pin file serialization.
    return model_signing.hashing.Config().use_file_serialization()


def _key_pair(folder: Path, stem: str) -> tuple[Path, Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / f"{stem}.key", folder / f"{stem}.pub"
    private.write_bytes(write_private_key(key))
    public.write_bytes(write_public_key(key.public_key()))
    return private, public, key


def _sign_with_key(workspace: Any, private: Path) -> None:
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=private)
    config.set_hashing_config(_hashing()).sign(workspace.model, workspace.model.parent / "model.onnx.sig")


def _key_section(*public: Path) -> dict[str, Any]:
    return {"format": "model-signing", "method": "key", "publicKeys": [str(p) for p in public]}


def _collect(workspace: Any, section: dict[str, Any]) -> dict[str, Any]:
    fact = COLLECTOR.collect(workspace.context(section))
    assert fact is not None
    return dict(fact)


def test_key_verified_records_the_key_id(workspace: Any, tmp_path: Path) -> None:
    private, public, key = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    fact = _collect(workspace, _key_section(public))
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert fact["status"] == "verified"
    assert fact["signer"] == "sha256:" + hashlib.sha256(der).hexdigest()
    assert "issuer" not in fact and "trusted_root" not in fact and "reason" not in fact
    assert fact["rekor_log_index"] is None


def test_key_any_of_several_keys(workspace: Any, tmp_path: Path) -> None:
    _, other_public, _ = _key_pair(tmp_path, "other")
    private, public, _ = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    assert _collect(workspace, _key_section(other_public, public))["status"] == "verified"


def test_wrong_key_fails(workspace: Any, tmp_path: Path) -> None:
    private, _, _ = _key_pair(tmp_path, "release")
    _, other_public, _ = _key_pair(tmp_path, "other")
    _sign_with_key(workspace, private)
    fact = _collect(workspace, _key_section(other_public))
    assert fact["status"] == "failed"
    assert "does not verify with any trusted key" in fact["reason"]


def test_key_signature_over_tampered_model_fails(workspace: Any, tmp_path: Path) -> None:
    private, public, _ = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    workspace.model.write_bytes(workspace.model.read_bytes() + b"\x00")
    fact = _collect(workspace, _key_section(public))
    assert fact["status"] == "failed"
    assert "is not the artifact's digest" in fact["reason"]


def test_sigstore_bundle_handed_to_key_verifier_fails(
    workspace: Any, tmp_path: Path, private_sigstore: PrivateSigstore
) -> None:
    _, public, _ = _key_pair(tmp_path, "release")
    statement = model_signing_statement(workspace.model)
    workspace.write_bundle(
        private_sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement, workspace.identity, workspace.issuer)
    )
    fact = _collect(workspace, _key_section(public))
    assert fact["status"] == "failed"
    assert "names no public key" in fact["reason"]


def test_key_bundle_with_an_unknown_field_is_malformed(workspace: Any, tmp_path: Path) -> None:
    private, public, _ = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    bundle = workspace.model.parent / "model.onnx.sig"
    bundle.write_bytes(bundle.read_bytes().replace(b'"dsseEnvelope"', b'"dsseEnvelopeX"'))
    fact = _collect(workspace, _key_section(public))
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("malformed model-signing bundle")


def test_unreadable_or_wrong_public_key_is_a_config_error(workspace: Any, tmp_path: Path) -> None:
    private, _, _ = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    with pytest.raises(ConfigError, match="cannot read the public key"):
        COLLECTOR.collect(workspace.context(_key_section(tmp_path / "missing.pub")))
    not_a_key = tmp_path / "garbage.pub"
    not_a_key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ConfigError, match="not a PEM public key"):
        COLLECTOR.collect(workspace.context(_key_section(not_a_key)))


def _sign_with_certificate(workspace: Any, authority: PlainCertificateAuthority) -> None:
    key, cert = authority.issue("release@example.com")
    config = model_signing.signing.Config().use_certificate_signer(
        private_key=key, signing_certificate=cert, certificate_chain=[authority.root_path]
    )
    config.set_hashing_config(_hashing()).sign(workspace.model, workspace.model.parent / "model.onnx.sig")


def _certificate_section(*chain: Path) -> dict[str, Any]:
    return {"format": "model-signing", "method": "certificate", "certificateChain": [str(p) for p in chain]}


def test_certificate_verified_records_the_san(workspace: Any, tmp_path: Path) -> None:
    authority = PlainCertificateAuthority(tmp_path / "ca")
    _sign_with_certificate(workspace, authority)
    fact = _collect(workspace, _certificate_section(authority.root_path))
    assert fact["status"] == "verified"
    assert fact["method"] == "certificate"
    assert fact["signer"] == "release@example.com"


def test_certificate_from_unknown_chain_fails(workspace: Any, tmp_path: Path) -> None:
    trusted = PlainCertificateAuthority(tmp_path / "trusted", name="trusted")
    unknown = PlainCertificateAuthority(tmp_path / "unknown", name="unknown")
    _sign_with_certificate(workspace, unknown)
    fact = _collect(workspace, _certificate_section(trusted.root_path))
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("certificate verification failed: X509StoreContextError")


def test_key_bundle_handed_to_certificate_verifier_fails(workspace: Any, tmp_path: Path) -> None:
    authority = PlainCertificateAuthority(tmp_path / "ca")
    private, _, _ = _key_pair(tmp_path, "release")
    _sign_with_key(workspace, private)
    fact = _collect(workspace, _certificate_section(authority.root_path))
    assert fact["status"] == "failed"
    assert "carries no certificate chain" in fact["reason"]
