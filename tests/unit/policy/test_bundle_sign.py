"""Bundle file hashes follow OPA's bundle/hash.go, and signatures are the JWT OPA writes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fleetgate.errors import PolicyError
from fleetgate.policy._bundle_sign import file_hash, sign_files, verify_files

# OPA's TestHashFile input: the hash of a JSON document is the hash of its compact, key-sorted
# Go encoding, numbers as written (a float would lose digits), HTML characters left alone.
OPA_MAP = '{"key2": {"c": 123.45678911111111111111111111111111111111111111111111111, "b": 1, "a": 0},\n "key1": ["element1", "element2"]}'  # noqa: E501
OPA_MAP_ENCODED = '{"key1":["element1","element2"],"key2":{"a":0,"b":1,"c":123.45678911111111111111111111111111111111111111111111111}}'  # noqa: E501


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_structured_file_hashes_as_its_sorted_compact_json_with_numbers_as_written() -> None:
    assert file_hash("data.json", OPA_MAP.encode()) == sha(OPA_MAP_ENCODED)
    assert file_hash("sub/data.json", OPA_MAP.encode()) == sha(OPA_MAP_ENCODED)
    assert file_hash(".manifest", b'{"revision": "<v1> & \xe2\x84\xa2"}') == sha('{"revision":"<v1> & ™"}')
    assert file_hash("data.json", '["\u2028"]'.encode()) == sha('["\\u2028"]')


def test_other_files_hash_as_bytes() -> None:
    raw = b"package example\n\n"
    assert file_hash("x/policy.rego", raw) == hashlib.sha256(raw).hexdigest()
    assert file_hash("other.json", b'{"b": 1, "a": 2}') == hashlib.sha256(b'{"b": 1, "a": 2}').hexdigest()


def pem(private: object) -> tuple[bytes, bytes]:
    secret = private.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return secret, public


FILES = {".manifest": b'{"revision":"r1","roots":["fleetgate"]}', "a/p.rego": b"package fleetgate.a\n"}


@pytest.mark.parametrize(
    ("private", "alg"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        (ec.generate_private_key(ec.SECP256R1()), "ES256"),
    ],
)
def test_the_signature_is_one_jwt_naming_every_file(private: object, alg: str) -> None:
    secret, public = pem(private)
    signatures = sign_files(FILES, secret, "team")
    [token] = json.loads(signatures)["signatures"]
    head, body, _ = (base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split("."))
    assert json.loads(head) == {"alg": alg, "kid": "team"}
    payload = json.loads(body)
    assert payload["keyid"] == "team"
    assert payload["files"] == [
        {"name": n, "hash": file_hash(n, raw), "algorithm": "SHA-256"} for n, raw in sorted(FILES.items())
    ]
    assert verify_files(FILES, signatures, public) == "team"


def test_a_signature_claiming_another_algorithm_is_refused() -> None:
    secret, _ = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    _, ec_public = pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(PolicyError, match="does not fit the bundle key"):
        verify_files(FILES, sign_files(FILES, secret, "team"), ec_public)


def test_only_rsa_and_p256_keys_sign() -> None:
    secret, _ = pem(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(PolicyError, match="must be RSA"):
        sign_files(FILES, secret, "team")


@pytest.mark.parametrize(
    "text", [b"", b"{}", b'{"signatures": []}', b'{"signatures": ["a.b"]}', b'{"signatures": ["x", "y"]}']
)
def test_a_malformed_signatures_file_is_refused(text: bytes) -> None:
    _, public = pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(PolicyError, match="exactly one well-formed JWT"):
        verify_files(FILES, text, public)
