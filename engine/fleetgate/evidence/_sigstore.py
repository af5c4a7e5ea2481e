"""Sigstore verification against a pinned trusted root, shared by the supply-chain collectors.

Import this module only lazily, from inside ``collect()``. It imports sigstore itself inside the
functions that verify, so a collector that only needs :class:`Refused` (the key and
certificate methods) does not pay for sigstore's import.

Every keyless check here runs offline against a trusted root file named in the trust file,
never against Sigstore's public-good instance, the TUF cache or the network. Verification
returns what it verified (payload, signer, issuer, log index) and raises
:class:`Refused` with a one-line reason on anything else: a malformed bundle, a
foreign root, a wrong identity, an expired certificate, an inconsistent log entry, or any
unexpected exception from the libraries (fail closed).

The checks, in order:

1. the bundle is at most the caller's cap (the collector's setting, :data:`MAX_BUNDLE_BYTES` by
   default) and parses as a sigstore bundle;
2. ``sigstore.verify.Verifier`` built on the pinned root checks the certificate chain at the
   log's integrated time, the embedded SCT, the identity policy, the inclusion proof, the
   signed checkpoint and inclusion promise, and the signature with the log entry's consistency;
3. the signer and issuer recorded are those of the identity entry the certificate satisfied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetgate.errors import ConfigError
from fleetgate.evidence._files import read_capped
from fleetgate.evidence._kit import Refused, one_line

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_TRUSTED_ROOT_BYTES",
    "TrustedRootHandle",
    "VerifiedArtifact",
    "VerifiedDsse",
    "identity_policy",
    "load_trusted_root",
    "verify_artifact_bundle",
    "verify_dsse_bundle",
    "verify_dsse_with",
]

# A sigstore bundle is a few kilobytes (one certificate, one log entry, one envelope).
MAX_BUNDLE_BYTES = 1 << 20
# Sigstore's public-good trusted root is about 10 KB; a private one is smaller.
MAX_TRUSTED_ROOT_BYTES = 4 << 20
_OIDC_ISSUER = "1.3.6.1.4.1.57264.1.1"


@dataclass(frozen=True)
class VerifiedDsse:
    """A DSSE envelope whose signature, certificate and log entry all verified."""

    payload_type: str
    payload: bytes
    signer: str  # the certificate's SAN identity that satisfied the policy
    issuer: str | None
    log_index: int | None


@dataclass(frozen=True)
class VerifiedArtifact:
    """A message-signature bundle verified over a known sha256 digest."""

    signer: str
    issuer: str | None
    log_index: int | None


@dataclass(frozen=True)
class TrustedRootHandle:
    """A pinned trusted root, parsed and turned into a ready verifier."""

    path: Path
    root: TrustedRoot
    verifier: Verifier


def load_trusted_root(path: Path) -> tuple[TrustedRootHandle, str]:
    """The trusted root at ``path`` and ``"sha256:<hex>"`` of its bytes; ConfigError if unusable.

    The bytes are read once, hashed and parsed from that same buffer, so the digest recorded
    in a fact is the digest of the root that was used.
    """
    data = read_capped(path, MAX_TRUSTED_ROOT_BYTES, "trusted root", ConfigError)
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore_models.trustroot.v1 import TrustedRoot as TrustedRootMessage

    try:
        # Same as TrustedRoot.from_file, but on the bytes that were hashed.
        root = TrustedRoot(TrustedRootMessage.from_json(data))
        verifier = Verifier(trusted_root=root)
    except Exception as exc:  # any parse error: the pinned root is configuration
        raise ConfigError(f"{path}: not a usable sigstore trusted root: {one_line(str(exc))}") from None
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return TrustedRootHandle(path=path, root=root, verifier=verifier), digest


def identity_policy(identities: Mapping[str, Any]) -> VerificationPolicy:
    """``{"anyOf"|"allOf": [{identity, issuer}, ...]}`` as a sigstore policy; ConfigError if malformed."""
    from sigstore.verify.policy import AllOf, AnyOf, Identity

    entries = _identity_entries(identities)
    children: list[VerificationPolicy] = [
        Identity(identity=identity, issuer=issuer) for identity, issuer in entries
    ]
    if "allOf" in identities:
        return AllOf(children)
    return AnyOf(children)


def verify_dsse_bundle(
    bundle: bytes, trusted_root: Path, identities: Mapping[str, Any], max_bytes: int = MAX_BUNDLE_BYTES
) -> VerifiedDsse:
    """Verify a DSSE bundle keylessly; the payload is returned unchecked (callers check its type).

    Raises Refused on any verification failure (a bundle over ``max_bytes`` included),
    ConfigError on a bad root or identities.
    """
    handle, _ = load_trusted_root(trusted_root)
    return verify_dsse_with(handle, bundle, identities, max_bytes)


def verify_dsse_with(
    handle: TrustedRootHandle, bundle: bytes, identities: Mapping[str, Any], max_bytes: int = MAX_BUNDLE_BYTES
) -> VerifiedDsse:
    """:func:`verify_dsse_bundle` with a trusted root already loaded."""
    from sigstore.errors import VerificationError

    policy = identity_policy(identities)
    parsed = _parse_bundle(bundle, max_bytes)
    if parsed._inner.dsse_envelope is None:
        raise Refused("the bundle holds no DSSE envelope (a plain message signature?)")
    _check_identity(parsed.signing_certificate, policy)
    try:
        payload_type, payload = handle.verifier.verify_dsse(parsed, policy)
    except VerificationError as exc:
        raise Refused(f"sigstore verification failed: {exc}") from None
    except Exception as exc:  # library bugs and odd inputs must not escape as a pass or traceback
        raise Refused(f"sigstore verification failed: {type(exc).__name__}: {exc}") from None
    signer, issuer = _matched_identity(parsed.signing_certificate, identities)
    return VerifiedDsse(payload_type, payload, signer, issuer, _log_index(parsed))


def verify_artifact_bundle(
    handle: TrustedRootHandle,
    bundle: bytes,
    sha256_hex: str,
    identities: Mapping[str, Any],
    max_bytes: int = MAX_BUNDLE_BYTES,
) -> VerifiedArtifact:
    """Verify a plain (message signature) bundle over the file whose sha256 is ``sha256_hex``.

    The digest is passed pre-computed, so the file is not read again.
    """
    from sigstore.errors import VerificationError
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    policy = identity_policy(identities)
    parsed = _parse_bundle(bundle, max_bytes)
    if parsed._inner.message_signature is None:
        raise Refused("the bundle holds no message signature (a DSSE envelope?)")
    _check_identity(parsed.signing_certificate, policy)
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(sha256_hex))
    try:
        handle.verifier.verify_artifact(hashed, parsed, policy)
    except VerificationError as exc:
        raise Refused(f"sigstore verification failed: {exc}") from None
    except Exception as exc:  # see verify_dsse_with
        raise Refused(f"sigstore verification failed: {type(exc).__name__}: {exc}") from None
    signer, issuer = _matched_identity(parsed.signing_certificate, identities)
    return VerifiedArtifact(signer, issuer, _log_index(parsed))


def _parse_bundle(bundle: bytes, max_bytes: int) -> Bundle:
    from sigstore.models import Bundle

    if len(bundle) > max_bytes:
        raise Refused(f"the bundle is larger than {max_bytes} bytes")
    try:
        return Bundle.from_json(bundle)
    except Exception as exc:  # pydantic, base64, DER and sigstore errors all mean "malformed"
        raise Refused(f"malformed sigstore bundle: {type(exc).__name__}: {exc}") from None


def _identity_entries(identities: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    if not isinstance(identities, Mapping) or len(identities) != 1:
        raise ConfigError("identities: expected exactly one of anyOf or allOf")
    ((combinator, entries),) = identities.items()
    if combinator not in ("anyOf", "allOf"):
        raise ConfigError(f"identities: unknown combinator {combinator!r} (anyOf or allOf)")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"identities.{combinator}: expected a non-empty list")
    result: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        identity = entry.get("identity") if isinstance(entry, Mapping) else None
        issuer = entry.get("issuer") if isinstance(entry, Mapping) else None
        if not (isinstance(identity, str) and identity and isinstance(issuer, str) and issuer):
            raise ConfigError(
                f"identities.{combinator}[{index}]: expected {{identity, issuer}} non-empty strings"
            )
        result.append((identity, issuer))
    return result


def _check_identity(certificate: Certificate, policy: VerificationPolicy) -> None:
    """Name the signer when it is not trusted; the Verifier checks the policy again, in order.

    Checking first only changes the message: sigstore's own "0 of 2 policies succeeded" does
    not say who signed. Both checks must pass either way.
    """
    try:
        policy.verify(certificate)
    except Exception as exc:  # VerificationError, or a certificate without the extensions
        sans, issuer = _certificate_identity(certificate)
        raise Refused(f"the signer {sans} (issuer {issuer!r}) is not a trusted identity: {exc}") from None


def _certificate_identity(certificate: Certificate) -> tuple[list[str], str | None]:
    from cryptography.x509 import (
        ObjectIdentifier,
        RFC822Name,
        SubjectAlternativeName,
        UniformResourceIdentifier,
    )

    try:
        names = certificate.extensions.get_extension_for_class(SubjectAlternativeName).value
        sans = [str(v) for v in names.get_values_for_type(RFC822Name)]
        sans += [str(v) for v in names.get_values_for_type(UniformResourceIdentifier)]
    except Exception:  # no SAN extension: say so rather than fail differently
        sans = []
    try:
        value = certificate.extensions.get_extension_for_oid(ObjectIdentifier(_OIDC_ISSUER)).value
        issuer: str | None = value.value.decode(errors="replace")  # type: ignore[attr-defined]
    except Exception:  # no issuer extension
        issuer = None
    return sans, issuer


def _matched_identity(certificate: Certificate, identities: Mapping[str, Any]) -> tuple[str, str]:
    """The first configured (identity, issuer) the certificate satisfies.

    The policy already passed, so one entry matches; recording the configured pair (not some
    other SAN) says exactly which trusted signer this was.
    """
    from sigstore.verify.policy import Identity

    for identity, issuer in _identity_entries(identities):
        try:
            Identity(identity=identity, issuer=issuer).verify(certificate)
        except Exception:  # not this entry; the policy guarantees a later one matches
            continue
        return identity, issuer
    raise Refused("the certificate matches no configured identity")


def _log_index(bundle: Bundle) -> int | None:
    try:
        return int(bundle.log_entry._inner.log_index)
    except (AttributeError, TypeError, ValueError):
        return None
