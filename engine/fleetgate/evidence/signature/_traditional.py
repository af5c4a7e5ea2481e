"""OpenSSF model signatures made with an EC key or an X.509 certificate (imported lazily).

model-signing's own verifiers check the DSSE signature (``sign_ec_key``) and the certificate
chain with pyOpenSSL (``sign_certificate``); the statement is then checked against the
artifact's digest. The trust material is loaded and checked first: an unreadable or wrong key
or chain file is a ConfigError, and an empty chain is refused because model-signing would
then trust the system's web CAs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing._signing import sign_certificate, sign_ec_key, sign_sigstore_pb
from sigstore_models.bundle import v1 as bundle_pb

from fleetgate.errors import ConfigError
from fleetgate.evidence._files import read_capped
from fleetgate.evidence._kit import Refused
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.signature._statement import check_statement
from fleetgate.evidence.signature._verdict import Verdict

__all__ = ["checked_chain", "load_public_key", "verify_with_certificates", "verify_with_keys"]

# A PEM public key or a CA chain is a few kilobytes.
_MAX_MATERIAL_BYTES = 1 << 20
_SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def verify_with_keys(
    keys: list[tuple[Path, ec.EllipticCurvePublicKey]], data: bytes, artifact: Artifact
) -> Verdict:
    """Verified by the first of ``keys`` that verifies the DSSE signature; Refused otherwise."""
    signature = _model_signature(data)
    material = signature.bundle.verification_material
    # model-signing >= 1.0 names the key (sha256 of its PEM); without the hint its verifier
    # prints to stdout and falls back to a pre-1.0 encoding, so such bundles are refused.
    if material.public_key is None or not material.public_key.hint:
        raise Refused("the bundle names no public key (not a model-signing key signature)")
    reasons: list[str] = []
    for path, key in keys:
        try:
            payload_type, payload = sign_ec_key.Verifier(path)._verify_signed_content(signature)
        except Exception as exc:  # wrong key, bad signature, malformed envelope: try the next key
            reasons.append(f"{path.name}: {type(exc).__name__}")
            continue
        check_statement(payload_type, payload, artifact)
        return Verdict(True, signer=_key_id(key))
    raise Refused(f"the signature does not verify with any trusted key ({', '.join(reasons)})")


def verify_with_certificates(chain: list[Path], data: bytes, artifact: Artifact) -> Verdict:
    """Verified when the bundle's leaf chains to ``chain`` and signs this artifact's statement."""
    signature = _model_signature(data)
    certificates = signature.bundle.verification_material.x509_certificate_chain
    if certificates is None or not certificates.certificates:
        raise Refused("the bundle carries no certificate chain (not a certificate signature)")
    try:
        verifier = sign_certificate.Verifier(certificate_chain_paths=chain)
        payload_type, payload = verifier._verify_signed_content(signature)
    except Exception as exc:  # pyOpenSSL chain errors, bad signatures, key-only bundles
        raise Refused(f"certificate verification failed: {type(exc).__name__}: {exc}") from None
    check_statement(payload_type, payload, artifact)
    leaf = x509.load_der_x509_certificate(certificates.certificates[0].raw_bytes)
    return Verdict(True, signer=_certificate_identity(leaf))


def _model_signature(data: bytes) -> sign_sigstore_pb.Signature:
    """The bundle as model-signing reads it (``Signature.read``), from bytes already read once."""
    try:
        parsed = json.loads(data)
        material = parsed["verificationMaterial"]
        # The same adjustments model-signing's Signature.read makes for older bundles.
        material.setdefault("tlogEntries", [])
        if "publicKey" in material:
            material["publicKey"].setdefault("hint", None)
            for key in ("rawBytes", "keyDetails"):
                material["publicKey"].pop(key, None)
        bundle = bundle_pb.Bundle.from_dict(parsed)
    except Exception as exc:  # JSON, shape and base64 errors all mean a malformed bundle
        raise Refused(f"malformed model-signing bundle: {type(exc).__name__}: {exc}") from None
    if bundle.dsse_envelope is None:
        raise Refused("the bundle holds no DSSE envelope")
    return sign_sigstore_pb.Signature(bundle)


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    data = _read_material(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except Exception:  # any PEM or DER problem
        raise ConfigError(f"{path}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _SUPPORTED_CURVES:
        raise ConfigError(f"{path}: not an EC public key on P-256, P-384 or P-521")
    return key


def checked_chain(paths: tuple[Path, ...]) -> list[Path]:
    # An empty list would make model-signing fall back to the system's web CAs.
    if not paths:
        raise ConfigError("signature.certificateChain: at least one CA certificate is required")
    for path in paths:
        try:
            x509.load_pem_x509_certificates(_read_material(path, "certificate chain"))
        except ValueError:
            raise ConfigError(f"{path}: not a PEM certificate chain") from None
    return list(paths)


def _read_material(path: Path, what: str) -> bytes:
    return read_capped(path, _MAX_MATERIAL_BYTES, what, ConfigError)


def _key_id(key: ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _certificate_identity(leaf: x509.Certificate) -> str:
    """The leaf's first e-mail or URI SAN, else the key id of its public key."""
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = None
    if names is not None:
        for value in names.get_values_for_type(x509.RFC822Name) + names.get_values_for_type(
            x509.UniformResourceIdentifier
        ):
            return value
    key = leaf.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _key_id(key)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()
