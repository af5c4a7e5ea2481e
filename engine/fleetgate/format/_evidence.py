"""A deployment's evidence as people read it: grouped by how each fact was obtained.

The decision's per-subject summary (:mod:`fleetgate.evidence.summary`) carries each fact's
evidence class. Shown one class per line, a latency timed on the CI runner reads as
``observed`` with "timed on this machine's CPU, not on a device" beside it, never as a
device's latency, and a fact that could not be obtained here says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleetgate.evidence.registry import DECLARED, DERIVED, NOT_ASSESSABLE, OBSERVED, obtained

__all__ = ["evidence_lines"]

# Digest shown as "sha256:" and its first 12 hex digits: enough to tell artifacts apart.
_DIGEST_SHOWN = 19


def evidence_lines(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(class, facts)`` pairs, one per evidence class present, in a fixed order.

    Empty when the summary has no classes (no artifact was reached: a manifest-only check).
    """
    classes = evidence.get("classes")
    if not isinstance(classes, Mapping):
        return []
    reasons = evidence.get("not_assessable")
    reasons = reasons if isinstance(reasons, Mapping) else {}
    lines = []
    for kind in (DERIVED, OBSERVED, DECLARED, NOT_ASSESSABLE):
        names = [name for name, found in classes.items() if found == kind]
        if not names:
            continue
        if kind == NOT_ASSESSABLE:
            shown = [f"{name} ({reasons.get(name, 'no reason given')})" for name in names]
        else:
            shown = [_fact(name, evidence, kind) for name in names]
        lines.append((kind, ", ".join(shown)))
    return lines


def _fact(name: str, evidence: Mapping[str, Any], kind: str) -> str:
    value = _value(name, evidence)
    shown = f"{name} {value}" if value else name
    # What was observed is only as good as where: say it on the line, every time.
    return f"{shown} ({obtained(name).how})" if kind == OBSERVED else shown


def _value(name: str, evidence: Mapping[str, Any]) -> str:
    if name == "artifact":
        return str(evidence.get("artifact", ""))[:_DIGEST_SHOWN]
    if name == "signature":
        signer = evidence.get("signer")
        return f"{evidence.get('signature')} by {signer}" if signer else str(evidence.get("signature", ""))
    if name == "provenance":
        return str(evidence.get("provenance", ""))
    if name == "model" and "quantization" in evidence:
        return f"quantization {evidence['quantization']}"
    if name == "latency" and "latency_p50_ms" in evidence:
        p50 = evidence["latency_p50_ms"]
        return f"p50 {p50:g} ms" if isinstance(p50, int | float) else str(p50)
    if name == "fairness" and "fairness" in evidence:
        return str(evidence["fairness"])
    return ""
