"""The short account of the evidence a decision shows per subject (the full facts go to the log).

Pure: it reads facts and returns a flat mapping of strings and numbers, for example
``{"artifact": "sha256:...", "signature": "verified", "signer": "release@example.com",
"provenance": "failed", "quantization": "int8", "latency_p50_ms": 3.2}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
