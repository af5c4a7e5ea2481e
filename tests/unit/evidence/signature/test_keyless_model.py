"""OpenSSF model signing, keyless: real sigstore verification against a private trusted root."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from fleetgate.evidence.signature import COLLECTOR

from support_sigstore import IN_TOTO_PAYLOAD_TYPE, PrivateSigstore, model_signing_statement


def _sign(workspace: Any, instance: PrivateSigstore, identity: str | None = None, **kw: Any) -> bytes:
    statement = model_signing_statement(workspace.model)
    return instance.sign_dsse(
        IN_TOTO_PAYLOAD_TYPE,
        statement,
        identity or workspace.identity,
        kw.pop("issuer", workspace.issuer),
        **kw,
    )


def _collect(workspace: Any, section: dict[str, Any]) -> dict[str, Any]:
    fact = COLLECTOR.collect(workspace.context(section))
    assert fact is not None
    return dict(fact)


def test_verified_fact_records_signer_log_and_digests(
    workspace: Any, private_sigstore: PrivateSigstore
) -> None:
    bundle = workspace.write_bundle(_sign(workspace, private_sigstore))
    section = workspace.keyless(private_sigstore)
    context = workspace.context(section)
    fact = COLLECTOR.collect(context)
    root_bytes = (workspace.trust_dir / section["trustedRoot"]).read_bytes()
    assert fact == {
        "status": "verified",
        "format": "model-signing",
        "method": "keyless",
        "signer": workspace.identity,
        "issuer": workspace.issuer,
        "bundle": "models/model.onnx.sig",
        "bundle_digest": "sha256:" + hashlib.sha256(bundle.read_bytes()).hexdigest(),
        "rekor_log_index": fact["rekor_log_index"] if fact else None,
        "trusted_root": "sha256:" + hashlib.sha256(root_bytes).hexdigest(),
        "trust_config": context.trust.digest if context.trust else None,
    }
    assert isinstance(fact["rekor_log_index"], int) and fact["rekor_log_index"] > 1000
    json.dumps(fact)  # JSON-ready


def test_tampered_model_byte_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore))
    data = bytearray(workspace.model.read_bytes())
    data[100] ^= 0x01
    workspace.model.write_bytes(bytes(data))
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "is not the artifact's digest" in fact["reason"]
    assert fact["signer"] is None


def test_wrong_identity_fails_naming_the_signer(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore, "mallory@example.com"))
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "mallory@example.com" in fact["reason"] and "not a trusted identity" in fact["reason"]


def test_wrong_issuer_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore, issuer="https://evil.example.net"))
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "https://evil.example.net" in fact["reason"]


def test_foreign_trust_root_fails(
    workspace: Any, private_sigstore: PrivateSigstore, foreign_sigstore: PrivateSigstore
) -> None:
    workspace.write_bundle(_sign(workspace, foreign_sigstore))
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "certificate chain" in fact["reason"]


def test_certificate_expired_at_signing_time_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore, expired=True))
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "not valid at validation time" in fact["reason"]


def test_bundle_for_another_file_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    other = workspace.model.parent / "other.onnx"
    other.write_bytes(b"another model")
    statement = model_signing_statement(other)
    workspace.write_bundle(
        private_sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement, workspace.identity, workspace.issuer)
    )
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "is not the artifact" in fact["reason"]


def test_garbage_bundle_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(b"\x00\xffnot json at all")
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("malformed sigstore bundle")


def test_truncated_bundle_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    bundle = _sign(workspace, private_sigstore)
    workspace.write_bundle(bundle[: len(bundle) // 2])
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "malformed sigstore bundle" in fact["reason"]
    assert "\n" not in fact["reason"]


def test_wrong_payload_type_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    statement = model_signing_statement(workspace.model)
    workspace.write_bundle(
        private_sigstore.sign_dsse("text/plain", statement, workspace.identity, workspace.issuer)
    )
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "wrong payload type 'text/plain'" in fact["reason"]


def test_plain_message_bundle_is_not_a_model_signature(
    workspace: Any, private_sigstore: PrivateSigstore
) -> None:
    workspace.write_bundle(
        private_sigstore.sign_artifact(workspace.model.read_bytes(), workspace.identity, workspace.issuer)
    )
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "no DSSE envelope" in fact["reason"]


def test_tampered_envelope_payload_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    bundle = json.loads(_sign(workspace, private_sigstore))
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    payload["predicate"]["resources"][0]["digest"] = "0" * 64
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    workspace.write_bundle(json.dumps(bundle).encode())
    fact = _collect(workspace, workspace.keyless(private_sigstore))
    assert fact["status"] == "failed"
    assert "sigstore verification failed" in fact["reason"]


def _identities(workspace: Any, combinator: str) -> dict[str, Any]:
    return {
        combinator: [
            {"identity": workspace.identity, "issuer": workspace.issuer},
            {"identity": workspace.ci_identity, "issuer": workspace.issuer},
        ]
    }


def test_any_of_accepts_one_matching_identity(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    workspace.write_bundle(_sign(workspace, private_sigstore, workspace.ci_identity))
    section = workspace.keyless(private_sigstore, identities=_identities(workspace, "anyOf"))
    fact = _collect(workspace, section)
    assert fact["status"] == "verified"
    assert fact["signer"] == workspace.ci_identity


def test_all_of_requires_every_identity(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    section = workspace.keyless(private_sigstore, identities=_identities(workspace, "allOf"))
    workspace.write_bundle(_sign(workspace, private_sigstore, workspace.ci_identity))
    assert _collect(workspace, section)["status"] == "failed"
    workspace.write_bundle(_sign(workspace, private_sigstore, also=(workspace.ci_identity,)))
    fact = _collect(workspace, section)
    assert fact["status"] == "verified"
    assert fact["signer"] == workspace.identity
