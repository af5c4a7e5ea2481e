"""The in-toto statement inside an OpenSSF model signature, checked against the artifact's digest.

A verified DSSE signature only proves who signed *some* statement. This module proves the
statement is about this file, in these steps (any failure raises Refused):

1. the payload type is ``application/vnd.in-toto+json`` and the payload is a JSON object;
2. ``_type`` is an in-toto v1 Statement and ``predicateType`` is model signing v1.0;
3. there is exactly one subject, and its sha256 is the sha256 over the resource digests in
   order (model-signing's root digest), so the subject and the resources agree;
4. there is exactly one resource, named ``.`` (a single file signed on its own) or after the
   artifact's file name, hashed with sha256, and its digest is the artifact's digest.

No other resource may appear: a statement over a folder says nothing about which of its files
is the deployed one, and a statement with extra entries is not about this artifact alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from typing import Any

from fleetgate.evidence._kit import Refused

__all__ = ["IN_TOTO_PAYLOAD_TYPE", "PREDICATE_TYPE", "STATEMENT_TYPE", "check_statement"]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def check_statement(payload_type: str, payload: bytes, digest: str, names: Collection[str]) -> None:
    """Raise Refused unless the payload is a model signature over exactly this artifact.

    ``digest`` is the artifact's ``"sha256:<hex>"``; ``names`` are the file names the single
    resource may carry besides ``"."``.
    """
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
    resource = _single_resource(statement.get("predicate"))
    resource_digest = _resource_digest(resource, names)
    root = hashlib.sha256(bytes.fromhex(resource_digest)).hexdigest()
    if root != subject_digest:
        raise Refused("the statement's subject digest does not match its resources")
    if "sha256:" + resource_digest != digest:
        raise Refused(f"the signed digest sha256:{resource_digest} is not the artifact's digest {digest}")


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


def _single_resource(predicate: Any) -> dict[str, Any]:
    resources = predicate.get("resources") if isinstance(predicate, dict) else None
    if not isinstance(resources, list) or not resources:
        raise Refused("the statement lists no resources")
    if len(resources) != 1:
        raise Refused(
            f"the statement covers {len(resources)} resources; exactly one (the artifact) is accepted"
        )
    if not isinstance(resources[0], dict):
        raise Refused("the statement's resource is not an object")
    return resources[0]


def _resource_digest(resource: dict[str, Any], names: Collection[str]) -> str:
    name = resource.get("name")
    if name != "." and name not in names:
        raise Refused(f"the signed resource {name!r} is not the artifact {sorted(names)[0]!r}")
    if resource.get("algorithm") != "sha256":
        raise Refused(f"the signed resource uses {resource.get('algorithm')!r}, not sha256")
    value = resource.get("digest")
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Refused("the signed resource has no valid sha256 digest")
    return value
