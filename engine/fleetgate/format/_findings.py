"""Every finding of a decision with its deployment and a fingerprint stable across runs.

Code-scanning services (SARIF) and merge-request widgets (GitLab Code Quality) match findings
between runs by fingerprint. It hashes the rule, the deployment (``namespace/name``) and the
manifest field, never the line: an unrelated edit that moves a field up or down must not close
one alert and open an identical new one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from fleetgate.decision import Decision, Finding

__all__ = ["FINGERPRINT_KEY", "Occurrence", "occurrences"]

FINGERPRINT_KEY = "fleetgate/v1"


@dataclass(frozen=True)
class Occurrence:
    """One finding of a decision with the deployment it concerns and its stable fingerprint.

    ``target`` is ``namespace/name``; for a gate-level finding about a waiver it is the
    waiver's target, or ``None`` when no deployment is known.
    """

    finding: Finding
    target: str | None
    fingerprint: str


def occurrences(decision: Decision) -> list[Occurrence]:
    """Every finding of ``decision`` (violations, waived, gate-level) in report order.

    The fingerprint hashes rule, deployment and field (for a finding about a waiver, which has
    no field, its message). Findings of one report that share all three (for example one
    ``evidence.missing`` per missing fact on the same field) are told apart by their message,
    and by their position if even that repeats, so fingerprints are unique within a report.
    """
    located: list[tuple[Finding, str | None]] = [
        (finding, subject.target)
        for subject in decision.subjects
        for finding in (*subject.violations, *subject.waived)
    ]
    waiver_targets = {
        (w.file, w.line): w.target for w in (*decision.waivers.expired, *decision.waivers.unused)
    }
    located += [(f, waiver_targets.get((f.file, f.line))) for f in decision.findings]
    # A finding without a field is about a waiver; its message names the waiver's rule and target.
    keys = [(f.rule, target or f.file, f.field or f.message) for f, target in located]
    shared = Counter(keys)
    with_message = [
        (*key, f.message) if shared[key] > 1 else key for key, (f, _) in zip(keys, located, strict=True)
    ]
    repeats = Counter(with_message)
    seen: Counter[tuple[str, ...]] = Counter()
    out: list[Occurrence] = []
    for key, (finding, target) in zip(with_message, located, strict=True):
        parts = [FINGERPRINT_KEY, *key]
        if repeats[key] > 1:
            parts.append(f"#{seen[key]}")
            seen[key] += 1
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        out.append(Occurrence(finding, target, digest))
    return out
