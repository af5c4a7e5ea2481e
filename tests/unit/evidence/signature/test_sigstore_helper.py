"""The shared keyless helper (fleetgate.evidence._sigstore) used by signature and provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import ConfigError
from fleetgate.evidence._kit import Refused
from fleetgate.evidence._sigstore import (
    VerifiedDsse,
    identity_policy,
    load_trusted_root,
    verify_dsse_bundle,
)

from support_sigstore import PrivateSigstore

WHO = {"allOf": [{"identity": "ci@example.com", "issuer": "https://token.example.com"}]}


def test_verify_dsse_bundle_returns_what_was_verified(private_sigstore: PrivateSigstore) -> None:
    bundle = private_sigstore.sign_dsse(
        "application/x-test", b"payload", "ci@example.com", "https://token.example.com"
    )
    verified = verify_dsse_bundle(bundle, private_sigstore.trusted_root_path, WHO)
    assert isinstance(verified, VerifiedDsse)
    assert (verified.payload_type, verified.payload) == ("application/x-test", b"payload")
    assert (verified.signer, verified.issuer) == ("ci@example.com", "https://token.example.com")
    assert isinstance(verified.log_index, int)


def test_verify_dsse_bundle_refuses_foreign_and_oversized(
    private_sigstore: PrivateSigstore, foreign_sigstore: PrivateSigstore
) -> None:
    bundle = foreign_sigstore.sign_dsse(
        "application/x-test", b"p", "ci@example.com", "https://token.example.com"
    )
    with pytest.raises(Refused, match="certificate chain"):
        verify_dsse_bundle(bundle, private_sigstore.trusted_root_path, WHO)
    with pytest.raises(Refused, match="larger than"):
        verify_dsse_bundle(b" " * (2 << 20), private_sigstore.trusted_root_path, WHO)


def test_load_trusted_root_digest_is_of_the_file_bytes(private_sigstore: PrivateSigstore) -> None:
    _, digest = load_trusted_root(private_sigstore.trusted_root_path)
    assert digest == "sha256:" + hashlib.sha256(private_sigstore.trusted_root_path.read_bytes()).hexdigest()


def test_load_trusted_root_refuses_a_root_without_logs(tmp_path: Path) -> None:
    root = tmp_path / "root.json"
    root.write_text(
        '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",'
        ' "tlogs": [], "certificateAuthorities": [], "ctlogs": []}'
    )
    with pytest.raises(ConfigError, match="not a usable sigstore trusted root"):
        load_trusted_root(root)


@pytest.mark.parametrize(
    "identities",
    [
        {},
        {"oneOf": [{"identity": "a", "issuer": "b"}]},
        {"anyOf": []},
        {"anyOf": [{"identity": "a"}]},
        {"anyOf": [{"identity": "", "issuer": "b"}]},
        {"anyOf": [{"identity": "a", "issuer": "b"}], "allOf": [{"identity": "a", "issuer": "b"}]},
    ],
)
def test_identity_policy_refuses_malformed_identities(identities: Any) -> None:
    with pytest.raises(ConfigError, match="identities"):
        identity_policy(identities)
