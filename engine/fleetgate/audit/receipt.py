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

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fleetgate import __version__
from fleetgate.audit._dsse import (
    MAX_ENVELOPE_BYTES,
    decode_json,
    encode_json,
    open_envelope,
    pae,
    read_envelopes,
    seal,
)
from fleetgate.audit._keys import parse_signer_key, parse_verifier_key
from fleetgate.audit.record import canonical
from fleetgate.audit.store.interface import AuditError
from fleetgate.decision import Decision, Subject
from fleetgate.policy.interface import EngineInfo, PolicyRevision

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
    "manifest_digest",
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
_MAX_FILE_BYTES = 64 << 20
# The gate does not evaluate the SLSA build track of a model, so it claims no level: VSA v1 reserves
# SLSA_<TRACK>_LEVEL_UNEVALUATED for "no claim about the track level", and "FAILED" for a failed policy.
_NO_LEVEL_CLAIMED = "SLSA_BUILD_LEVEL_UNEVALUATED"
_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")


class ReceiptError(AuditError):
    """A receipt could not be issued, or does not verify."""


def build_receipt(
    decision: Decision,
    subject_index: int,
    verifier_id: str,
    policy_uri: str,
    input_attestations: Sequence[Mapping[str, Any]] = (),
    dependency_levels: Mapping[str, int] | None = None,
    engine: EngineInfo | None = None,
    revision: PolicyRevision | None = None,
) -> dict[str, Any]:
    """The unsigned in-toto Statement (VSA predicate) for one deployment of ``decision``. Pure.

    ``engine`` and ``revision`` are the run's own; without them (a decision read back from the
    log) they are taken from the decision document.
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
    passed = subject.allowed
    predicate: dict[str, Any] = {
        "verifier": {"id": verifier_id, "version": _versions(engine or EngineInfo.of_label(decision.engine))},
        "timeVerified": decision.timestamp,
        "resourceUri": uri,
        "policy": {
            "uri": policy_uri,
            "digest": {"sha256": _policy_digest(revision or PolicyRevision(decision.policy_revision))},
        },
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
    signer = parse_signer_key(_trimmed(signer_key), "receipt signing key", ReceiptError)
    try:
        body = encode_json(statement)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ReceiptError(f"the receipt is not a JSON document: {exc}") from None
    return seal(PAYLOAD_TYPE, body, signer, ReceiptError)


def issue_receipts(
    decision: Decision,
    signer_key: str,
    verifier_id: str = DEFAULT_VERIFIER_ID,
    policy_uri: str = DEFAULT_POLICY_URI,
    engine: EngineInfo | None = None,
    revision: PolicyRevision | None = None,
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
        statement = build_receipt(decision, index, verifier_id, policy_uri, engine=engine, revision=revision)
        envelope = sign_receipt(statement, signer_key)
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
    verifier = parse_verifier_key(_trimmed(verifier_key), "receipt verifier key", ReceiptError)
    wanted = _expected(expected_digest)
    statement = _statement(open_envelope(envelope, PAYLOAD_TYPE, verifier, ReceiptError))
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
    for number, envelope in enumerate(read_envelopes(data, ReceiptError), 1):
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


def manifest_digest(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of a manifest document's RFC 8785 canonical JSON: its formatting, comments
    and neighbours in the file do not count, every value does (a rollout percentage included)."""
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def _fleetgate_facts(decision: Decision, subject: Subject, source: str) -> dict[str, Any]:
    manifest = (subject.policy_input or {}).get("manifest")
    return {
        "decision_id": decision.decision_id,
        "stage": decision.stage,
        **subject.describe(),
        "manifestDigest": manifest_digest(manifest) if isinstance(manifest, Mapping) else None,
        "digestSource": source,
        "denied": sorted({f.rule for f in subject.violations if f.severity == "deny"}),
        "waived": sorted({f.rule for f in subject.waived}),
    }


def _versions(engine: EngineInfo) -> dict[str, str]:
    versions = {"fleetgate": __version__}
    if engine.name and engine.version:
        versions[engine.name] = engine.version
    return versions


def _policy_digest(revision: PolicyRevision) -> str:
    found = _SHA256.fullmatch(revision.digest)
    if found is None:
        raise ReceiptError(f"the policy revision {revision.digest!r} is not a sha256 digest")
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


# -- verifying --------------------------------------------------------------------------------


def _trimmed(key: str) -> str:
    # Key strings are often read from files: a trailing newline is not part of the key.
    return key.strip() if isinstance(key, str) else key


def _statement(body: bytes) -> dict[str, Any]:
    """Step 3: the signed payload is an in-toto Statement v1 carrying a VSA v1 predicate."""
    try:
        statement = decode_json(body.decode("utf-8"))
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
