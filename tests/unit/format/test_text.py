from __future__ import annotations

import datetime as dt
import json

from fleetgate.changes import ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.format import FORMATS, Report
from fleetgate.format.json import format_json
from fleetgate.format.text import format_text
from fleetgate.manifest import read_manifests
from fleetgate.waivers import Waiver

from support import manifest, to_yaml

HEADER = DecisionHeader(
    "id-7", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), "pre-merge", "sha256:" + "ab" * 32, "e", {}
)


def sample() -> Decision:
    [a] = read_manifests(to_yaml(manifest("a")).encode(), "models/a.yaml")
    [b] = read_manifests(to_yaml(manifest("b")).encode(), "models/b.yaml")
    findings = (
        Finding("rollout.ladder", "deny", "7 % is not a rung", "models/a.yaml", 17, "spec.x"),
        Finding("evidence.missing", "warn", "no signature fact", "models/a.yaml", 9, "spec.modelUri"),
    )
    waived = (Finding("cost.threads", "deny", "8 threads > 4", "models/b.yaml", 20, "spec.y"),)
    waiver = Waiver("cost.threads", "production/b", "perf test", "ops", dt.date(2026, 12, 1), "w.yaml", 2)
    return decide(
        HEADER,
        [
            Evaluation(ManifestChange("added", a, None), findings),
            Evaluation(ManifestChange("modified", b, b), waived),
        ],
        [waiver],
    )


def test_text_lists_subjects_and_located_findings_without_colour() -> None:
    text = format_text(Report(sample()))
    assert "\033[" not in text
    assert "deny   production/a 3.2.1  (added, models/a.yaml)" in text
    assert "admit  production/b 3.2.1  (modified, models/b.yaml)" in text
    assert "rollout.ladder    models/a.yaml:17  7 % is not a rung" in text
    assert "[waived until 2026-12-01]" in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith("decision: DENY  2 deployment(s), 1 denied; 1 violation(s), 1 warning(s), 1 waived")
    )


def test_colour_only_when_asked() -> None:
    assert "\033[31m" in format_text(Report(sample(), colour=True))


def test_json_is_the_decision_document() -> None:
    document = json.loads(format_json(Report(sample())))
    assert document["decision_id"] == "id-7" and document["decision"] == "deny"
    assert json.loads(FORMATS["json"](Report(sample(), colour=True))) == document


def test_an_empty_change_says_so() -> None:
    text = format_text(Report(decide(HEADER, [], [])))
    assert "no OnDeviceModel manifest changed" in text and "ADMIT" in text


def test_warnings_of_one_rule_family_are_folded_per_subject() -> None:
    [a] = read_manifests(to_yaml(manifest("a")).encode(), "models/a.yaml")
    warns = tuple(
        Finding(
            f"evidence.missing.{fact}",
            "warn",
            f"the {fact} evidence was not gathered",
            "models/a.yaml",
            9,
            "spec",
        )
        for fact in ("artifact", "signature", "model")
    )
    text = format_text(Report(decide(HEADER, [Evaluation(ManifestChange("added", a, None), warns)], [])))
    assert text.count("evidence.missing") == 1
    assert "the artifact evidence was not gathered (+2 more like it)" in text
    assert "3 warning(s)" in text


def test_with_evidence_off_one_line_replaces_the_missing_evidence_warnings() -> None:
    text = format_text(Report(sample(), evidence_off=True))
    assert "evidence.missing  " not in text and "no signature fact" not in text
    assert "Evidence gathering is off: 1 evidence.missing warning not shown" in text
    assert "1 violation(s), 0 warning(s), 1 waived" in text


def test_each_deployment_lists_its_denies_before_its_warnings() -> None:
    [a] = read_manifests(to_yaml(manifest("a")).encode(), "models/a.yaml")
    findings = (
        Finding("evidence.missing", "warn", "no model fact", "models/a.yaml", 9, "spec.modelUri"),
        Finding("rollout.ladder", "deny", "7 % is not a rung", "models/a.yaml", 17, "spec.x"),
    )
    text = format_text(Report(decide(HEADER, [Evaluation(ManifestChange("added", a, None), findings)], [])))
    assert text.index("rollout.ladder") < text.index("evidence.missing")


def test_the_report_says_how_to_read_up_on_each_denied_rule() -> None:
    text = format_text(Report(sample()))
    assert "how to fix: fleetgate explain RULE  (rollout.ladder)" in text
    assert "how to fix" not in format_text(Report(decide(HEADER, [], [])))


def test_missing_evidence_that_denies_is_one_row_too() -> None:
    [a] = read_manifests(to_yaml(manifest("a")).encode(), "models/a.yaml")
    missing = [
        Finding("evidence.missing", "deny", f"the {fact} evidence was not gathered", "models/a.yaml", 9)
        for fact in ("artifact", "signature", "model")
    ]
    findings = (*missing, Finding("rollout.ladder", "deny", "7 % is not a rung", "models/a.yaml", 17))
    text = format_text(Report(decide(HEADER, [Evaluation(ManifestChange("added", a, None), findings)], [])))
    assert text.count("deny  evidence.missing") == 1 and "rollout.ladder  " in text
    assert "the artifact evidence was not gathered (+2 more like it)" in text
    assert "4 violation(s)" in text


def with_evidence(evidence: dict[str, object]) -> str:
    [a] = read_manifests(to_yaml(manifest("a")).encode(), "models/a.yaml")
    decision = decide(HEADER, [Evaluation(ManifestChange("added", a, None), (), evidence)], [])
    return format_text(Report(decision))


def test_evidence_is_shown_by_class_and_ci_latency_says_where_it_was_timed() -> None:
    text = with_evidence(
        {
            "artifact": "sha256:" + "0123456789ab" + "cd" * 26,
            "signature": "verified",
            "signer": "release@example.com",
            "provenance": "absent",
            "quantization": "int8",
            "latency_p50_ms": 3.25,
            "classes": {
                "artifact": "derived",
                "signature": "derived",
                "provenance": "not-assessable",
                "model": "derived",
                "latency": "observed",
            },
            "not_assessable": {"provenance": "no in-toto links beside the model"},
        }
    )
    lines = text.splitlines()
    at = lines.index("admit  production/a 3.2.1  (added, models/a.yaml)")
    assert lines[at + 1] == (
        "    evidence  derived         artifact sha256:0123456789ab, signature verified by "
        "release@example.com, model quantization int8"
    )
    assert lines[at + 2] == (
        "              observed        latency p50 3.25 ms (timed on this machine's CPU, not on a device)"
    )
    assert lines[at + 3] == "              not-assessable  provenance (no in-toto links beside the model)"


def test_no_evidence_line_for_a_manifest_only_check() -> None:
    assert "evidence" not in with_evidence({})
