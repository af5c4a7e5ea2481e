"""A CycloneDX 1.6 ML-BOM of one verified artifact (``fleetgate verify --format cyclonedx``).

One component of type ``machine-learning-model``: the artifact's SHA-256 as its hash (each
file's for an artifact of several files), the signature bundle and the in-toto layout it was
verified with as external references, and a model card whose properties carry the format, the
quantization, the digest, the signer and the provenance. Every property ``fleetgate:<name>``
has a sibling ``fleetgate:<name>:evidenceClass`` saying how it was obtained (``derived`` from
the bytes and the trust material, ``declared`` by the manifest, ``not-assessable`` with a
``fleetgate:<name>:reason``), so a reader never takes a claim for a measurement.

Pure: the caller supplies the clock and the serial number; only admitted artifacts get a BOM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetgate.evidence.registry import DECLARED, DERIVED, NOT_ASSESSABLE

__all__ = ["SPEC_VERSION", "ml_bom"]

SPEC_VERSION = "1.6"
_PREFIX = "fleetgate"

# (property, key of the model fact) read from the model; absent keys are left out.
_MODEL_KEYS = (
    ("quantization", "quantization"),
    ("quantizedWeightShare", "quantized_weight_share"),
    ("quantizationMode", "quantization_mode"),
    ("quantizationGranularity", "quantization_granularity"),
    ("minIOSMajor", "min_ios_major"),
)
# (property, key of the manifest's spec) for what the manifest claims.
_DECLARED_KEYS = (
    ("declared:quantization", ("inferenceConfig", "quantization")),
    ("declared:modelUri", ("modelUri",)),
    ("declared:checksum", ("checksum",)),
    ("declared:minOSVersion", ("targetDevices", "minOSVersion")),
)


def ml_bom(
    artifact: Mapping[str, Any],
    facts: Mapping[str, Mapping[str, Any]],
    *,
    declared: Mapping[str, Any] | None,
    tool_version: str,
    timestamp: str,
    serial: str,
) -> dict[str, Any]:
    """The BOM document for ``artifact`` and the facts verified about it.

    ``facts`` holds ``signature``, ``provenance`` and ``model`` when gathered; a fact that
    could not be gathered is ``{"status": "absent", "reason": ...}`` and becomes not-assessable.
    ``declared`` is the manifest that deploys the artifact, when one was named.
    """
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "fleetgate", "version": tool_version}]},
        },
        "components": [_component(artifact, facts, declared)],
    }


def _component(
    artifact: Mapping[str, Any], facts: Mapping[str, Mapping[str, Any]], declared: Mapping[str, Any] | None
) -> dict[str, Any]:
    metadata = _part(declared, "metadata")
    spec = _part(declared, "spec")
    name = metadata.get("name") or str(artifact.get("path", "model")).rsplit("/", 1)[-1]
    component: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": artifact["digest"],
        "name": name,
    }
    if isinstance(spec.get("version"), str):
        component["version"] = spec["version"]
    if isinstance(metadata.get("namespace"), str):
        component["group"] = metadata["namespace"]
    files = artifact.get("files")
    if isinstance(files, Sequence) and files:
        # The artifact's digest is the file-set digest (over the files' digests): not a file
        # hash, so each file is its own component with its own SHA-256.
        component["components"] = [
            {"type": "file", "name": f["name"], "hashes": [_hash(f["digest"])]} for f in files
        ]
    else:
        component["hashes"] = [_hash(artifact["digest"])]
    references = _references(facts)
    if references:
        component["externalReferences"] = references
    component["modelCard"] = {"properties": _properties(artifact, facts, spec)}
    return component


def _properties(
    artifact: Mapping[str, Any], facts: Mapping[str, Mapping[str, Any]], spec: Mapping[str, Any]
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    _add(out, "format", artifact.get("format"), DERIVED)
    _add(out, "digest", artifact.get("digest"), DERIVED)
    _add(out, "size", artifact.get("size"), DERIVED)
    model = _assessed(out, "quantization", facts.get("model"))
    if model is not None:
        for name, key in _MODEL_KEYS:
            _add(out, name, model.get(key), DERIVED)
    signature = _assessed(out, "signature", facts.get("signature"))
    if signature is not None:
        for name in ("status", "signer", "issuer", "method", "format"):
            _add(out, f"signature:{name}", signature.get(name), DERIVED)
    provenance = _assessed(out, "provenance", facts.get("provenance"))
    if provenance is not None:
        _add(out, "provenance:status", provenance.get("status"), DERIVED)
        _add(out, "provenance:kind", provenance.get("kind"), DERIVED)
        steps = provenance.get("steps")
        if isinstance(steps, list) and steps:
            _add(out, "provenance:steps", " -> ".join(str(s) for s in steps), DERIVED)
        _add(out, "provenance:productDigest", provenance.get("product_digest"), DERIVED)
        slsa = _part(provenance, "slsa")
        _add(out, "provenance:slsaBuilder", slsa.get("builder_id"), DERIVED)
        _add(out, "provenance:slsaPredicateType", slsa.get("predicate_type"), DERIVED)
    for name, path in _DECLARED_KEYS:
        _add(out, name, _at(spec, path), DECLARED)
    return out


def _assessed(out: list[dict[str, str]], name: str, fact: Any) -> Mapping[str, Any] | None:
    """``fact`` when it holds a value; otherwise ``name`` is recorded as not-assessable with why."""
    if isinstance(fact, Mapping) and "error" not in fact and fact.get("status") != "absent":
        return fact
    why = (fact.get("error") or fact.get("reason")) if isinstance(fact, Mapping) else None
    out.append(_property(f"{name}:evidenceClass", NOT_ASSESSABLE))
    out.append(_property(f"{name}:reason", str(why or "not gathered")))
    return None


def _references(facts: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The verified signature bundle and in-toto layout, each with its SHA-256."""
    references: list[dict[str, Any]] = []
    signature = facts.get("signature") or {}
    if signature.get("status") == "verified" and isinstance(signature.get("bundle"), str):
        comment = f"{signature.get('format')} signature, verified: signed by {signature.get('signer')}"
        references.append(
            _reference("digital-signature", signature["bundle"], comment, signature.get("bundle_digest"))
        )
    provenance = facts.get("provenance") or {}
    if provenance.get("status") == "verified" and isinstance(provenance.get("layout"), str):
        steps = " -> ".join(str(s) for s in provenance.get("steps") or [])
        product = provenance.get("product_digest")
        comment = f"in-toto layout, verified (steps {steps}; final product {product})"
        references.append(
            _reference("attestation", provenance["layout"], comment, provenance.get("layout_digest"))
        )
    return references


def _reference(kind: str, url: str, comment: str, digest: Any) -> dict[str, Any]:
    reference: dict[str, Any] = {"type": kind, "url": url, "comment": comment}
    if isinstance(digest, str):
        reference["hashes"] = [_hash(digest)]
    return reference


def _add(out: list[dict[str, str]], name: str, value: Any, evidence_class: str) -> None:
    if value is None or value == "":
        return
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    out.append(_property(name, shown))
    out.append(_property(f"{name}:evidenceClass", evidence_class))


def _property(name: str, value: str) -> dict[str, str]:
    return {"name": f"{_PREFIX}:{name}", "value": value}


def _hash(digest: str) -> dict[str, str]:
    # Every digest fleetgate records is "sha256:<64 lowercase hex>".
    return {"alg": "SHA-256", "content": digest.removeprefix("sha256:")}


def _part(document: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = document.get(key) if isinstance(document, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _at(document: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value
