"""DSSE v1 envelopes of the gate's receipts: sealing, reading and opening them with one trusted key.

An envelope is the JSON object ``{"payloadType", "payload", "signatures": [{"keyid", "sig"}]}``
with a base64 payload, each signature an Ed25519 signature over PAE(payloadType, payload).
Opening reads nothing of the payload before a signature by the trusted key has verified; the
keyids are unsigned hints, so every signature is tried against that key.

The functions serve :mod:`fleetgate.audit.receipt`: they raise the ``error`` class it passes, and
their messages speak of receipts.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fleetgate.audit._keys import SignerKey, VerifierKey, to_base64

if TYPE_CHECKING:
    from fleetgate.audit.store.interface import AuditError

MAX_ENVELOPE_BYTES = 1 << 20
_MAX_SIGNATURES = 16
_URLSAFE = str.maketrans("-_", "+/")


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: the exact bytes a receipt's signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def seal(payload_type: str, body: bytes, signer: SignerKey, error: type[AuditError]) -> dict[str, Any]:
    """The envelope of ``body`` signed by ``signer``; raises ``error`` if it would be too large to open."""
    payload = to_base64(body)
    signature = to_base64(signer.sign(pae(payload_type, body)))
    # The same bound opening applies: never issue an envelope that would be refused.
    if len(payload) + len(signature) > MAX_ENVELOPE_BYTES:
        raise error("the receipt is too large to sign (over 1 MiB once encoded)")
    return {
        "payloadType": payload_type,
        "payload": payload,
        "signatures": [{"keyid": signer.verifier.keyid, "sig": signature}],
    }


def open_envelope(
    envelope: object, payload_type: str, verifier: VerifierKey, error: type[AuditError]
) -> bytes:
    """The payload of ``envelope`` once every step holds, else ``error``.

    1. The envelope is a DSSE JSON envelope (at most 1 MiB) whose payloadType is
       ``payload_type``, with a base64 payload and base64 signatures (standard or URL-safe,
       padded or not, as DSSE verifiers must accept).
    2. One signature is a valid Ed25519 signature by ``verifier`` over PAE(payloadType, payload).
    """
    body, signatures = _envelope_parts(envelope, payload_type, error)
    message = pae(payload_type, body)
    if not any(verifier.verifies(signature, message) for signature in signatures):
        raise error(f"no signature on the receipt verifies with the key {verifier.keyid}")
    return body


def encode_json(document: object) -> bytes:
    """``document`` as compact UTF-8 JSON with sorted keys (TypeError, ValueError if it is not JSON)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def decode_json(text: str) -> Any:
    """The JSON value of ``text``, refusing duplicate keys and NaN or infinities (ValueError)."""
    return _DECODER.decode(text)


def read_envelopes(data: bytes, error: type[AuditError]) -> list[object]:
    """The JSON values of a receipt file: one per line, or pretty-printed, separated by whitespace."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error("the receipt file is not UTF-8 text") from None
    documents: list[object] = []
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position == len(text):
            return documents
        try:
            document, position = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError):
            raise error(f"receipt {len(documents) + 1} is not JSON") from None
        documents.append(document)


def _envelope_parts(
    envelope: object, payload_type: str, error: type[AuditError]
) -> tuple[bytes, list[bytes]]:
    """Step 1: the payload bytes and the signatures of a well-formed, bounded envelope."""
    if not isinstance(envelope, Mapping):
        raise error("the receipt is not a DSSE envelope (a JSON object)")
    payload, signatures = envelope.get("payload"), envelope.get("signatures")
    if envelope.get("payloadType") != payload_type:
        raise error(f"the receipt's payloadType is not {payload_type}")
    if not isinstance(payload, str) or not isinstance(signatures, list) or not signatures:
        raise error("the receipt needs a payload string and a list of signatures")
    if len(signatures) > _MAX_SIGNATURES:
        raise error(f"the receipt has more than {_MAX_SIGNATURES} signatures")
    encoded = [s.get("sig") if isinstance(s, Mapping) else None for s in signatures]
    if not all(isinstance(s, str) for s in encoded):
        raise error("every signature of the receipt needs a sig string")
    if len(payload) + sum(len(s) for s in encoded if isinstance(s, str)) > MAX_ENVELOPE_BYTES:
        raise error("the receipt is over 1 MiB")
    body = _from_any_base64(payload)
    decoded = [_from_any_base64(s) for s in encoded if isinstance(s, str)]
    if body is None or any(s is None for s in decoded):
        raise error("the receipt's payload or a signature is not base64")
    return body, [s for s in decoded if s is not None]


def _from_any_base64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not (DSSE verifiers must accept both); None if invalid."""
    if not text.isascii():
        return None
    text = text.translate(_URLSAFE)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a duplicated key: refuse the ambiguity.
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_strict_object, parse_constant=_no_constant)
