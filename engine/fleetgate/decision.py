"""Decide stage: located findings + waivers -> one admission decision. Pure: no I/O.

The decision admits exactly when every subject is allowed; a subject is allowed when it has no
deny left after waivers. Warnings never block. Deleted deployments are recorded and admitted:
un-deploying is always allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from fleetgate.changes import ManifestChange
from fleetgate.waivers import Waiver, WaiverOutcome, settle_waivers

__all__ = [
    "API_VERSION",
    "Decision",
    "DecisionHeader",
    "Evaluation",
    "Finding",
    "Severity",
    "Subject",
    "decide",
    "rfc3339",
]

API_VERSION = "fleetgate.dev/v1"
Severity = Literal["deny", "warn"]


@dataclass(frozen=True)
class Finding:
    """A rule's verdict about one field, located at ``file:line``."""

    rule: str
    severity: Severity
    message: str
    file: str
    line: int
    field: str = ""
    waiver: Waiver | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
        }
        if self.waiver is not None:
            out["waiver"] = self.waiver.to_json()
        return out


@dataclass(frozen=True)
class Evaluation:
    """What the gate learned about one change before waivers."""

    change: ManifestChange
    findings: tuple[Finding, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    policy_input: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Subject:
    file: str
    namespace: str
    name: str
    change: str
    model_id: str | None
    version: str | None
    violations: tuple[Finding, ...]
    waived: tuple[Finding, ...]
    evidence: Mapping[str, Any]
    # What the policies saw: recorded in the audit log, not part of the decision document.
    policy_input: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    # Why this deployment was evaluated: its manifest, or something it depends on, changed.
    reasons: tuple[str, ...] = ()
    # "gate": the gate's own files; "repository": how the repository holds its manifests.
    kind: Literal["deployment", "gate", "repository"] = "deployment"

    @property
    def allowed(self) -> bool:
        return not any(f.severity == "deny" for f in self.violations)

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.name}"

    def describe(self) -> dict[str, Any]:
        """Which deployment this is, as records and receipts name it."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "file": self.file,
            "change": self.change,
            "modelId": self.model_id,
            "version": self.version,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "namespace": self.namespace,
            "name": self.name,
            "change": self.change,
            "modelId": self.model_id,
            "version": self.version,
            "allowed": self.allowed,
            "violations": [f.to_json() for f in self.violations],
            "waived": [f.to_json() for f in self.waived],
            "evidence": dict(self.evidence),
            "reasons": list(self.reasons),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Decision:
    decision_id: str
    timestamp: str
    stage: str
    policy_revision: str
    engine: str
    context: Mapping[str, Any]
    subjects: tuple[Subject, ...]
    findings: tuple[Finding, ...] = ()
    waivers: WaiverOutcome = field(default_factory=lambda: WaiverOutcome((), (), ()))

    @property
    def allowed(self) -> bool:
        return all(s.allowed for s in self.subjects)

    def to_json(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "AdmissionDecision",
            "decision_id": self.decision_id,
            "timestamp": self.timestamp,
            "stage": self.stage,
            "allowed": self.allowed,
            "decision": "admit" if self.allowed else "deny",
            "policy": {"revision": self.policy_revision, "engine": self.engine},
            "context": dict(self.context),
            "subjects": [s.to_json() for s in self.subjects],
            "findings": [f.to_json() for f in self.findings],
            "waivers": {
                "applied": [w.to_json() for w in self.waivers.applied],
                "expired": [w.to_json() for w in self.waivers.expired],
                "unused": [w.to_json() for w in self.waivers.unused],
            },
            # A gate that could not decide exits 2 without a decision, so a decision has no
            # errors; the key stays because the decision format (v1) promises it.
            "errors": [],
        }


@dataclass(frozen=True)
class DecisionHeader:
    decision_id: str
    timestamp: dt.datetime
    stage: str
    policy_revision: str
    engine: str
    context: Mapping[str, Any]


def decide(
    header: DecisionHeader,
    evaluations: Sequence[Evaluation],
    waivers: Sequence[Waiver],
    complete: bool = False,
    extra: Sequence[Subject] = (),
    notes: Sequence[Finding] = (),
) -> Decision:
    """Apply waivers to the evaluations and assemble the decision.

    ``extra`` are subjects that are not deployments (the gate's own files, the repository's
    layout): they count toward the decision like any subject but are never waived. ``notes``
    are findings about no deployment (waivers that were held back).
    """
    today = header.timestamp.astimezone(dt.UTC).date()
    denied = [
        (e.change.manifest.target, f.rule) for e in evaluations for f in e.findings if f.severity == "deny"
    ]
    targets = [e.change.manifest.target for e in evaluations if e.change.kind != "deleted"]
    cover, outcome = settle_waivers(waivers, denied, targets, today, complete)
    subjects = [_subject(e, cover, outcome) for e in evaluations]
    subject_targets = {s.target for s in subjects}
    loose = [_waiver_finding(w, "expired") for w in outcome.expired if w.target not in subject_targets]
    loose += [_waiver_finding(w, "unused") for w in outcome.unused]
    loose += notes
    loose += [_waiver_finding(w, "unverified") for w in outcome.applied if w.unverified]
    subjects.extend(extra)
    return Decision(
        decision_id=header.decision_id,
        timestamp=rfc3339(header.timestamp),
        stage=header.stage,
        policy_revision=header.policy_revision,
        engine=header.engine,
        context=header.context,
        subjects=tuple(subjects),
        findings=tuple(loose),
        waivers=outcome,
    )


def rfc3339(moment: dt.datetime) -> str:
    """UTC with a fixed width (microseconds always present), so timestamps also sort as text."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _subject(
    evaluation: Evaluation, cover: Mapping[tuple[str, str], Waiver], outcome: WaiverOutcome
) -> Subject:
    manifest = evaluation.change.manifest
    violations: list[Finding] = []
    waived: list[Finding] = []
    for finding in evaluation.findings:
        waiver = cover.get((manifest.target, finding.rule)) if finding.severity == "deny" else None
        if waiver is not None:
            waived.append(replace(finding, waiver=waiver))
        else:
            violations.append(finding)
    violations += [_waiver_finding(w, "expired") for w in outcome.expired if w.target == manifest.target]
    spec = manifest.body.get("spec") if isinstance(manifest.body.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    return Subject(
        file=manifest.file,
        namespace=manifest.namespace,
        name=manifest.name,
        change=evaluation.change.kind,
        model_id=spec.get("modelId") if isinstance(spec.get("modelId"), str) else None,
        version=spec.get("version") if isinstance(spec.get("version"), str) else None,
        violations=tuple(sorted(violations, key=_order)),
        waived=tuple(sorted(waived, key=_order)),
        evidence=evaluation.evidence,
        policy_input=evaluation.policy_input,
        reasons=evaluation.change.reasons,
    )


def _waiver_finding(waiver: Waiver, state: str) -> Finding:
    if state == "unverified":
        message = (
            f"waiver for {waiver.rule} on {waiver.target} applied without a verified approval: "
            f"{waiver.unverified}"
        )
    elif state == "expired":
        message = (
            f"waiver for {waiver.rule} on {waiver.target} expired on {waiver.expires.isoformat()} "
            f"and no longer applies (approved by {waiver.approved_by})"
        )
    else:
        message = f"waiver for {waiver.rule} on {waiver.target} matched no finding: remove it"
    return Finding(f"waiver.{state}", "warn", message, waiver.file, waiver.line, "")


def _order(finding: Finding) -> tuple[int, str, int, str]:
    return (0 if finding.severity == "deny" else 1, finding.file, finding.line, finding.rule)
