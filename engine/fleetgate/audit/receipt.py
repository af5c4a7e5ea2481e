"""Signed decision receipts: what a deploy system checks before it ships a model.

At the pre-deploy stage the gate can issue, per deployment, an in-toto Statement v1 whose
subject is the model artifact (its sha256 digest) and whose predicate is a SLSA Verification
Summary Attestation v1 (VSA): which verifier decided, when, under which policy revision, and
whether the deployment PASSED or FAILED. The statement travels in a DSSE envelope signed with
the gate's Ed25519 key, in the same key string format as the decision log's checkpoints.

Verification returns the verified statement, never a bool, and reads the payload only after
its signature checked out; any failure is a :class:`ReceiptError` with a one-line message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetgate import __version__
from fleetgate.audit.store.interface import AuditError
from fleetgate.decision import Decision, Subject

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DEFAULT_POLICY_URI",
    "DEFAULT_VERIFIER_ID",
    "FLEETGATE_FIELD",
    "MAX_ENVELOPE_BYTES",
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "VSA_PREDICATE_TYPE",
    "ReceiptError",
    "admitted",
    "build_receipt",
    "describe",
    "issue_receipts",
    "pae",
    "read_receipts",
    "sign_receipt",
    "verify_receipt",
    "verify_receipts",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
# VSA extension fields must be named by URIs; fleetgate's own facts about the decision live here.
FLEETGATE_FIELD = "https://fleetgate.dev/receipt/v1"
DEFAULT_VERIFIER_ID = "https://fleetgate.dev/verifier"
DEFAULT_POLICY_URI = "https://fleetgate.dev/policy-library"
MAX_ENVELOPE_BYTES = 1 << 20
_MAX_FILE_BYTES = 64 << 20
_MAX_SIGNATURES = 16
# The gate does not evaluate the SLSA build track of a model, so it claims no level: VSA v1 reserves
# SLSA_<TRACK>_LEVEL_UNEVALUATED for "no claim about the track level", and "FAILED" for a failed policy.
_NO_LEVEL_CLAIMED = "SLSA_BUILD_LEVEL_UNEVALUATED"
_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")
_KEY_HASH = re.compile(r"[0-9a-fA-F]{8}")
_URLSAFE = str.maketrans("-_", "+/")


class ReceiptError(AuditError):
    """A receipt could not be issued, or does not verify."""


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: the exact bytes a receipt's signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


def build_receipt(
    decision: Decision,
    subject_index: int,
    verifier_id: str,
    policy_uri: str,
    input_attestations: Sequence[Mapping[str, Any]] = (),
    dependency_levels: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The unsigned in-toto Statement (VSA predicate) for one deployment of ``decision``. Pure.

    ``dependencyLevels`` is written only when ``dependency_levels`` is given: VSA v1 reads an
    empty object as "the artifact has no dependency at all", a claim the gate cannot make.
    """
    if not 0 <= subject_index < len(decision.subjects):
        raise ReceiptError(f"no subject {subject_index} in decision {decision.decision_id}")
    if decision.stage != "pre-deploy":
        raise ReceiptError(f"receipts are issued at the pre-deploy stage, not {decision.stage}")
    subject = decision.subjects[subject_index]
    if subject.change == "deleted":
        raise ReceiptError(f"{subject.target} is deleted: there is no artifact to issue a receipt for")
    artifact = _artifact(subject)
    if artifact is None:
        raise ReceiptError(f"{subject.target}: no modelUri and sha256 artifact digest to name in a receipt")
    uri, digest, source = artifact
    passed = subject.allowed and not decision.errors
    predicate: dict[str, Any] = {
        "verifier": {"id": verifier_id, "version": _versions(decision.engine)},
        "timeVerified": decision.timestamp,
        "resourceUri": uri,
        "policy": {"uri": policy_uri, "digest": {"sha256": _policy_digest(decision.policy_revision)}},
        "inputAttestations": [_descriptor(a) for a in input_attestations],
        "verificationResult": "PASSED" if passed else "FAILED",
        "verifiedLevels": [_NO_LEVEL_CLAIMED] if passed else ["FAILED"],
        "slsaVersion": "1.0",
        FLEETGATE_FIELD: _fleetgate_facts(decision, subject, source),
    }
    if dependency_levels is not None:
        predicate["dependencyLevels"] = _levels(dependency_levels)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": uri, "digest": {"sha256": digest}}],
        "predicateType": VSA_PREDICATE_TYPE,
        "predicate": predicate,
    }


def sign_receipt(statement: Mapping[str, Any], signer_key: str) -> dict[str, Any]:
    """A DSSE envelope of ``statement`` signed (Ed25519, over PAE) with ``signer_key``."""
    keyid, private = _signer(signer_key)
    try:
        text = json.dumps(
            statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        body = text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ReceiptError(f"the receipt is not a JSON document: {exc}") from None
    payload = base64.b64encode(body).decode("ascii")
    signature = base64.b64encode(private.sign(pae(PAYLOAD_TYPE, body))).decode("ascii")
    # The same bound verify_receipt applies: never issue a receipt that would be refused.
    if len(payload) + len(signature) > MAX_ENVELOPE_BYTES:
        raise ReceiptError("the receipt is too large to sign (over 1 MiB once encoded)")
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": payload,
        "signatures": [{"keyid": keyid, "sig": signature}],
    }


def issue_receipts(
    decision: Decision,
    signer_key: str,
    verifier_id: str = DEFAULT_VERIFIER_ID,
    policy_uri: str = DEFAULT_POLICY_URI,
) -> str:
    """Signed receipts for the deployments of ``decision``, one JSON envelope per line.

    A deletion deploys nothing and gets no receipt. A denied deployment that names no sha256
    artifact has nothing a receipt could be matched on and is skipped (its deny is in the
    decision); an admitted one raises, since a deploy system would find no receipt for it.
    """
    if decision.stage != "pre-deploy":
        raise ReceiptError(f"receipts are issued at the pre-deploy stage, not {decision.stage}")
    lines = []
    for index, subject in enumerate(decision.subjects):
        if subject.change == "deleted" or (_artifact(subject) is None and not subject.allowed):
            continue
        envelope = sign_receipt(build_receipt(decision, index, verifier_id, policy_uri), signer_key)
        lines.append(json.dumps(envelope, separators=(",", ":")) + "\n")
    return "".join(lines)


def verify_receipt(envelope: object, verifier_key: str, expected_digest: str | None = None) -> dict[str, Any]:
    """The in-toto Statement of ``envelope`` (a parsed DSSE JSON envelope), once every step holds.

    1. The envelope is a DSSE JSON envelope (at most 1 MiB) whose payloadType is
       ``application/vnd.in-toto+json``, with a base64 payload and base64 signatures.
    2. One signature is a valid Ed25519 signature by ``verifier_key`` over
       PAE(payloadType, payload). Nothing in the payload is read before this step.
    3. The payload is an in-toto Statement v1 (with subjects that have digests) whose
       predicateType is the SLSA Verification Summary v1 and whose predicate has its required
       fields with their JSON types.
    4. When ``expected_digest`` (``sha256:<hex>``) is given, a subject has that digest.

    Raises :class:`ReceiptError` when a step fails, whatever the input.
    """
    keyid, public = _verifier(verifier_key)
    wanted = _expected(expected_digest)
    body, signatures = _envelope_parts(envelope)
    _check_signature(public, keyid, body, signatures)
    statement = _statement(body)
    if wanted is not None and not _names(statement, wanted):
        raise ReceiptError(f"the receipt is not about {expected_digest}: no subject has that digest")
    return statement


def verify_receipts(
    data: bytes, verifier_key: str, expected_digest: str | None = None
) -> list[dict[str, Any]]:
    """The verified statements of a receipt file (envelopes one per line, or one pretty-printed).

    Every envelope must verify: a file with one forged receipt is refused whole. With
    ``expected_digest`` only the statements about that artifact are returned; none is an error.
    """
    if len(data) > _MAX_FILE_BYTES:
        raise ReceiptError("the receipt file is over 64 MiB")
    wanted = _expected(expected_digest)
    statements = []
    for number, envelope in enumerate(_documents(data), 1):
        try:
            statements.append(verify_receipt(envelope, verifier_key))
        except ReceiptError as exc:
            raise ReceiptError(f"receipt {number}: {exc.message}") from None
    if not statements:
        raise ReceiptError("no receipt found")
    if wanted is None:
        return statements
    chosen = [s for s in statements if _names(s, wanted)]
    if not chosen:
        raise ReceiptError(f"no receipt is about {expected_digest}")
    return chosen


def read_receipts(path: Path, verifier_key: str, expected_digest: str | None = None) -> list[dict[str, Any]]:
    """:func:`verify_receipts` of the file at ``path`` (read with a size bound)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ReceiptError(f"{path}: cannot read the receipt: {exc.strerror}") from None
    return verify_receipts(data, verifier_key, expected_digest)


def admitted(statement: Mapping[str, Any]) -> bool:
    """Whether a verified receipt says the deployment passed the gate."""
    predicate = statement.get("predicate")
    return isinstance(predicate, Mapping) and predicate.get("verificationResult") == "PASSED"


def describe(statement: Mapping[str, Any]) -> str:
    """One line about a verified receipt: result, artifact, deployment, decision, verifier."""
    predicate = statement["predicate"]
    digests = ",".join(f"{alg}:{value}" for s in statement["subject"] for alg, value in s["digest"].items())
    facts = predicate.get(FLEETGATE_FIELD)
    facts = facts if isinstance(facts, Mapping) else {}
    target = f"{facts.get('namespace')}/{facts.get('name')}" if "namespace" in facts else "-"
    return (
        f"{predicate['verificationResult']}  {digests}  {predicate['resourceUri']}  {target}  "
        f"decision {facts.get('decision_id', '-')} at {predicate.get('timeVerified', '-')} "
        f"by {predicate['verifier']['id']}"
    )


# -- building ---------------------------------------------------------------------------------


def _artifact(subject: Subject) -> tuple[str, str, str] | None:
    """(modelUri, sha256 hex, "measured" | "declared"), or None when the artifact has no name or digest.

    The measured digest wins: it is what the gate looked at. A measured value that is not a
    sha256 digest is not replaced by the declared one, which could then name another file.
    """
    manifest = (subject.policy_input or {}).get("manifest")
    spec = manifest.get("spec") if isinstance(manifest, Mapping) else None
    spec = spec if isinstance(spec, Mapping) else {}
    uri = spec.get("modelUri")
    if not isinstance(uri, str) or not uri:
        return None
    measured = subject.evidence.get("artifact")
    source, value = ("measured", measured) if measured is not None else ("declared", spec.get("checksum"))
    found = _SHA256.fullmatch(value) if isinstance(value, str) else None
    return (uri, found.group(1), source) if found else None


def _fleetgate_facts(decision: Decision, subject: Subject, source: str) -> dict[str, Any]:
    return {
        "decision_id": decision.decision_id,
        "stage": decision.stage,
        "namespace": subject.namespace,
        "name": subject.name,
        "file": subject.file,
        "change": subject.change,
        "modelId": subject.model_id,
        "version": subject.version,
        "digestSource": source,
        "denied": sorted({f.rule for f in subject.violations if f.severity == "deny"}),
        "waived": sorted({f.rule for f in subject.waived}),
    }


def _versions(engine: str) -> dict[str, str]:
    name, _, version = engine.partition(" ")
    versions = {"fleetgate": __version__}
    if name and version:
        versions[name] = version
    return versions


def _policy_digest(revision: str) -> str:
    found = _SHA256.fullmatch(revision)
    if found is None:
        raise ReceiptError(f"the policy revision {revision!r} is not a sha256 digest")
    return found.group(1)


def _descriptor(attestation: Mapping[str, Any]) -> dict[str, Any]:
    uri, digest = attestation.get("uri"), attestation.get("digest")
    if not isinstance(uri, str) or not isinstance(digest, Mapping) or not _digest_set(digest):
        raise ReceiptError("an input attestation needs a uri and a digest set")
    return {"uri": uri, "digest": dict(digest)}


def _levels(levels: Mapping[str, int]) -> dict[str, int]:
    if not all(isinstance(k, str) and _count(v) for k, v in levels.items()):
        raise ReceiptError("dependencyLevels maps SLSA level names to counts of dependencies")
    return dict(levels)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _digest_set(value: object) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    )


# -- keys -------------------------------------------------------------------------------------


def _signer(text: str) -> tuple[str, Ed25519PrivateKey]:
    """A ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`` signer key and its keyid."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    text = text.strip() if isinstance(text, str) else ""
    if not text.startswith("PRIVATE+KEY+"):
        raise ReceiptError("the receipt signing key is not a PRIVATE+KEY+<name>+<hash>+<key> string")
    name, key_hash, seed = _key_parts(text[len("PRIVATE+KEY+") :], "receipt signing key")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _keyid(name, key_hash, public, "receipt signing key"), private


def _verifier(text: str) -> tuple[str, Ed25519PublicKey]:
    """A ``<name>+<hash>+<base64(0x01 || public key)>`` verifier key and its keyid."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, key_hash, raw = _key_parts(text.strip() if isinstance(text, str) else "", "receipt verifier key")
    keyid = _keyid(name, key_hash, raw, "receipt verifier key")
    try:
        return keyid, Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ReceiptError("the receipt verifier key is not an Ed25519 public key") from None


def _key_parts(text: str, what: str) -> tuple[str, str, bytes]:
    # The base64 key may itself contain "+": split off the name and hash only.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise ReceiptError(f"the {what} is not a <name>+<hash>+<key> string")
    name, key_hash, encoded = parts
    if (
        not name
        or not name.isprintable()
        or any(c.isspace() for c in name)
        or not _KEY_HASH.fullmatch(key_hash)
    ):
        raise ReceiptError(f"the {what} has a malformed name or hash")
    raw = _unbase64(encoded)
    if raw is None or len(raw) != 33 or raw[0] != 0x01:
        raise ReceiptError(f"the {what} is not an Ed25519 key (type 0x01, 32 bytes)")
    return name, key_hash.lower(), raw[1:]


def _keyid(name: str, key_hash: str, public: bytes, what: str) -> str:
    """``<name>+<hash>``, once the hash is checked: SHA-256(name || LF || 0x01 || key)[:4]."""
    expected = hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public).digest()[:4].hex()
    if key_hash != expected:
        raise ReceiptError(f"the {what} hash {key_hash} does not match its key")
    return f"{name}+{key_hash}"


# -- verifying --------------------------------------------------------------------------------


def _unbase64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not (DSSE verifiers must accept both); None if invalid."""
    if not text.isascii():
        return None
    text = text.translate(_URLSAFE)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _envelope_parts(envelope: object) -> tuple[bytes, list[bytes]]:
    """Step 1: the payload bytes and the signatures of a well-formed, bounded envelope."""
    if not isinstance(envelope, Mapping):
        raise ReceiptError("the receipt is not a DSSE envelope (a JSON object)")
    payload_type, payload = envelope.get("payloadType"), envelope.get("payload")
    signatures = envelope.get("signatures")
    if payload_type != PAYLOAD_TYPE:
        raise ReceiptError(f"the receipt's payloadType is not {PAYLOAD_TYPE}")
    if not isinstance(payload, str) or not isinstance(signatures, list) or not signatures:
        raise ReceiptError("the receipt needs a payload string and a list of signatures")
    if len(signatures) > _MAX_SIGNATURES:
        raise ReceiptError(f"the receipt has more than {_MAX_SIGNATURES} signatures")
    encoded = [s.get("sig") if isinstance(s, Mapping) else None for s in signatures]
    if not all(isinstance(s, str) for s in encoded):
        raise ReceiptError("every signature of the receipt needs a sig string")
    if len(payload) + sum(len(s) for s in encoded if isinstance(s, str)) > MAX_ENVELOPE_BYTES:
        raise ReceiptError("the receipt is over 1 MiB")
    body = _unbase64(payload)
    decoded = [_unbase64(s) for s in encoded if isinstance(s, str)]
    if body is None or any(s is None for s in decoded):
        raise ReceiptError("the receipt's payload or a signature is not base64")
    return body, [s for s in decoded if s is not None]


def _check_signature(public: Ed25519PublicKey, keyid: str, body: bytes, signatures: list[bytes]) -> None:
    """Step 2. keyids are unsigned hints, so every signature is tried against the trusted key."""
    from cryptography.exceptions import InvalidSignature

    message = pae(PAYLOAD_TYPE, body)
    for signature in signatures:
        try:
            public.verify(signature, message)
            return
        except InvalidSignature:
            continue
    raise ReceiptError(f"no signature on the receipt verifies with the key {keyid}")


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a duplicated key: refuse the ambiguity.
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_strict_object, parse_constant=_no_constant)


def _statement(body: bytes) -> dict[str, Any]:
    """Step 3: the signed payload is an in-toto Statement v1 carrying a VSA v1 predicate."""
    try:
        statement = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise ReceiptError("the receipt's payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise ReceiptError(f"the receipt's payload is not an in-toto Statement ({STATEMENT_TYPE})")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise ReceiptError("the receipt's statement has no subject")
    for subject in subjects:
        if not isinstance(subject, dict) or not _digest_set(subject.get("digest")):
            raise ReceiptError("a subject of the receipt has no digest set")
        if not isinstance(subject.get("name", ""), str):
            raise ReceiptError("a subject of the receipt has a name that is not a string")
    if statement.get("predicateType") != VSA_PREDICATE_TYPE:
        raise ReceiptError(f"the receipt's predicateType is not {VSA_PREDICATE_TYPE}")
    _check_predicate(statement.get("predicate"))
    return statement


def _check_predicate(predicate: object) -> None:
    if not isinstance(predicate, dict):
        raise ReceiptError("the receipt has no verification summary predicate")
    verifier, policy = predicate.get("verifier"), predicate.get("policy")
    levels, dependencies = predicate.get("verifiedLevels"), predicate.get("dependencyLevels")
    problems = [
        ("verifier.id", isinstance(verifier, dict) and isinstance(verifier.get("id"), str)),
        ("resourceUri", isinstance(predicate.get("resourceUri"), str)),
        ("policy.uri", isinstance(policy, dict) and isinstance(policy.get("uri"), str)),
        ("verificationResult", predicate.get("verificationResult") in ("PASSED", "FAILED")),
        ("verifiedLevels", isinstance(levels, list) and all(isinstance(v, str) for v in levels)),
        ("timeVerified", isinstance(predicate.get("timeVerified", ""), str)),
        ("inputAttestations", isinstance(predicate.get("inputAttestations", []), list)),
        (
            "dependencyLevels",
            dependencies is None
            or (isinstance(dependencies, dict) and all(_count(v) for v in dependencies.values())),
        ),
    ]
    bad = [name for name, ok in problems if not ok]
    if bad:
        raise ReceiptError(f"the receipt's predicate has a missing or mistyped {bad[0]}")


def _expected(digest: str | None) -> str | None:
    if digest is None:
        return None
    found = _SHA256.fullmatch(digest) if isinstance(digest, str) else None
    if found is None:
        raise ReceiptError(f"expected digest {digest!r} is not sha256:<64 lowercase hex>")
    return found.group(1)


def _names(statement: Mapping[str, Any], sha256: str) -> bool:
    return any(s["digest"].get("sha256") == sha256 for s in statement["subject"])


def _documents(data: bytes) -> list[object]:
    """The JSON values of a receipt file: one per line, or pretty-printed, separated by whitespace."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReceiptError("the receipt file is not UTF-8 text") from None
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
            raise ReceiptError(f"receipt {len(documents) + 1} is not JSON") from None
        documents.append(document)
