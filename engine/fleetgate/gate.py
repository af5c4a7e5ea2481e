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
from fleetgate.policy import PolicyEngine, RawFinding
from fleetgate.waivers import Waiver

__all__ = ["locate", "run_gate"]


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

    Each policy input is built once: the engine evaluates it (with its own concurrency, at most
    ``jobs`` local workers) and the audit log records it.
    """
    known = facts or {}
    inputs = [
        _recorded_input(change, header.stage, known.get(change.manifest.target, {}), changes)
        for change in changes.changes
    ]
    schema = [_schema_findings(change) for change in changes.changes]
    asked = [
        index
        for index, change in enumerate(changes.changes)
        if change.kind != "deleted" and schema[index] is None
    ]
    # Policies see each fact without its ``report`` breakdown (kept for people and the log).
    evaluated = [{**inputs[i], "facts": for_policies(inputs[i]["facts"])} for i in asked]
    results = dict(zip(asked, engine.evaluate_many(evaluated, jobs), strict=True))
    evaluations = []
    for index, change in enumerate(changes.changes):
        result = results.get(index)
        if result is None:
            evaluations.append(Evaluation(change, schema[index] or (), {}, inputs[index]))
            continue
        summary = summarize(known.get(change.manifest.target, {}))
        findings = tuple(locate(change, f) for f in result.findings)
        evaluations.append(Evaluation(change, findings, summary, inputs[index]))
    return decide(header, evaluations, waivers, complete, extra, notes)


def _recorded_input(
    change: ManifestChange, stage: str, facts: Mapping[str, Any], changes: ChangeSet
) -> dict[str, Any]:
    """What the policies see and the audit log keeps (a deletion is not evaluated: its base is kept)."""
    if change.kind == "deleted":
        assert change.base is not None
        return {"stage": stage, "change": "deleted", "previous": change.base.body}
    return policy_input(change, stage, facts, changes.context)


def _schema_findings(change: ManifestChange) -> tuple[Finding, ...] | None:
    """One ``schema.invalid`` per violation or name conflict; ``None`` when the policies may run."""
    if change.kind == "deleted":
        base = change.manifest
        hidden = tuple(Finding("schema.invalid", "deny", why, base.file, 1, "") for why in change.conflicts)
        return hidden or None
    head = change.manifest
    violations = validate(head.body)
    if not violations and not change.conflicts:
        return None
    return tuple(
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
