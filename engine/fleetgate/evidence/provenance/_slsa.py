"""SLSA provenance v1: an in-toto Statement about the artifact, signed by a trusted builder.

Import lazily (from inside ``collect``): it imports securesystemslib at top level, and
sigstore when a keyless bundle is met.

The steps, in order:

1. read the statement file next to the artifact (size-capped, no symlinks; missing: absent);
2. by content, a sigstore bundle (``mediaType``) is verified keylessly against the pinned
   trusted root and identities; a DSSE envelope (``payloadType``) against the trusted keys;
3. the envelope's payloadType must be ``application/vnd.in-toto+json`` and the payload an
   in-toto Statement v1;
4. a subject must carry the artifact's sha256 digest.

The predicate type and builder id are reported, not judged: the policy decides which builders
and predicate types it allows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from securesystemslib.dsse import Envelope

from fleetgate.evidence._kit import Refused, one_line
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.provenance._config import SlsaTrust, locate, read_evidence
from fleetgate.evidence.provenance._keys import load_public_key
from fleetgate.evidence.provenance._outcome import ABSENT, VERIFIED, Outcome, failed

__all__ = ["IN_TOTO_PAYLOAD_TYPE", "STATEMENT_V1", "verify_statement"]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle"


def verify_statement(trust: SlsaTrust, artifact: Artifact, root: Path, max_bytes: int) -> Outcome:
    """Verify the SLSA statement for ``artifact``; a failed or absent Outcome says what and where."""
    try:
        path = locate(trust.statement, artifact, root)
        data = read_evidence(path, max_bytes)
    except FileNotFoundError:
        return Outcome(ABSENT, f"no SLSA statement at {trust.statement} for {artifact.path.name}")
    except Refused as exc:
        return failed(exc.reason)
    try:
        payload_type, payload, signer = _verified_envelope(trust, data, path.name, max_bytes)
        statement = _statement(payload_type, payload, path.name)
        slsa = _slsa_details(statement, signer, artifact, path.name)
    except Refused as exc:
        return failed(exc.reason)
    slsa["statement_digest"] = "sha256:" + hashlib.sha256(data).hexdigest()
    return Outcome(VERIFIED, None, {"slsa": slsa})


def _verified_envelope(trust: SlsaTrust, data: bytes, name: str, max_bytes: int) -> tuple[str, bytes, str]:
    """(payloadType, payload, signer) of the envelope whose signature verified."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise Refused(f"statement {name}: malformed JSON") from None
    if not isinstance(document, dict):
        raise Refused(f"statement {name}: not a DSSE envelope or sigstore bundle")
    if str(document.get("mediaType", "")).startswith(_BUNDLE_MEDIA_TYPE):
        return _verified_bundle(trust, data, name, max_bytes)
    if {"payload", "payloadType", "signatures"} <= document.keys():
        return _verified_dsse(trust, document, name)
    raise Refused(f"statement {name}: not a DSSE envelope or sigstore bundle")


def _verified_bundle(trust: SlsaTrust, data: bytes, name: str, max_bytes: int) -> tuple[str, bytes, str]:
    if trust.trusted_root is None or trust.identities is None:
        raise Refused(f"statement {name}: a sigstore bundle, but the trust file has no slsa.trustedRoot")
    # sigstore is imported only when a keyless statement is actually met.
    from fleetgate.evidence._sigstore import verify_dsse_bundle

    try:
        verified = verify_dsse_bundle(data, trust.trusted_root, trust.identities, max_bytes)
    except Refused as exc:
        raise Refused(f"statement {name}: {exc.reason}") from None
    return verified.payload_type, verified.payload, verified.signer


def _verified_dsse(trust: SlsaTrust, document: dict[str, Any], name: str) -> tuple[str, bytes, str]:
    if not trust.public_keys:
        raise Refused(f"statement {name}: a DSSE envelope, but the trust file has no slsa.publicKeys")
    keys = [load_public_key(path) for path in trust.public_keys]
    try:
        envelope = Envelope.from_dict(document)
    except Exception as exc:  # KeyError, base64, FormatError, ValueError: a malformed envelope
        raise Refused(f"statement {name}: malformed DSSE envelope ({type(exc).__name__})") from None
    try:
        accepted = envelope.verify(keys, threshold=1)
    except Exception:  # VerificationError and any odd signature encoding: not signed by a trusted key
        signed_by = ", ".join(sorted(envelope.signatures)) or "nobody"
        reason = f"no valid signature by a trusted key (signed by {signed_by})"
        raise Refused(f"statement {name}: {reason}") from None
    return envelope.payload_type, envelope.payload, next(iter(accepted))


def _statement(payload_type: str, payload: bytes, name: str) -> Mapping[str, Any]:
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        shown = one_line(payload_type)
        raise Refused(f"statement {name}: payloadType {shown!r} is not {IN_TOTO_PAYLOAD_TYPE}")
    try:
        statement = json.loads(payload)
    except (ValueError, RecursionError):
        raise Refused(f"statement {name}: the payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_V1:
        kind = statement.get("_type") if isinstance(statement, dict) else None
        raise Refused(f"statement {name}: payload _type {one_line(kind)!r} is not {STATEMENT_V1}")
    return statement


def _slsa_details(statement: Mapping[str, Any], signer: str, artifact: Artifact, name: str) -> dict[str, Any]:
    """The reported fields, once a subject is found with the artifact's digest."""
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise Refused(f"statement {name}: has no subject list")
    wanted = artifact.digest.removeprefix("sha256:")
    digests = [
        str(s["digest"].get("sha256", "")).lower()
        for s in subjects
        if isinstance(s, dict) and isinstance(s.get("digest"), dict)
    ]
    if wanted not in digests:
        # A multi-file artifact may also be named file by file, one subject per file.
        missing = [f.name for f in artifact.files if f.digest.removeprefix("sha256:") not in digests]
        if not artifact.files or missing:
            what = (
                f"the digest of {missing[0]}, a file of the artifact" if missing else "the artifact's digest"
            )
            raise Refused(f"statement {name}: no subject has {what} {artifact.digest}")
    predicate_type = statement.get("predicateType")
    return {
        "predicate_type": predicate_type if isinstance(predicate_type, str) else "",
        "builder_id": _builder_id(statement.get("predicate")),
        "signer": signer,
        "subject_digest": artifact.digest,
    }


def _builder_id(predicate: Any) -> str:
    # SLSA provenance v1 keeps it at predicate.runDetails.builder.id; "" when absent, so a policy
    # that allow-lists builders denies rather than crashing on a missing key.
    value: Any = predicate
    for key in ("runDetails", "builder", "id"):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""
