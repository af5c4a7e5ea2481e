from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

import fleetgate
from fleetgate.changes import ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.format._findings import FINGERPRINT_KEY
from fleetgate.format.interface import Report
from fleetgate.format.sarif import artifact_uri, format_sarif
from fleetgate.policy.library import RuleInfo

from support import SAMPLE_WAIVERS, catalog, read_one, schema_validator

DATA = Path(__file__).resolve().parents[2] / "data"
DECISION_ID = "0b5e7a3c-5d0e-4a5b-9c7d-2f1e3a4b5c6d"
HEADER = DecisionHeader(
    DECISION_ID, dt.datetime(2026, 11, 26, tzinfo=dt.UTC), "pre-merge", "sha256:" + "ab" * 32, "e 1", {}
)
WAIVERS = SAMPLE_WAIVERS


def validator() -> Any:
    return schema_validator("sarif-schema-2.1.0.json")


read = read_one


def rich(shift: int = 0) -> Decision:
    """Denies, warnings, a waived deny, a schema-invalid manifest, a deletion and an unused waiver."""
    a, b = read("a", "models/fleet a#1.yaml"), read("b", "models/b.yaml")
    bad, gone = read("c", "models/c.yaml"), read("d", "models/d.yaml")
    field = "spec.updateStrategy.rolloutPercentage"
    a_findings = (
        Finding("rollout.ladder", "deny", "7 % is not a rung", a.file, 17 + shift, field),
        Finding(
            "cost.threads", "deny", "8 threads > 4", a.file, 20 + shift, "spec.inferenceConfig.numThreads"
        ),
        Finding("evidence.missing", "warn", "no signature fact", a.file, 9 + shift, "spec.modelUri"),
        Finding("evidence.missing", "warn", "no artifact fact", a.file, 9 + shift, "spec.modelUri"),
    )
    b_findings = (
        Finding("cost.threads", "deny", "8 threads > 4", b.file, 20, "spec.inferenceConfig.numThreads"),
    )
    bad_findings = (
        Finding("schema.invalid", "deny", "'huge' is not one of the tiers", bad.file, 12, "spec.tier"),
    )
    evaluations = [
        Evaluation(ManifestChange("added", a, None), a_findings),
        Evaluation(ManifestChange("modified", b, b), b_findings),
        Evaluation(ManifestChange("added", bad, None), bad_findings),
        Evaluation(ManifestChange("deleted", None, gone)),
    ]
    return decide(HEADER, evaluations, WAIVERS, complete=True)


def sarif(decision: Decision, rules: dict[str, RuleInfo] | None = None) -> dict[str, Any]:
    log = json.loads(format_sarif(Report(decision, catalog() if rules is None else rules)))
    assert isinstance(log, dict)
    return log


def results(log: dict[str, Any]) -> list[dict[str, Any]]:
    found = log["runs"][0]["results"]
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize(
    "decision", [rich(), decide(HEADER, [], []), rich(shift=3)], ids=["rich", "empty", "shifted"]
)
def test_output_is_valid_against_the_official_sarif_schema(decision: Decision) -> None:
    log = sarif(decision)
    errors = sorted(validator().iter_errors(log), key=str)
    assert not errors, errors[0].message if errors else ""
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(log["runs"]) == 1


def test_the_schema_check_can_fail() -> None:
    log = sarif(rich())
    results(log)[0]["level"] = "fatal"
    assert not validator().is_valid(log)


def test_one_result_per_finding_with_levels_by_severity() -> None:
    decision = rich()
    found = results(sarif(decision))
    expected = [
        *[(f.rule, f.severity) for s in decision.subjects for f in (*s.violations, *s.waived)],
        *[(f.rule, f.severity) for f in decision.findings],
    ]
    expected.remove(("evidence.missing", "warn"))  # the deployment's two are folded into one
    assert [(r["ruleId"], r["properties"]["severity"]) for r in found] == expected
    assert {r["properties"]["severity"]: r["level"] for r in found} == {"deny": "error", "warn": "warning"}
    assert ("waiver.unused", "warn") in expected


def test_missing_evidence_is_one_result_per_deployment() -> None:
    [missing] = [r for r in results(sarif(rich())) if r["ruleId"] == "evidence.missing"]
    text = "2 pieces of evidence are missing:\n- no signature fact\n- no artifact fact"
    assert missing["message"]["text"] == text
    assert missing["locations"][0]["physicalLocation"]["region"]["startLine"] == 9


def test_with_evidence_off_one_note_replaces_the_missing_evidence_results() -> None:
    log = json.loads(format_sarif(Report(rich(), catalog(), evidence_off=True)))
    assert [r for r in results(log) if r["ruleId"] == "evidence.missing"] == []
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "note" and "Evidence gathering is off" in note["message"]["text"]
    assert "2 evidence.missing warnings" in note["message"]["text"]
    assert validator().is_valid(log)


@pytest.mark.parametrize("replaced", [False, True], ids=["builtin", "replaced-library"])
def test_every_result_resolves_to_a_descriptor_with_its_id(replaced: bool) -> None:
    # A library that replaces the built-in one has no metadata for the gate's waiver findings.
    rules = {k: v for k, v in catalog().items() if not k.startswith("waiver.")} if replaced else None
    log = sarif(rich(), rules)
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    ids = [d["id"] for d in descriptors]
    assert len(ids) == len(set(ids))
    assert set(rules if rules is not None else catalog()) <= set(ids)
    assert "waiver.unused" in ids
    for result in results(log):
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]


def test_catalog_descriptors_carry_the_rule_metadata() -> None:
    descriptors = {d["id"]: d for d in sarif(rich())["runs"][0]["tool"]["driver"]["rules"]}
    ladder, rule = descriptors["rollout.ladder"], catalog()["rollout.ladder"]
    assert ladder["shortDescription"]["text"] == rule.title
    assert ladder["fullDescription"]["text"] == rule.description
    assert ladder["help"]["text"] == rule.remediation
    assert ladder["defaultConfiguration"]["level"] == "error"
    assert "rollout" in ladder["properties"]["tags"]
    # A rule that only denies at some stages defaults to a warning.
    assert descriptors["evidence.missing"]["defaultConfiguration"]["level"] == "warning"
    # "<namespace>" would vanish as an HTML tag in rendered Markdown.
    assert "\\<namespace\\>" in ladder["help"]["markdown"]


def test_a_waived_deny_is_an_accepted_external_suppression() -> None:
    found = results(sarif(rich()))
    waived = [r for r in found if r["suppressions"]]
    assert [(r["ruleId"], r["properties"]["deployment"]) for r in waived] == [
        ("cost.threads", "production/b")
    ]
    [suppression] = waived[0]["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert all(part in suppression["justification"] for part in ("perf test", "ops", "2026-12-01"))
    # SARIF wants suppressions on all results or none: the others say "checked, not suppressed".
    assert all(r["suppressions"] == [] for r in found if r not in waived)


def fingerprints(decision: Decision) -> list[tuple[str, str]]:
    return [(r["ruleId"], r["partialFingerprints"][FINGERPRINT_KEY]) for r in results(sarif(decision))]


def test_fingerprints_survive_edits_that_only_move_lines() -> None:
    before, after = fingerprints(rich()), fingerprints(rich(shift=5))
    assert before == after
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results(sarif(rich(5)))]
    assert lines[0] == 22


def test_fingerprints_are_unique_and_tell_rules_and_deployments_apart() -> None:
    found = results(sarif(rich()))
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in found]
    assert len(prints) == len(set(prints))
    assert all(re.fullmatch("[0-9a-f]{64}", p) for p in prints)
    threads = {
        r["properties"]["deployment"]: r["partialFingerprints"][FINGERPRINT_KEY]
        for r in found
        if r["ruleId"] == "cost.threads"
    }
    assert threads.keys() == {"production/a", "production/b"}
    assert threads["production/a"] != threads["production/b"]


def test_a_fingerprint_changes_with_the_rule_or_the_field() -> None:
    a = read("a", "models/a.yaml")

    def single(finding: Finding) -> str:
        decision = decide(HEADER, [Evaluation(ManifestChange("added", a, None), (finding,))], [])
        [(_, fingerprint)] = fingerprints(decision)
        return fingerprint

    base = single(Finding("rollout.ladder", "deny", "no", a.file, 17, "spec.x"))
    assert single(Finding("rollout.ladder", "deny", "other words", a.file, 40, "spec.x")) == base
    assert single(Finding("rollout.step-limit", "deny", "no", a.file, 17, "spec.x")) != base
    assert single(Finding("rollout.ladder", "deny", "no", a.file, 17, "spec.y")) != base


def test_locations_are_encoded_relative_uris_with_the_deployment_named() -> None:
    first = results(sarif(rich()))[0]["locations"][0]
    artifact = first["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "models/fleet%20a%231.yaml", "uriBaseId": "%SRCROOT%"}
    assert first["logicalLocations"] == [
        {"name": "a", "fullyQualifiedName": "production/a", "kind": "resource"}
    ]
    for result in results(sarif(rich())):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        # RFC 3986 relative-path reference: path characters and percent-escapes only, no scheme.
        assert re.fullmatch(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@/]|%[0-9A-F]{2})+", uri), uri
        assert not uri.startswith("/")


def test_artifact_uri_encodes_what_rfc_3986_reserves() -> None:
    assert artifact_uri("models/a b.yaml") == "models/a%20b.yaml"
    assert artifact_uri("c:/m.yaml") == "c%3A/m.yaml"  # would otherwise read as a URI scheme
    assert artifact_uri("models/100%.yaml") == "models/100%25.yaml"
    assert artifact_uri("models/ü?.yaml") == "models/%C3%BC%3F.yaml"


def test_run_records_the_decision() -> None:
    run = sarif(rich())["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fleetgate" and driver["version"] == fleetgate.__version__
    assert driver["informationUri"].startswith("https://")
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["automationDetails"] == {"id": "fleetgate/pre-merge/", "guid": DECISION_ID}
    assert run["properties"]["decision"] == "deny" and run["properties"]["allowed"] is False
    assert run["properties"]["policyRevision"] == "sha256:" + "ab" * 32


def test_an_empty_decision_admits_and_still_describes_the_catalog() -> None:
    run = sarif(decide(HEADER, [], []))["runs"][0]
    assert run["results"] == []
    assert run["properties"]["decision"] == "admit"
    assert len(run["tool"]["driver"]["rules"]) == len(catalog())


def test_rules_missing_from_the_metadata_still_get_descriptors() -> None:
    log = sarif(rich(), rules={})
    descriptors = log["runs"][0]["tool"]["driver"]["rules"]
    assert sorted(d["id"] for d in descriptors) == sorted({r["ruleId"] for r in results(log)})
    assert validator().is_valid(log)


def test_output_is_deterministic() -> None:
    report = Report(rich(), catalog())
    assert format_sarif(report) == format_sarif(report)
