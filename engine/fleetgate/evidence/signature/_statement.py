"""The in-toto statement inside an OpenSSF model signature, checked against the artifact.

A verified DSSE signature only proves who signed *some* statement. This module proves the
statement is about this artifact, in these steps (any failure raises Refused):

1. the payload type is ``application/vnd.in-toto+json`` and the payload is a JSON object;
2. ``_type`` is an in-toto v1 Statement and ``predicateType`` is model signing v1.0;
3. there is exactly one subject, and its sha256 is the sha256 over the resource digests in
   order (model-signing's root digest), so the subject and the resources agree;
4. a single-file artifact: there is exactly one resource, named ``.`` (a file signed on its
   own) or after the artifact's file name, hashed with sha256, with the artifact's digest;
5. a multi-file artifact (external data, a model directory): the resources are exactly its
   files, by name, each with that file's sha256. A file the signature does not cover, a
   resource that is not a file of the artifact, or a file whose bytes differ is refused,
   naming the file.

No other resource may appear: a statement with extra entries is not about this artifact alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from typing import Any

from fleetgate.evidence._kit import Refused
from fleetgate.evidence.interface import Artifact
from fleetgate.evidence.signature._verdict import artifact_names

__all__ = ["IN_TOTO_PAYLOAD_TYPE", "PREDICATE_TYPE", "STATEMENT_TYPE", "check_statement"]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def check_statement(payload_type: str, payload: bytes, artifact: Artifact) -> None:
    """Raise Refused unless the payload is a model signature over exactly ``artifact``."""
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise Refused(f"wrong payload type {payload_type!r} (expected {IN_TOTO_PAYLOAD_TYPE})")
    statement = _json_object(payload)
    if statement.get("_type") != STATEMENT_TYPE:
        raise Refused(f"the payload is not an in-toto v1 statement (_type {statement.get('_type')!r})")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise Refused(
            f"unsupported predicate type {statement.get('predicateType')!r} (expected {PREDICATE_TYPE})"
        )
    subject_digest = _subject_digest(statement.get("subject"))
    resources = _resources(statement.get("predicate"))
    digests = [_resource_digest(resource) for resource in resources]
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for d in digests)).hexdigest()
    if root != subject_digest:
        raise Refused("the statement's subject digest does not match its resources")
    if artifact.files:
        _check_files(resources, digests, artifact)
        return
    if len(resources) != 1:
        raise Refused(
            f"the statement covers {len(resources)} resources; exactly one (the artifact) is accepted"
        )
    _check_name(resources[0], artifact_names(artifact))
    if "sha256:" + digests[0] != artifact.digest:
        raise Refused(f"the signed digest sha256:{digests[0]} is not the artifact's digest {artifact.digest}")


def _check_files(resources: list[dict[str, Any]], digests: list[str], artifact: Artifact) -> None:
    signed = {str(r.get("name")): "sha256:" + d for r, d in zip(resources, digests, strict=True)}
    if len(signed) != len(resources):
        raise Refused("the statement names a resource twice")
    files = {f.name: f.digest for f in artifact.files}
    problems = [
        f"the signature does not cover {name}, a file of the artifact"
        for name in sorted(files.keys() - signed.keys())
    ]
    problems += [
        f"the signature covers {name}, which is not a file of the artifact"
        for name in sorted(signed.keys() - files.keys())
    ]
    problems += [
        f"{name} has digest {files[name]}, not the signed {signed[name]}"
        for name in sorted(files.keys() & signed.keys())
        if files[name] != signed[name]
    ]
    if problems:
        raise Refused("; ".join(problems))


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        raise Refused("the signed payload is not valid JSON") from None
    if not isinstance(value, dict):
        raise Refused("the signed payload is not a JSON object")
    return value


def _subject_digest(subjects: Any) -> str:
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise Refused("the statement must have exactly one subject")
    digests = subjects[0].get("digest")
    value = digests.get("sha256") if isinstance(digests, dict) else None
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Refused("the statement's subject has no sha256 digest")
    return value


def _resources(predicate: Any) -> list[dict[str, Any]]:
    resources = predicate.get("resources") if isinstance(predicate, dict) else None
    if not isinstance(resources, list) or not resources:
        raise Refused("the statement lists no resources")
    if not all(isinstance(resource, dict) for resource in resources):
        raise Refused("the statement's resource is not an object")
    return resources


def _check_name(resource: dict[str, Any], names: Collection[str]) -> None:
    name = resource.get("name")
    if name != "." and name not in names:
        raise Refused(f"the signed resource {name!r} is not the artifact {sorted(names)[0]!r}")


def _resource_digest(resource: dict[str, Any]) -> str:
    if resource.get("algorithm") != "sha256":
        raise Refused(f"the signed resource uses {resource.get('algorithm')!r}, not sha256")
    value = resource.get("digest")
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Refused("the signed resource has no valid sha256 digest")
    return value
