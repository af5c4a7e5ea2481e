"""The one parser of the gate's Ed25519 key strings, shared by checkpoints and receipts."""

from __future__ import annotations

import base64

import pytest

from fleetgate.audit import _keys as keys
from fleetgate.audit.store.interface import AuditError

# The Go note package's documented example: github.com/golang/mod, sumdb/note/note.go at commit
# 605edab4323bfdf06a0d8ac68b4b18e9e0df249b (BSD-3-Clause, Copyright 2019 The Go Authors).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"


class CallerError(AuditError):
    """Stands for the caller's own error class (CheckpointError, ReceiptError)."""


def test_the_go_example_keys_parse_and_match() -> None:
    signer = keys.parse_signer_key(GO_SKEY, "signer key", CallerError)
    verifier = keys.parse_verifier_key(GO_VKEY, "verifier key", CallerError)
    assert signer.text() == GO_SKEY
    assert signer.verifier.text() == verifier.text() == GO_VKEY
    assert verifier.keyid == "PeterNeumann+c74f20a3"
    assert verifier.key_id == bytes.fromhex("c74f20a3")


def test_a_new_key_round_trips_and_signs() -> None:
    signer = keys.new_signer_key("gate.example.com", CallerError)
    parsed = keys.parse_signer_key(signer.text(), "signer key", CallerError)
    verifier = keys.parse_verifier_key(signer.verifier.text(), "verifier key", CallerError)
    assert parsed.text() == signer.text()
    signature = parsed.sign(b"message")
    assert verifier.verifies(signature, b"message")
    assert not verifier.verifies(signature, b"messagE")
    assert not verifier.verifies(signature[:-1], b"message")
    assert "PRIVATE" not in repr(signer)


SEED_TEXT = GO_SKEY.rsplit("+", 1)[1]
BAD_SIGNER_KEYS = {
    "no prefix": GO_SKEY.removeprefix("PRIVATE+KEY+"),
    "not a string": None,
    "uppercase key ID": GO_SKEY.replace("c74f20a3", "C74F20A3"),
    "wrong key ID": GO_SKEY.replace("c74f20a3", "c74f20a2"),
    "URL-safe base64": GO_SKEY.replace("+Y7h", "-Y7h"),
    "padded past its end": GO_SKEY + "=",
    "trailing newline": GO_SKEY + "\n",
}


@pytest.mark.parametrize("text", BAD_SIGNER_KEYS.values(), ids=BAD_SIGNER_KEYS.keys())
def test_a_malformed_signer_key_raises_the_callers_error_without_its_seed(text: str) -> None:
    with pytest.raises(CallerError, match="^my signing key") as caught:
        keys.parse_signer_key(text, "my signing key", CallerError)
    assert SEED_TEXT not in caught.value.message


@pytest.mark.parametrize(
    "text",
    [GO_SKEY, GO_VKEY.replace("PeterNeumann", "PeterNeumanm"), "a+b", "a b+c74f20a3+" + GO_VKEY[22:], ""],
)
def test_a_malformed_verifier_key_raises_the_callers_error(text: str) -> None:
    with pytest.raises(CallerError, match="my verifier key"):
        keys.parse_verifier_key(text, "my verifier key", CallerError)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("gate.example.com", True),
        ("é", True),
        ("", False),
        ("a b", False),
        ("a+b", False),
        ("tab\there", False),
        ("nbsp\u00a0", False),
        ("\udcff", False),  # an undecodable command-line byte
    ],
)
def test_key_names_follow_signed_note(name: str, valid: bool) -> None:
    assert keys.is_key_name(name) is valid


def test_base64_is_read_only_in_its_canonical_spelling() -> None:
    assert keys.from_base64(keys.to_base64(b"\xfb\xff")) == b"\xfb\xff"
    for spelling in ("-_8=", "+/8", "QR==", "QQ", " QQ==", "é"):
        assert keys.from_base64(spelling) is None, spelling
    assert keys.from_base64(base64.b64encode(b"A").decode()) == b"A"
