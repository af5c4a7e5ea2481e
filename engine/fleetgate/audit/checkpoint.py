"""Signed checkpoints of the decision log: C2SP tlog-checkpoints carried in C2SP signed notes.

A checkpoint commits to the log's first ``size`` records through their Merkle root::

    <origin>
    <size>
    <base64 root>

    — <key name> <base64(4-byte key ID || Ed25519 signature of the three lines above)>

The keys are the strings of the Go ``note`` package (used by the Go checksum database and the
transparency-dev tools), so a checkpoint signed here verifies with those tools and back:

- verifier key: ``<name>+<hex key ID>+<base64(0x01 || 32-byte public key)>``
- signer key:   ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte private seed)>``

with key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4].

Opening a note follows c2sp.org/signed-note: signatures by other keys are ignored (they may be
witnesses' cosignatures), a failing signature by the trusted key rejects the whole note, and
the text is read only after a signature by the trusted key has verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from fleetgate.audit.store.interface import AuditError

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "CheckpointError",
    "VerifiedCheckpoint",
    "generate_key",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
    "sign_note",
    "verifier_key_for",
]

MAX_NOTE_BYTES = 1 << 20
"""Notes larger than this (1 MiB, UTF-8) are refused before any parsing."""

MAX_SIGNATURES = 100
"""Signature lines a note may carry; signed-note requires accepting at least 16."""

_ED25519 = 0x01  # signed-note's signature type byte for Ed25519
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
_MAX_TREE_SIZE = 2**64 - 1
_ROOT_BYTES = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
# Any ASCII control character but the newline makes a note malformed (signed-note, "Format").
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(AuditError):
    """A checkpoint or key was refused: malformed, too large, unsigned, forged or for another log."""


class VerifiedCheckpoint(NamedTuple):
    """What a checkpoint commits to, once its signature has verified."""

    origin: str
    size: int
    root: bytes


@dataclass(frozen=True)
class _PublicKey:
    name: str
    key_id: bytes
    public: bytes

    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([_ED25519]) + self.public)}"


# --- Keys --------------------------------------------------------------------------------------


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key named ``name``: (signer key string, verifier key string).

    The signer key is secret: whoever has it can sign checkpoints. Raises CheckpointError when
    ``name`` is not a valid key name (empty, or containing a space, a plus sign or a control
    character).
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_name(name, "key name")
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    key_id = _key_id(name, public)
    signer = f"{_PRIVATE_PREFIX}{name}+{key_id.hex()}+{_b64(bytes([_ED25519]) + private.private_bytes_raw())}"
    return signer, _PublicKey(name, key_id, public).text()


def verifier_key_for(signer_key: str) -> str:
    """The verifier key string that matches ``signer_key``; raises CheckpointError if it is malformed."""
    name, key_id, seed = _parse_signer_key(signer_key)
    return _PublicKey(name, key_id, _public_from_seed(seed)).text()


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([_ED25519]) + public).digest()[:4]


def _public_from_seed(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _parse_verifier_key(text: str) -> _PublicKey:
    name, key_id, key = _key_parts(text, "verifier key")
    public = key[1:]
    if _key_id(name, public) != key_id:
        raise CheckpointError(f"verifier key {name}: its key ID does not match its name and key")
    return _PublicKey(name, key_id, public)


def _parse_signer_key(text: str) -> tuple[str, bytes, bytes]:
    if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
        raise CheckpointError("signer key: expected PRIVATE+KEY+<name>+<key ID>+<key>")
    name, key_id, key = _key_parts(text[len(_PRIVATE_PREFIX) :], "signer key")
    seed = key[1:]
    # The key ID names the public key, so a signer key whose ID does not fit its seed would
    # sign notes that no holder of the matching verifier key could open.
    if _key_id(name, _public_from_seed(seed)) != key_id:
        raise CheckpointError(f"signer key {name}: its key ID does not match its name and key")
    return name, key_id, seed


def _key_parts(text: str, what: str) -> tuple[str, bytes, bytes]:
    """(name, key ID, type byte + 32 key bytes) of ``<name>+<hex ID>+<base64>``; never echoes key bytes."""
    parts = text.split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3:
        raise CheckpointError(f"{what}: expected <name>+<key ID>+<key>")
    name, id_hex, encoded = parts
    _check_name(name, what)
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise CheckpointError(f"{what} {name}: the key ID must be 8 lowercase hex digits")
    key = _unb64(encoded)
    if key is None or len(key) != 33 or key[0] != _ED25519:
        raise CheckpointError(f"{what} {name}: not an Ed25519 key (type 0x01 and 32 bytes, in base64)")
    return name, bytes.fromhex(id_hex), key


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError(f"{what} must not be empty")
    if not _is_name(name):
        raise CheckpointError(f"{what} {name[:200]!r} must not contain spaces, '+' or control characters")


def _is_name(name: str) -> bool:
    """signed-note's key name rule (non-empty, no Unicode space, no '+'), and no control character."""
    return bool(name) and _is_utf8(name) and not any(c.isspace() or c == "+" or c < " " for c in name)


# --- Notes -------------------------------------------------------------------------------------


def sign_note(text: str, signer_key: str) -> str:
    """``text`` signed as a C2SP signed note by ``signer_key`` (one signature line).

    ``text`` must end with a newline and contain no control character but newlines. Raises
    CheckpointError for a malformed text or key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    name, key_id, seed = _parse_signer_key(signer_key)
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("a note's text must end with a newline")
    _check_note_characters(text)
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(text.encode("utf-8"))
    note = f"{text}\n{_SIGNATURE_PREFIX}{name} {_b64(key_id + signature)}\n"
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise CheckpointError(f"the signed note would exceed {MAX_NOTE_BYTES} bytes")
    return note


def open_note(note_text: str, verifier_key: str) -> str:
    """The text of ``note_text`` once a signature by ``verifier_key`` on it has verified.

    Steps, each raising CheckpointError:

    1. the verifier key parses and its key ID matches its name and public key;
    2. the note is at most MAX_NOTE_BYTES of UTF-8 with no control character but newlines;
    3. it splits at its last blank line into a text ending in a newline and one to
       MAX_SIGNATURES well-formed signature lines, the last one ending in a newline;
    4. every signature line by the trusted key (same name and key ID) verifies, and there is
       at least one; lines by other keys are ignored, as signed-note requires.
    """
    key = _parse_verifier_key(verifier_key)
    _check_note_characters(note_text)
    split = note_text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line before the signatures")
    text, signatures = note_text[: split + 1], note_text[split + 2 :]
    if not signatures.endswith("\n"):
        raise CheckpointError("malformed note: the signature lines must end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signed = [_parse_signature_line(line) for line in lines]
    trusted = [signature for name, key_id, signature in signed if (name, key_id) == (key.name, key.key_id)]
    if not trusted:
        raise CheckpointError(f"the note is not signed by {key.name}+{key.key_id.hex()}")
    for signature in trusted:
        _verify(key, text.encode("utf-8"), signature)
    return text


def _check_note_characters(note_text: str) -> None:
    if not isinstance(note_text, str):
        raise CheckpointError("a note must be text")
    # Counting characters first keeps a hostile multi-gigabyte string from being encoded.
    if len(note_text) > MAX_NOTE_BYTES:
        raise CheckpointError(f"malformed note: larger than {MAX_NOTE_BYTES} bytes")
    try:
        encoded_size = len(note_text.encode("utf-8"))
    except UnicodeEncodeError:
        raise CheckpointError("malformed note: not valid UTF-8") from None
    if encoded_size > MAX_NOTE_BYTES:
        raise CheckpointError(f"malformed note: larger than {MAX_NOTE_BYTES} bytes")
    found = _CONTROL.search(note_text)
    if found:
        raise CheckpointError(f"malformed note: control character U+{ord(found.group()):04X}")


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    """(key name, key ID, signature) of ``— <name> <base64>``."""
    if not line.startswith(_SIGNATURE_PREFIX):
        raise CheckpointError("malformed note: a signature line must start with '— '")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    raw = _unb64(encoded)
    if not _is_name(name) or raw is None or len(raw) < 5:
        raise CheckpointError("malformed note: a signature line must be '— <key name> <base64 signature>'")
    return name, raw[:4], raw[4:]


def _verify(key: _PublicKey, message: bytes, signature: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(key.public).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise CheckpointError(
            f"the signature by {key.name} does not verify: forged or altered note"
        ) from None


# --- Checkpoints -------------------------------------------------------------------------------


def sign_checkpoint(origin: str, size: int, root: bytes, signer_key: str) -> str:
    """The signed checkpoint note committing ``origin``'s first ``size`` records to ``root``.

    ``origin`` names the log; following tlog-checkpoint's advice, fleetgate refuses an origin
    with spaces, '+' or control characters. Raises CheckpointError for a bad origin, a size
    outside 0..2**64-1, a root that is not 32 bytes, or a malformed signer key.
    """
    _check_name(origin, "checkpoint origin")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint size {size!r} is not a tree size")
    if not isinstance(root, bytes) or len(root) != _ROOT_BYTES:
        raise CheckpointError("checkpoint root must be a 32-byte SHA-256 hash")
    return sign_note(f"{origin}\n{size}\n{_b64(root)}\n", signer_key)


def open_checkpoint(note_text: str, verifier_key: str, origin: str | None = None) -> VerifiedCheckpoint:
    """The origin, size and root of a checkpoint signed by ``verifier_key``.

    Steps, each raising CheckpointError:

    1. :func:`open_note` verifies the note (size bounds, format, the trusted signature);
    2. its text has at least three non-empty lines: origin, size in decimal without leading
       zeros (at most 2**64-1), and the base64 of a 32-byte root in canonical form; any further
       lines are tlog-checkpoint extension lines, signed but not interpreted;
    3. when ``origin`` is given, the checkpoint's origin is exactly it.
    """
    lines = open_note(note_text, verifier_key)[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise CheckpointError("malformed checkpoint: expected non-empty origin, size and root lines")
    signed_origin, size_text, root_text = lines[:3]
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_TREE_SIZE:
        raise CheckpointError(f"malformed checkpoint: tree size {size_text[:40]!r}")
    root = _unb64(root_text)
    if root is None or len(root) != _ROOT_BYTES:
        raise CheckpointError("malformed checkpoint: the root is not the base64 of a 32-byte hash")
    if origin is not None and signed_origin != origin:
        raise CheckpointError(f"checkpoint is for log {signed_origin[:200]!r}, expected {origin!r}")
    return VerifiedCheckpoint(signed_origin, int(size_text), root)


# --- Encoding helpers --------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4, padded), or None.

    Only the canonical spelling is accepted, so every value has exactly one text form.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _is_utf8(text: str) -> bool:
    # A str holding lone surrogates (from a lax decode) has no UTF-8 form.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
