"""The decision as the review formats show it: denies first, missing evidence folded.

A deployment whose artifact was not reachable gets one ``evidence.missing`` finding per fact
(artifact, signature, provenance, model, latency, fairness). Listed one by one they bury the
denies: GitHub's ten warning annotations per step, the job summary and the code-scanning and
merge-request widgets would all be about evidence. The review formats (github, the job
summary, SARIF, GitLab) show them as one finding per deployment and severity, located where
the first one was, whose message keeps every original message; ``--format json`` lists each.

When evidence gathering is off (``--evidence none``, or ``evidence.collect: []``) every
deployment misses every fact by choice: the warnings are left out and the formats say once that
evidence was off. A missing fact that denies (at pre-deploy) is never left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fleetgate.decision import Decision, Finding, Subject
from fleetgate.format.interface import Report

__all__ = ["MISSING_EVIDENCE", "Shown", "evidence_off_note", "is_missing_evidence", "shown"]

MISSING_EVIDENCE = "evidence.missing"


def is_missing_evidence(rule: str) -> bool:
    """``evidence.missing``, or a per-fact rule under it (``evidence.missing.<fact>``)."""
    return rule == MISSING_EVIDENCE or rule.startswith(f"{MISSING_EVIDENCE}.")


@dataclass(frozen=True)
class Shown:
    """The decision to render, and how many missing-evidence warnings were left out."""

    decision: Decision
    hidden: int = 0


def shown(report: Report, fold: bool = True) -> Shown:
    """Every deployment's violations with denies first and (unless not ``fold``) missing evidence
    folded; the text format folds repeated warnings its own way.

    The verdict does not change: folding keeps a deny when there was one.
    """
    hidden = 0
    subjects: list[Subject] = []
    for subject in report.decision.subjects:
        violations = list(subject.violations)
        if report.evidence_off:
            kept = [f for f in violations if not (is_missing_evidence(f.rule) and f.severity == "warn")]
            hidden += len(violations) - len(kept)
            violations = kept
        denies = [f for f in violations if f.severity == "deny"]
        others = [f for f in violations if f.severity != "deny"]
        folded = (*_fold(denies), *_fold(others)) if fold else (*denies, *others)
        subjects.append(replace(subject, violations=folded))
    return Shown(replace(report.decision, subjects=tuple(subjects)), hidden)


def evidence_off_note(hidden: int) -> str:
    """The one line that replaces ``hidden`` warnings about facts nobody asked for."""
    return (
        f"Evidence gathering is off: {hidden} evidence.missing "
        f"warning{'' if hidden == 1 else 's'} not shown (--format json lists them)."
    )


def _fold(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` in order, the missing-evidence ones as one at the place of the first."""
    missing = [f for f in findings if is_missing_evidence(f.rule)]
    if len(missing) < 2:
        return list(findings)
    first = missing[0]
    rules = {f.rule for f in missing}
    # One line per fact: annotations, the summary's cells and the widgets show each on its own line.
    message = f"{len(missing)} pieces of evidence are missing:" + "".join(f"\n- {f.message}" for f in missing)
    merged = replace(first, rule=first.rule if len(rules) == 1 else MISSING_EVIDENCE, message=message)
    return [merged if f is first else f for f in findings if f is first or not is_missing_evidence(f.rule)]
