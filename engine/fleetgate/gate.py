"""The gate's core: evaluate each change, then decide. Every I/O dependency is passed in.

Deleted deployments are recorded, not evaluated. A manifest that fails the schema gets one
``schema.invalid`` finding per error and no policy evaluation (policies may assume the schema
holds; evaluating them on malformed input would only add noise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleetgate.changes import ChangeSet, ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, Severity, Subject, decide
from fleetgate.evidence.summary import summarize
from fleetgate.inputs import for_policies, policy_input
from fleetgate.manifest import format_path, parse_path, validate
from fleetgate.parallel import map_in_workers
from fleetgate.policy import PolicyEngine, RawFinding
from fleetgate.waivers import Waiver

__all__ = ["evaluate_change", "locate", "run_gate"]


def run_gate(
    header: DecisionHeader,
    changes: ChangeSet,
    engine: PolicyEngine,
    waivers: Sequence[Waiver],
    facts: Mapping[str, Mapping[str, Any]] | None = None,
    complete: bool = False,
    jobs: int = 1,
    extra: Sequence[Subject] = (),
    notes: Sequence[Finding] = (),
) -> Decision:
    """Evaluate every change of ``changes`` and return the admission decision.

    With ``jobs`` > 1 a large run is spread over forked worker processes; only findings and
    evidence travel back, the changes stay where they were parsed.
    """
    known = facts or {}

    def assess(change: ManifestChange) -> tuple[tuple[Finding, ...], Mapping[str, Any]]:
        evaluation = evaluate_change(
            change, engine, header.stage, known.get(change.manifest.target, {}), changes
        )
        return evaluation.findings, evaluation.evidence

    outcomes = map_in_workers(assess, changes.changes, jobs)
    evaluations = [
        Evaluation(
            change,
            findings,
            summary,
            _recorded_input(change, header.stage, known.get(change.manifest.target, {}), changes),
        )
        for change, (findings, summary) in zip(changes.changes, outcomes, strict=True)
    ]
    return decide(header, evaluations, waivers, complete, extra, notes)


def _recorded_input(
    change: ManifestChange, stage: str, facts: Mapping[str, Any], changes: ChangeSet
) -> dict[str, Any]:
    """What the audit log keeps of the input (a deletion has no policy input: its base is kept)."""
    if change.kind == "deleted":
        assert change.base is not None
        return {"stage": stage, "change": "deleted", "previous": change.base.body}
    return policy_input(change, stage, facts, changes.context)


def evaluate_change(
    change: ManifestChange, engine: PolicyEngine, stage: str, facts: Mapping[str, Any], changes: ChangeSet
) -> Evaluation:
    if change.kind == "deleted":
        base = change.manifest
        hidden = tuple(Finding("schema.invalid", "deny", why, base.file, 1, "") for why in change.conflicts)
        return Evaluation(change, hidden)
    head = change.manifest
    violations = validate(head.body)
    if violations or change.conflicts:
        findings = tuple(
            Finding("schema.invalid", "deny", v.message, head.file, head.line_of(v.path), format_path(v.path))
            for v in violations
        ) + tuple(
            Finding(
                "schema.invalid",
                "deny",
                conflict,
                head.file,
                head.line_of(("metadata", "name")),
                "metadata.name",
            )
            for conflict in change.conflicts
        )
        return Evaluation(change, findings)
    result = engine.evaluate(policy_input(change, stage, for_policies(facts), changes.context))
    return Evaluation(change, tuple(locate(change, f) for f in result.findings), summarize(facts))


def locate(change: ManifestChange, raw: RawFinding) -> Finding:
    """Turn a policy's field path into ``file:line`` of the head document.

    A field that exists only in the base document (it was removed) is located there; a field
    that exists in neither is located at its nearest present ancestor in the head.
    """
    severity: Severity = "deny" if raw.severity == "deny" else "warn"
    path = parse_path(raw.field)
    head = change.manifest
    if path is not None and not head.has(path) and change.base is not None and change.base.has(path):
        return Finding(
            raw.rule, severity, raw.message, change.base.file, change.base.line_of(path), raw.field
        )
    return Finding(raw.rule, severity, raw.message, head.file, head.line_of(path or ()), raw.field)
