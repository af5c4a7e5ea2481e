"""A private sigstore instance for tests: real bundles, verified by the unmodified sigstore Verifier.

One :class:`PrivateSigstore` is one trust root: a root CA and an intermediate CA (the "Fulcio"
chain), a CT log key that signs an embedded SCT in every leaf certificate, and a Rekor key
that signs each entry's checkpoint and inclusion promise (SET). Everything is generated with
``cryptography`` and written as a ``trusted_root.json`` in sigstore's protobuf JSON; nothing
touches the network. Signing takes about 2 ms.

Each signature gets its own one-entry log (tree size 1), which sigstore accepts: the inclusion
proof is empty and the root hash is the leaf hash. Rekor entries are ``hashedrekord`` 0.0.1 for
plain artifacts and ``dsse`` 0.0.1 for DSSE envelopes, as sigstore-python's verifier expects.

:class:`PlainCertificateAuthority` issues ordinary X.509 chains (no Fulcio extensions) for
model-signing's ``certificate`` method.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OIDC_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der_spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    return hashlib.sha256(_der_spki(key)).digest()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fleetgate-test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(name)
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_EPOCH)
        .not_valid_after(_EPOCH + dt.timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0), True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), False)
    )
    return builder.sign(signing_key, hashes.SHA256())


def _der_utf8(text: str) -> bytes:
    body = text.encode()
    assert len(body) < 128
    return bytes([0x0C, len(body)]) + body


def _der_octet_string(body: bytes) -> bytes:
    if len(body) < 128:
        return bytes([0x04, len(body)]) + body
    length = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(length)]) + length + body


def _san(identity: str) -> x509.GeneralName:
    if "@" in identity and "://" not in identity:
        return x509.RFC822Name(identity)
    return x509.UniformResourceIdentifier(identity)


class PrivateSigstore:
    """One private sigstore trust root under ``tmp`` (see the module docstring)."""

    def __init__(self, tmp: Path, name: str = "private") -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root_cert = _ca_certificate(f"{name} root", self.root_key, None)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate_cert = _ca_certificate(
            f"{name} intermediate", self.intermediate_key, (self.root_cert, self.root_key)
        )
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.origin = f"rekor.{name}.invalid - 1"
        self._log_index = 1000
        self.trusted_root_path = tmp / "trusted_root.json"
        self.trusted_root_path.write_text(json.dumps(self.trusted_root(), indent=1), encoding="utf-8")

    # -- the trust root ------------------------------------------------------------------

    def trusted_root(self) -> dict[str, object]:
        """The trusted root as sigstore protobuf JSON."""

        def log(url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, object]:
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_der_spki(key.public_key())),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": _b64(_key_id(key.public_key()))},
            }

        chain = [self.intermediate_cert, self.root_cert]
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log("https://rekor.invalid", self.rekor_key)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "fleetgate-test", "commonName": "private fulcio"},
                    "uri": "https://fulcio.invalid",
                    "certChain": {
                        "certificates": [
                            {"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))} for c in chain
                        ]
                    },
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                }
            ],
            "ctlogs": [log("https://ctfe.invalid", self.ct_key)],
            "timestampAuthorities": [],
        }

    # -- signing -------------------------------------------------------------------------

    def sign_artifact(
        self, data: bytes, identity: str, issuer: str, *, expired: bool = False, also: tuple[str, ...] = ()
    ) -> bytes:
        """A sigstore bundle (v0.3 JSON) with a message signature over ``data``.

        ``also`` adds more SAN identities to the certificate.
        """
        digest = hashlib.sha256(data).digest()
        key, cert = self.leaf(identity, issuer, expired=expired, also=also)
        signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": _b64(signature), "publicKey": {"content": _b64(_pem(cert))}},
            },
        }
        content = {
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
                "signature": _b64(signature),
            }
        }
        return self._bundle(cert, body, "hashedrekord", content)

    def sign_dsse(
        self,
        payload_type: str,
        payload: bytes,
        identity: str,
        issuer: str,
        *,
        expired: bool = False,
        also: tuple[str, ...] = (),
    ) -> bytes:
        """A sigstore bundle (v0.3 JSON) with a DSSE envelope over ``payload``."""
        key, cert = self.leaf(identity, issuer, expired=expired, also=also)
        pae = f"DSSEv1 {len(payload_type)} {payload_type} {len(payload)} ".encode() + payload
        signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {
            "payload": _b64(payload),
            "payloadType": payload_type,
            "signatures": [{"sig": _b64(signature), "keyid": ""}],
        }
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest(),
                },
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": _b64(signature), "verifier": _b64(_pem(cert))}],
            },
        }
        return self._bundle(cert, body, "dsse", {"dsseEnvelope": envelope})

    def leaf(
        self, identity: str, issuer: str, *, expired: bool = False, also: tuple[str, ...] = ()
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A short-lived Fulcio-style leaf with an embedded SCT; ``expired`` ends it before now."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        start = now - dt.timedelta(minutes=30 if expired else 1)
        end = now - dt.timedelta(minutes=20) if expired else now + dt.timedelta(minutes=10)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()), False
            )
            .add_extension(x509.SubjectAlternativeName([_san(i) for i in (identity, *also)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V1, issuer.encode()), False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V2, _der_utf8(issuer)), False)
        )
        # The SCT signs the precertificate: this same TBS without the SCT extension, which
        # is added last so removing it gives back exactly these bytes.
        precert = builder.sign(self.intermediate_key, hashes.SHA256())
        sct_list = self._sct_list(precert.tbs_certificate_bytes)
        cert = builder.add_extension(
            x509.UnrecognizedExtension(_SCT_LIST, _der_octet_string(sct_list)), False
        ).sign(self.intermediate_key, hashes.SHA256())
        return key, cert

    # -- internals -----------------------------------------------------------------------

    def _sct_list(self, tbs: bytes) -> bytes:
        """A TLS-encoded SignedCertificateTimestampList with one precert SCT (RFC 6962)."""
        timestamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        issuer_key_id = _key_id(self.intermediate_key.public_key())
        signed_entry = issuer_key_id + len(tbs).to_bytes(3, "big") + tbs
        signed = struct.pack("!BBQH", 0, 0, timestamp, 1) + signed_entry + struct.pack("!H", 0)
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            bytes([0])
            + _key_id(self.ct_key.public_key())
            + struct.pack("!QH", timestamp, 0)
            + bytes([4, 3])
            + struct.pack("!H", len(signature))
            + signature
        )
        return struct.pack("!HH", len(sct) + 2, len(sct)) + sct

    def _bundle(
        self, cert: x509.Certificate, body: dict[str, object], kind: str, content: dict[str, object]
    ) -> bytes:
        body_bytes = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        log_id = _key_id(self.rekor_key.public_key())
        self._log_index += 1
        integrated_time = int(dt.datetime.now(dt.UTC).timestamp())
        root_hash = hashlib.sha256(b"\x00" + body_bytes).digest()
        promise = rfc8785.dumps(
            {
                "body": _b64(body_bytes),
                "integratedTime": integrated_time,
                "logID": log_id.hex(),
                "logIndex": self._log_index,
            }
        )
        entry = {
            "logIndex": str(self._log_index),
            "logId": {"keyId": _b64(log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.1"},
            "integratedTime": str(integrated_time),
            "inclusionPromise": {
                "signedEntryTimestamp": _b64(self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256())))
            },
            "inclusionProof": {
                "logIndex": "0",
                "rootHash": _b64(root_hash),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": self._checkpoint(root_hash, log_id)},
            },
            "canonicalizedBody": _b64(body_bytes),
        }
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [entry],
            },
            **content,
        }
        return json.dumps(bundle, indent=1).encode()

    def _checkpoint(self, root_hash: bytes, log_id: bytes) -> str:
        note = f"{self.origin}\n1\n{_b64(root_hash)}\n"
        signature = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        name = self.origin.split(" ")[0]
        return f"{note}\n\u2014 {name} {_b64(log_id[:4] + signature)}\n"


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class PlainCertificateAuthority:
    """A root CA issuing ordinary code-signing leaves, written as PEM files under ``tmp``."""

    def __init__(self, tmp: Path, name: str = "plain") -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = _ca_certificate(f"{name} ca", self.key, None)
        self.root_path = tmp / f"{name}-root.pem"
        self.root_path.write_bytes(_pem(self.cert))

    def issue(self, identity: str, stem: str = "signer") -> tuple[Path, Path]:
        """A leaf for ``identity``: (private key PEM path, certificate PEM path)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(identity))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_EPOCH)
            .not_valid_after(_EPOCH + dt.timedelta(days=365 * 20))
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectAlternativeName([_san(identity)]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False)
            .sign(self.key, hashes.SHA256())
        )
        key_path, cert_path = self.tmp / f"{stem}.key", self.tmp / f"{stem}.pem"
        key_path.write_bytes(write_private_key(key))
        cert_path.write_bytes(_pem(cert))
        return key_path, cert_path


def model_signing_statement(model: Path) -> bytes:
    """The in-toto statement model-signing 1.1 signs for ``model`` (file serialization).

    Built by model-signing's own hashing and payload code, serialized as its sigstore signer
    does, so a DSSE bundle over it is what ``model_signing sign sigstore`` would produce.
    """
    import model_signing
    from google.protobuf import json_format
    from model_signing._signing import signing

    manifest = model_signing.hashing.Config().use_file_serialization().hash(model)
    return json_format.MessageToJson(signing.Payload(manifest).statement.pb).encode("utf-8")


def write_private_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_public_key(key: ec.EllipticCurvePublicKey) -> bytes:
    """``key`` as SubjectPublicKeyInfo PEM."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def keyless_trust_document(identity: str, issuer: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """A trust file: keyless model signing by ``identity`` at ``issuer`` (root in
    ``roots/trusted_root.json``), and the given ``provenance`` section."""
    return {
        "apiVersion": "fleetgate.dev/v1",
        "kind": "TrustConfig",
        "signature": {
            "format": "model-signing",
            "method": "keyless",
            "trustedRoot": "roots/trusted_root.json",
            "identities": {"anyOf": [{"identity": identity, "issuer": issuer}]},
        },
        "provenance": provenance,
    }
