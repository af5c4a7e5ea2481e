"""A plain sigstore bundle over the artifact file, verified keylessly over its known digest."""

from __future__ import annotations

from typing import Any

from fleetgate.evidence.signature import COLLECTOR

from support_sigstore import IN_TOTO_PAYLOAD_TYPE, PrivateSigstore


def _section(workspace: Any, instance: PrivateSigstore) -> dict[str, Any]:
    return workspace.keyless(instance, format="sigstore")


def _collect(workspace: Any, section: dict[str, Any]) -> dict[str, Any]:
    fact = COLLECTOR.collect(workspace.context(section))
    assert fact is not None
    return dict(fact)


def _sign(workspace: Any, instance: PrivateSigstore, identity: str | None = None) -> None:
    bundle = instance.sign_artifact(
        workspace.model.read_bytes(), identity or workspace.identity, workspace.issuer
    )
    workspace.write_bundle(bundle, "model.onnx.sigstore.json")


def test_verified(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    _sign(workspace, private_sigstore)
    fact = _collect(workspace, _section(workspace, private_sigstore))
    assert fact["status"] == "verified"
    assert fact["format"] == "sigstore"
    assert fact["bundle"] == "models/model.onnx.sigstore.json"
    assert (fact["signer"], fact["issuer"]) == (workspace.identity, workspace.issuer)
    assert isinstance(fact["rekor_log_index"], int)
    assert fact["trusted_root"].startswith("sha256:")


def test_tampered_artifact_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    _sign(workspace, private_sigstore)
    data = bytearray(workspace.model.read_bytes())
    data[0] ^= 0xFF
    workspace.model.write_bytes(bytes(data))
    fact = _collect(workspace, _section(workspace, private_sigstore))
    assert fact["status"] == "failed"
    assert "message digest mismatch" in fact["reason"]


def test_wrong_identity_fails(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    _sign(workspace, private_sigstore, "mallory@example.com")
    fact = _collect(workspace, _section(workspace, private_sigstore))
    assert fact["status"] == "failed"
    assert "mallory@example.com" in fact["reason"]


def test_dsse_bundle_is_not_a_plain_signature(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    bundle = private_sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, b"{}", workspace.identity, workspace.issuer)
    workspace.write_bundle(bundle, "model.onnx.sigstore.json")
    fact = _collect(workspace, _section(workspace, private_sigstore))
    assert fact["status"] == "failed"
    assert "no message signature" in fact["reason"]


def test_custom_bundle_location(workspace: Any, private_sigstore: PrivateSigstore) -> None:
    bundle = private_sigstore.sign_artifact(
        workspace.model.read_bytes(), workspace.identity, workspace.issuer
    )
    (workspace.model.parent / "signatures").mkdir()
    workspace.write_bundle(bundle, "signatures/model.onnx.bundle")
    section = _section(workspace, private_sigstore) | {"bundle": "signatures/{artifact}.bundle"}
    fact = _collect(workspace, section)
    assert fact["status"] == "verified"
    assert fact["bundle"] == "models/signatures/model.onnx.bundle"
