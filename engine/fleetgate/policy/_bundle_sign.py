"""OPA's bundle signatures: ``.signatures.json`` holds one JWT (RS256 or ES256) whose payload
lists every file of the bundle with its SHA-256.

Hashes follow OPA (``bundle/hash.go``): ``.manifest`` and ``data.json`` are hashed as their JSON
value walked with sorted keys and no spaces (numbers as written, strings as Go encodes them
without HTML escaping), any other file as its bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
from collections.abc import Mapping
from typing import Any

from fleetgate.errors import PolicyError

__all__ = ["STRUCTURED", "canonical_json", "file_hash", "sign_files", "verify_files"]

STRUCTURED = (".manifest", "data.json")
"""The bundle files OPA hashes as JSON values rather than bytes."""


class _Number(str):
    """A JSON number kept as written: OPA hashes the literal, not a re-formatted float."""


def canonical_json(value: Any) -> bytes:
    return _walk(value).encode("utf-8")


def file_hash(name: str, raw: bytes) -> str:
    if posixpath.basename(name) in STRUCTURED:
        try:
            value = json.loads(raw, parse_int=_Number, parse_float=_Number, parse_constant=_refuse)
        except ValueError:
            raise PolicyError(f"bundle file {name} is not JSON") from None
        raw = canonical_json(value)
    return hashlib.sha256(raw).hexdigest()


def _walk(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(k)}:{_walk(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_walk(v) for v in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value, allow_nan=False)  # booleans, null, numbers built in Python


def _string(text: str) -> str:
    # Go's encoder with HTML escaping off: like Python's, except that it escapes U+2028/U+2029.
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _need_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise PolicyError(
            "signed bundles need the cryptography package: pip install 'fleetgate[audit]'"
        ) from None


def sign_files(files: Mapping[str, bytes], key_pem: bytes, key_id: str) -> bytes:
    """``.signatures.json`` for ``files``, signed with a PEM RSA or P-256 private key."""
    _need_cryptography()
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"the bundle signing key is not an unencrypted PEM private key: {exc}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        alg = "ES256"
    else:
        raise PolicyError("the bundle signing key must be RSA (RS256) or EC P-256 (ES256)")
    payload = {
        "files": [
            {"name": name, "hash": file_hash(name, raw), "algorithm": "SHA-256"}
            for name, raw in sorted(files.items())
        ],
        "keyid": key_id,
    }
    signing_input = f"{_b64(canonical_json({'alg': alg, 'kid': key_id}))}.{_b64(canonical_json(payload))}"
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    token = f"{signing_input}.{_b64(signature)}"
    return canonical_json({"signatures": [token]})


def verify_files(files: Mapping[str, bytes], signatures: bytes, key_pem: bytes) -> str:
    """The signer's key id, once the one JWT verifies with ``key_pem`` and names exactly ``files``
    with their hashes; :class:`PolicyError` naming what failed otherwise."""
    _need_cryptography()
    header, payload, signing_input, signature = _token(signatures)
    _verify_signature(header, signing_input, signature, key_pem)
    listed = payload.get("files")
    if not isinstance(listed, list) or not all(isinstance(f, dict) for f in listed):
        raise PolicyError("bundle signature: the payload has no file list")
    named: dict[str, str] = {}
    for entry in listed:
        name, digest = entry.get("name"), entry.get("hash")
        if not isinstance(name, str) or not isinstance(digest, str) or name in named:
            raise PolicyError(f"bundle signature: a malformed or repeated file entry {str(entry)[:100]}")
        if entry.get("algorithm", "SHA-256") != "SHA-256":
            raise PolicyError(
                f"bundle signature: {name} is hashed with {entry.get('algorithm')}, not SHA-256"
            )
        named[name.lstrip("/")] = digest
    for name in sorted(set(named) - set(files)):
        raise PolicyError(f"bundle signature names {name}, which is not in the bundle")
    for name in sorted(set(files) - set(named)):
        raise PolicyError(f"bundle file {name} is not covered by the signature")
    for name, raw in sorted(files.items()):
        if file_hash(name, raw) != named[name]:
            raise PolicyError(f"bundle file {name} does not match its signed hash")
    keyid = payload.get("keyid", header.get("kid", ""))
    return str(keyid)


def _token(signatures: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        document = json.loads(signatures)
        [token] = document["signatures"]
        head, body, sig = str(token).split(".")
        header, payload = json.loads(_unb64(head)), json.loads(_unb64(body))
        signature = _unb64(sig)
    except (ValueError, KeyError, TypeError):
        raise PolicyError("bundle .signatures.json must hold exactly one well-formed JWT") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise PolicyError("bundle .signatures.json must hold exactly one well-formed JWT")
    return header, payload, f"{head}.{body}".encode(), signature


def _verify_signature(
    header: Mapping[str, Any], signing_input: bytes, signature: bytes, key_pem: bytes
) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        key = serialization.load_pem_public_key(key_pem)
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"the bundle key is not a PEM public key: {exc}") from None
    alg = header.get("alg")
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            raise PolicyError(
                f"bundle signature: algorithm {alg!r} does not fit the bundle key (RS256 or ES256)"
            )
    except InvalidSignature:
        raise PolicyError("bundle signature does not verify with the bundle key") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
