"""The short account of the evidence a decision shows per subject (the full facts go to the log).

Pure: it reads facts and returns a flat mapping of strings and numbers, for example
``{"artifact": "sha256:...", "signature": "verified", "signer": "release@example.com",
"provenance": "failed", "quantization": "int8", "latency_p50_ms": 3.2,
"classes": {"artifact": "derived", ..., "latency": "observed", "fairness": "not-assessable"},
"not_assessable": {"fairness": "Core ML runs only on Apple platforms"}}``.

``classes`` says how each gathered fact was obtained (:func:`fleetgate.evidence.registry.evidence_class`),
so a reader tells a latency timed on the CI runner from one measured on a device; a fact whose
collector failed has no class. ``not_assessable`` gives the reason of each fact that could not be
obtained here (absent with a reason), which the policies treat as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence.registry import FACTS, NOT_ASSESSABLE, evidence_class
from fleetgate.inputs import ABSENT

__all__ = ["summarize"]


def summarize(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Summary of ``facts``; empty when no artifact was reached (a manifest-only check)."""
    if "artifact" not in facts:
        return {}
    out: dict[str, Any] = {}
    artifact = facts["artifact"]
    out["artifact"] = _artifact(artifact)
    for name in ("signature", "provenance"):
        fact = facts.get(name)
        out[name] = _status(fact)
    signature = facts.get("signature")
    if isinstance(signature, Mapping) and _status(signature) == "verified":
        out["signer"] = signature.get("signer")
    # The exact trust material the verdicts relied on (sha256 of the trust file and pinned root).
    for name, key in (("trust_config", "trust_config"), ("trusted_root", "trusted_root")):
        digests = {
            f.get(key) for f in (facts.get("signature"), facts.get("provenance")) if isinstance(f, Mapping)
        }
        digests.discard(None)
        if len(digests) == 1:
            out[name] = digests.pop()
    model = facts.get("model")
    if isinstance(model, Mapping):
        out["quantization"] = _measured(model, model.get("quantization"))
    latency = facts.get("latency")
    if isinstance(latency, Mapping):
        out["latency_p50_ms"] = _measured(latency, latency.get("p50_ms"))
    fairness = facts.get("fairness")
    if isinstance(fairness, Mapping):
        out["fairness"] = _fairness(fairness)
    out.update(_classes(facts))
    return out


def _classes(facts: Mapping[str, Any]) -> dict[str, Any]:
    classes: dict[str, str] = {}
    reasons: dict[str, str] = {}
    # Facts the evidence stage could not gather here, with why (no trust file, for example).
    unreached = facts.get(ABSENT)
    for name, why in unreached.items() if isinstance(unreached, Mapping) else ():
        if name in FACTS and name not in facts:
            classes[name], reasons[name] = NOT_ASSESSABLE, str(why)
    for name in FACTS:
        fact = facts.get(name)
        found = evidence_class(name, fact)
        if found is None:
            continue
        classes[name] = found
        if found == NOT_ASSESSABLE and isinstance(fact, Mapping):
            reasons[name] = str(fact.get("reason") or "no reason given")
    out: dict[str, Any] = {"classes": {name: classes[name] for name in FACTS if name in classes}}
    if reasons:
        out["not_assessable"] = {name: reasons[name] for name in FACTS if name in reasons}
    return out


def _status(fact: Any) -> str:
    if not isinstance(fact, Mapping):
        return "absent"
    if "error" in fact:
        return "failed"
    status = fact.get("status")
    return status if status in ("verified", "failed", "absent") else "failed"


def _measured(fact: Mapping[str, Any], value: Any) -> Any:
    if "error" in fact:
        return "error"
    return "absent" if fact.get("status") == "absent" else value


def _fairness(fact: Mapping[str, Any]) -> str:
    if "error" in fact:
        return "error"
    if fact.get("status") == "absent":
        return "absent"
    return "insufficient" if fact.get("insufficient") else "measured"


def _artifact(fact: Any) -> str:
    """The digest, or what stopped it: ``missing`` (no such file in the repository) or ``error``."""
    if not isinstance(fact, Mapping):
        return "error"
    return "missing" if fact.get("missing") is True else str(fact.get("digest", "error"))
