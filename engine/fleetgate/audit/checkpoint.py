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

import re
from typing import NamedTuple

from fleetgate.audit._keys import (
    SignerKey,
    VerifierKey,
    check_name,
    from_base64,
    is_key_name,
    new_signer_key,
    parse_signer_key,
    parse_verifier_key,
    to_base64,
)
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
    "verifier_key_id",
]

MAX_NOTE_BYTES = 1 << 20
"""Notes larger than this (1 MiB, UTF-8) are refused before any parsing."""

MAX_SIGNATURES = 100
"""Signature lines a note may carry; signed-note requires accepting at least 16."""

_SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
_MAX_TREE_SIZE = 2**64 - 1
_ROOT_BYTES = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
# Any ASCII control character but the newline makes a note malformed (signed-note, "Format").
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(AuditError):
    """A checkpoint or key was refused: malformed, too large, unsigned, forged or for another log."""


class VerifiedCheckpoint(NamedTuple):
    """What a checkpoint commits to, once its signature has verified."""

    origin: str
    size: int
    root: bytes


# --- Keys --------------------------------------------------------------------------------------


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key named ``name``: (signer key string, verifier key string).

    The signer key is secret: whoever has it can sign checkpoints. Raises CheckpointError when
    ``name`` is not a valid key name (empty, or containing a space, a plus sign or a control
    character).
    """
    signer = new_signer_key(name, CheckpointError)
    return signer.text(), signer.verifier.text()


def verifier_key_for(signer_key: str) -> str:
    """The verifier key string that matches ``signer_key``; raises CheckpointError if it is malformed."""
    return _signer(signer_key).verifier.text()


def verifier_key_id(verifier_key: str) -> str:
    """``<name>+<hex key ID>`` of a verifier key string; raises CheckpointError if it is malformed."""
    return parse_verifier_key(verifier_key, "verifier key", CheckpointError).keyid


def _signer(text: str) -> SignerKey:
    return parse_signer_key(text, "signer key", CheckpointError)


# --- Notes -------------------------------------------------------------------------------------


def sign_note(text: str, signer_key: str) -> str:
    """``text`` signed as a C2SP signed note by ``signer_key`` (one signature line).

    ``text`` must end with a newline and contain no control character but newlines. Raises
    CheckpointError for a malformed text or key.
    """
    signer = _signer(signer_key)
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("a note's text must end with a newline")
    _check_note_characters(text)
    key = signer.verifier
    signature = key.key_id + signer.sign(text.encode("utf-8"))
    note = f"{text}\n{_SIGNATURE_PREFIX}{key.name} {to_base64(signature)}\n"
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
    key = parse_verifier_key(verifier_key, "verifier key", CheckpointError)
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
        raise CheckpointError(f"the note is not signed by {key.keyid}")
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
    raw = from_base64(encoded)
    if not is_key_name(name) or raw is None or len(raw) < 5:
        raise CheckpointError("malformed note: a signature line must be '— <key name> <base64 signature>'")
    return name, raw[:4], raw[4:]


def _verify(key: VerifierKey, message: bytes, signature: bytes) -> None:
    if not key.verifies(signature, message):
        raise CheckpointError(f"the signature by {key.name} does not verify: forged or altered note")


# --- Checkpoints -------------------------------------------------------------------------------


def sign_checkpoint(origin: str, size: int, root: bytes, signer_key: str) -> str:
    """The signed checkpoint note committing ``origin``'s first ``size`` records to ``root``.

    ``origin`` names the log; following tlog-checkpoint's advice, fleetgate refuses an origin
    with spaces, '+' or control characters. Raises CheckpointError for a bad origin, a size
    outside 0..2**64-1, a root that is not 32 bytes, or a malformed signer key.
    """
    check_name(origin, "checkpoint origin", CheckpointError)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint size {size!r} is not a tree size")
    if not isinstance(root, bytes) or len(root) != _ROOT_BYTES:
        raise CheckpointError("checkpoint root must be a 32-byte SHA-256 hash")
    return sign_note(f"{origin}\n{size}\n{to_base64(root)}\n", signer_key)


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
    root = from_base64(root_text)
    if root is None or len(root) != _ROOT_BYTES:
        raise CheckpointError("malformed checkpoint: the root is not the base64 of a 32-byte hash")
    if origin is not None and signed_origin != origin:
        raise CheckpointError(f"checkpoint is for log {signed_origin[:200]!r}, expected {origin!r}")
    return VerifiedCheckpoint(signed_origin, int(size_text), root)
