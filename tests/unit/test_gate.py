from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fleetgate.changes import ChangeSet, GitContext, ManifestChange
from fleetgate.decision import DecisionHeader
from fleetgate.gate import locate, run_gate
from fleetgate.manifest import read_manifests
from fleetgate.policy import EngineInfo, PolicyResult, RawFinding

from support import line_of, manifest, to_yaml

HEADER = DecisionHeader("id", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "pre-merge", "sha256:x", "fake", {})


class RecordingEngine:
    """Stands in for the Rego engine so the core's own logic is tested in isolation."""

    def __init__(self, findings: tuple[RawFinding, ...] = ()) -> None:
        self.inputs: list[dict[str, Any]] = []
        self.findings = findings

    @property
    def info(self) -> EngineInfo:
        return EngineInfo("recording", "")

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        self.inputs.append(policy_input)
        return PolicyResult(self.findings)

    def evaluate_many(self, inputs: Sequence[dict[str, Any]], jobs: int) -> list[PolicyResult]:
        return [self.evaluate(i) for i in inputs]


def read(doc: dict[str, Any], file: str = "m.yaml") -> Any:
    [found] = read_manifests(to_yaml(doc).encode(), file)
    return found


def test_policy_input_carries_change_previous_and_diff() -> None:
    base = read(manifest("a"))
    head = read(manifest("a", updateStrategy={"rolloutPercentage": 25}))
    engine = RecordingEngine()
    run_gate(
        HEADER, ChangeSet((ManifestChange("modified", head, base),), GitContext(base_commit="b")), engine, []
    )
    [given] = engine.inputs
    assert given["change"] == "modified" and given["stage"] == "pre-merge"
    assert given["previous"]["spec"]["updateStrategy"]["rolloutPercentage"] == 10
    assert given["diff"] == [{"path": "spec.updateStrategy.rolloutPercentage", "old": 10, "new": 25}]
    assert given["facts"] == {}
    assert given["context"]["base_commit"] == "b"


def test_schema_invalid_manifests_get_located_findings_and_no_policy_run() -> None:
    doc = manifest("a", tier="gold")
    text = to_yaml(doc)
    engine = RecordingEngine()
    decision = run_gate(
        HEADER, ChangeSet((ManifestChange("added", read(doc), None),), GitContext()), engine, []
    )
    [finding] = decision.subjects[0].violations
    assert (finding.rule, finding.line, finding.field) == (
        "schema.invalid",
        line_of(text, "tier: gold"),
        "spec.tier",
    )
    assert engine.inputs == []


def test_deleted_manifests_are_not_evaluated() -> None:
    engine = RecordingEngine((RawFinding("x", "no", "", "deny", "p"),))
    decision = run_gate(
        HEADER, ChangeSet((ManifestChange("deleted", None, read(manifest())),), GitContext()), engine, []
    )
    assert decision.allowed and engine.inputs == []


def test_locate_uses_head_then_base_then_nearest_ancestor() -> None:
    base_doc = manifest("a")
    head_doc = manifest("a", sizeBytes=None)
    base, head = read(base_doc, "old.yaml"), read(head_doc, "new.yaml")
    change = ManifestChange("modified", head, base)
    head_text, base_text = to_yaml(head_doc), to_yaml(base_doc)

    def where(field: str) -> tuple[str, int]:
        found = locate(change, RawFinding("r", "m", field, "deny", "p"))
        return found.file, found.line

    assert where("spec.tier") == ("new.yaml", line_of(head_text, "tier:"))
    assert where("spec.sizeBytes") == ("old.yaml", line_of(base_text, "sizeBytes:"))
    assert where("spec.inferenceConfig.nothing") == ("new.yaml", line_of(head_text, "inferenceConfig:"))
    assert where("") == ("new.yaml", 1)
