"""The gate's Ed25519 key strings, as the Go ``note`` package writes them: the one parser of them.

Checkpoints and receipts are signed with the same keys:

- verifier key: ``<name>+<hex key ID>+<base64(0x01 || 32-byte public key)>``
- signer key:   ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte private seed)>``

with key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4], written as 8 lowercase hex
digits, and the key in canonical standard base64. A name follows signed-note (non-empty, no
Unicode space, no '+') and has no control character either.

Every function that can refuse raises the ``error`` class its caller passes, so that a bad key
surfaces as the caller's own error; ``what`` names the key in the message, which never echoes
key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    from fleetgate.audit.store.interface import AuditError

_ED25519 = 0x01  # signed-note's signature type byte for Ed25519
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class VerifierKey:
    """A verifier key whose key ID has been checked against its name and public key."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey

    @property
    def keyid(self) -> str:
        """``<name>+<hex key ID>``: how signatures refer to this key."""
        return f"{self.name}+{self.key_id.hex()}"

    def text(self) -> str:
        """The verifier key string."""
        return f"{self.keyid}+{to_base64(bytes([_ED25519]) + self.public.public_bytes_raw())}"

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        from cryptography.exceptions import InvalidSignature

        try:
            self.public.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """A signer key whose key ID has been checked, with the verifier key it matches."""

    private: Ed25519PrivateKey = field(repr=False)
    verifier: VerifierKey

    def text(self) -> str:
        """The signer key string (secret: whoever has it can sign)."""
        seed = self.private.private_bytes_raw()
        return f"{_PRIVATE_PREFIX}{self.verifier.keyid}+{to_base64(bytes([_ED25519]) + seed)}"

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return self.private.sign(message)


def new_signer_key(name: str, error: type[AuditError]) -> SignerKey:
    """A new random Ed25519 key named ``name``; raises ``error`` when the name is not a key name."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    check_name(name, "key name", error)
    return _signer(name, Ed25519PrivateKey.generate())


def parse_signer_key(text: str, what: str, error: type[AuditError]) -> SignerKey:
    """The signer key of ``PRIVATE+KEY+<name>+<hex key ID>+<base64>``; raises ``error`` if malformed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
        raise error(f"{what}: expected PRIVATE+KEY+<name>+<key ID>+<key>")
    name, key_id, seed = _key_parts(text[len(_PRIVATE_PREFIX) :], what, error)
    signer = _signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    # The key ID names the public key, so a signer key whose ID does not fit its seed would
    # sign what no holder of the matching verifier key could verify.
    _check_key_id(signer.verifier, key_id, what, error)
    return signer


def parse_verifier_key(text: str, what: str, error: type[AuditError]) -> VerifierKey:
    """The verifier key of ``<name>+<hex key ID>+<base64>``; raises ``error`` if malformed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if isinstance(text, str) and text.startswith(_PRIVATE_PREFIX):
        # Never echo it: this is the secret half, given where the public half belongs.
        raise error(
            f"{what}: this is a private signer key; give its verifier key instead "
            "(`fleetgate audit keygen` prints it and writes it to KEY.pub)"
        )
    name, key_id, public = _key_parts(text, what, error)
    verifier = VerifierKey(name, _key_id(name, public), Ed25519PublicKey.from_public_bytes(public))
    _check_key_id(verifier, key_id, what, error)
    return verifier


def check_name(name: str, what: str, error: type[AuditError]) -> None:
    """Raise ``error`` unless ``name`` is a key name (see :func:`is_key_name`)."""
    if not isinstance(name, str) or not name:
        raise error(f"{what} must not be empty")
    if not is_key_name(name):
        raise error(f"{what} {name[:200]!r} must not contain spaces, '+' or control characters")


def is_key_name(name: str) -> bool:
    """signed-note's key name rule (non-empty, no Unicode space, no '+'), and no control character."""
    return bool(name) and _is_utf8(name) and not any(c.isspace() or c == "+" or c < " " for c in name)


def to_base64(raw: bytes) -> str:
    """Standard base64, padded."""
    return base64.b64encode(raw).decode("ascii")


def from_base64(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4, padded), or None.

    Only the canonical spelling is accepted, so every value has exactly one text form.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if to_base64(raw) == text else None


def _signer(name: str, private: Ed25519PrivateKey) -> SignerKey:
    public = private.public_key()
    return SignerKey(private, VerifierKey(name, _key_id(name, public.public_bytes_raw()), public))


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([_ED25519]) + public).digest()[:4]


def _check_key_id(key: VerifierKey, written: bytes, what: str, error: type[AuditError]) -> None:
    if key.key_id != written:
        raise error(f"{what} {key.name}: its key ID does not match its name and key")


def _key_parts(text: str, what: str, error: type[AuditError]) -> tuple[str, bytes, bytes]:
    """(name, key ID, 32 key bytes) of ``<name>+<hex ID>+<base64(0x01 || key)>``."""
    # The base64 key may itself contain "+": split off the name and key ID only.
    parts = text.split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3:
        raise error(f"{what}: expected <name>+<key ID>+<key>")
    name, id_hex, encoded = parts
    check_name(name, what, error)
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise error(f"{what} {name}: the key ID must be 8 lowercase hex digits")
    key = from_base64(encoded)
    if key is None or len(key) != 33 or key[0] != _ED25519:
        raise error(f"{what} {name}: not an Ed25519 key (type 0x01 and 32 bytes, in base64)")
    return name, bytes.fromhex(id_hex), key[1:]


def _is_utf8(text: str) -> bool:
    # A str holding lone surrogates (from a lax decode) has no UTF-8 form.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
