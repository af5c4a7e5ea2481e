"""The SLSA provenance v1 path: key-signed DSSE and keyless sigstore statements."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from support_intoto import (
    BUILDER_ID,
    IN_TOTO_PAYLOAD_TYPE,
    MODEL,
    SLSA_V1,
    Release,
    dsse_envelope,
    sha256_hex,
    statement,
    tamper_payload,
)
from support_sigstore import PrivateSigstore

IDENTITY = "https://ci.example.com/release.yml@refs/heads/main"
ISSUER = "https://token.ci.example.com"


@pytest.fixture(scope="module")
def sigstore(tmp_path_factory: pytest.TempPathFactory) -> PrivateSigstore:
    return PrivateSigstore(tmp_path_factory.mktemp("sigstore"))


def _keyless(release: Release, sigstore: PrivateSigstore, bundle: bytes, identity: str = IDENTITY) -> None:
    root = release.trust_dir / "roots" / "trusted_root.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_bytes(sigstore.trusted_root_path.read_bytes())
    release.statement(
        bundle,
        trustedRoot="roots/trusted_root.json",
        identities={"anyOf": [{"identity": identity, "issuer": ISSUER}]},
    )


def test_key_signed_statement_verifies(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.builder)
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")
    assert fact["kind"] == "slsa"
    assert fact["slsa"] == {
        "predicate_type": SLSA_V1,
        "builder_id": BUILDER_ID,
        "signer": release.keys.builder.public_key.keyid,
        "subject_digest": "sha256:" + sha256_hex(MODEL),
        "statement_digest": "sha256:" + hashlib.sha256(envelope).hexdigest(),
    }


def test_predicate_and_builder_are_reported_not_judged(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    body = statement(sha256_hex(MODEL), builder_id="https://elsewhere.example/b", predicate_type="x/y")
    release.statement(dsse_envelope(body, release.keys.builder), publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "verified"
    assert (fact["slsa"]["predicate_type"], fact["slsa"]["builder_id"]) == (
        "x/y",
        "https://elsewhere.example/b",
    )


def test_sigstore_signed_statement_verifies(release: Release, sigstore: PrivateSigstore) -> None:
    release.artifact_path.write_bytes(MODEL)
    bundle = sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement(sha256_hex(MODEL)), IDENTITY, ISSUER)
    _keyless(release, sigstore, bundle)
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")
    assert fact["slsa"]["signer"] == IDENTITY
    assert fact["slsa"]["builder_id"] == BUILDER_ID


def test_sigstore_statement_by_another_identity_fails(release: Release, sigstore: PrivateSigstore) -> None:
    release.artifact_path.write_bytes(MODEL)
    body = statement(sha256_hex(MODEL))
    bundle = sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, body, "mallory@example.com", ISSUER)
    _keyless(release, sigstore, bundle)
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "model.onnx.intoto.json" in fact["reason"] and "mallory@example.com" in fact["reason"]


def test_sigstore_bundle_without_trusted_root_fails(release: Release, sigstore: PrivateSigstore) -> None:
    release.artifact_path.write_bytes(MODEL)
    bundle = sigstore.sign_dsse(IN_TOTO_PAYLOAD_TYPE, statement(sha256_hex(MODEL)), IDENTITY, ISSUER)
    release.statement(bundle, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "no slsa.trustedRoot" in fact["reason"]


def test_statement_with_the_wrong_subject_fails(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    envelope = dsse_envelope(statement(sha256_hex(b"another model")), release.keys.builder)
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "no subject has the artifact's digest sha256:" + sha256_hex(MODEL) in fact["reason"]


def test_statement_signed_by_an_unknown_key_fails(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.stranger)
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "no valid signature by a trusted key" in fact["reason"]
    assert release.keys.stranger.public_key.keyid in fact["reason"]


def test_statement_modified_after_signing_fails(release: Release) -> None:
    release.artifact_path.write_bytes(b"swapped")
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.builder)
    subject = {"name": "model.onnx", "digest": {"sha256": sha256_hex(b"swapped")}}
    forged = tamper_payload(envelope, {"subject": [subject]})
    release.statement(forged, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "no valid signature by a trusted key" in fact["reason"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "not a DSSE envelope or sigstore bundle"),
        (b'{"payload": "!!", "payloadType": "x", "signatures": [{"sig": "??"}]}', "malformed DSSE envelope"),
        (b"[" * 100_000, "malformed JSON"),
    ],
)
def test_malformed_statement_fails(release: Release, content: bytes, said: str) -> None:
    release.artifact_path.write_bytes(MODEL)
    release.statement(content, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert said in fact["reason"]


def test_wrong_payload_type_fails(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.builder, payload_type="text/plain")
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "payloadType 'text/plain'" in fact["reason"]


def test_link_in_place_of_a_statement_fails(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    link = json.dumps({"_type": "link", "name": "evaluate"}).encode()
    release.statement(dsse_envelope(link, release.keys.builder), publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "payload _type 'link'" in fact["reason"]


def test_absent_statement_is_absent(release: Release) -> None:
    release.artifact_path.write_bytes(MODEL)
    release.provenance["slsa"] = {"publicKeys": release.builder_keys()}
    fact = release.collect()
    assert fact["status"] == "absent"
    assert "{artifact}.intoto.json" in fact["reason"]


def test_statement_path_traversal_is_refused(release: Release, tmp_path: Path) -> None:
    release.artifact_path.write_bytes(MODEL)
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.builder)
    (tmp_path / "elsewhere.json").write_bytes(envelope)
    release.provenance["slsa"] = {"statement": "../elsewhere.json", "publicKeys": release.builder_keys()}
    fact = release.collect()
    assert fact["status"] == "failed"
    assert fact["reason"].startswith("path traversal:")


def test_layout_and_slsa_both_verify(release: Release) -> None:
    release.chain()
    release.layout()
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.builder)
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "verified", fact.get("reason")
    assert fact["kind"] == "in-toto-layout+slsa"
    assert fact["final_step"] == "evaluate" and fact["slsa"]["builder_id"] == BUILDER_ID


def test_layout_and_slsa_one_failing_fails(release: Release) -> None:
    release.chain()
    release.layout()
    envelope = dsse_envelope(statement(sha256_hex(MODEL)), release.keys.stranger)
    release.statement(envelope, publicKeys=release.builder_keys())
    fact = release.collect()
    assert fact["status"] == "failed"
    assert "no valid signature by a trusted key" in fact["reason"]
    assert "slsa" not in fact and fact["product_digest"] == "sha256:" + sha256_hex(MODEL)
