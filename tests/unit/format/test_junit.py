from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from fleetgate.changes import ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.format.interface import Report
from fleetgate.format.junit import DELETED_CASE, format_junit
from fleetgate.policy.library import RuleInfo

from support import SAMPLE_WAIVERS, catalog, read_one

HEADER = DecisionHeader(
    "id-9", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), "pre-merge", "sha256:" + "cd" * 32, "e 1", {}
)
WAIVERS = SAMPLE_WAIVERS


read = read_one


def rich() -> Decision:
    a, b, bad, gone = read("a"), read("b"), read("c"), read("d")
    a_findings = (
        Finding("rollout.ladder", "deny", "7 % is not a rung", a.file, 17, "spec.x"),
        Finding("rollout.ladder", "deny", "12 % is not a rung either", a.file, 18, "spec.y"),
        Finding("evidence.missing.signature", "warn", "no signature fact", a.file, 9, "spec.modelUri"),
    )
    bad_findings = (
        Finding("schema.invalid", "deny", "'huge' is not a tier", bad.file, 12, "spec.tier"),
        Finding("schema.invalid", "deny", "'x' is not an integer", bad.file, 14, "spec.sizeBytes"),
    )
    evaluations = [
        Evaluation(ManifestChange("added", a, None), a_findings),
        Evaluation(
            ManifestChange("modified", b, b),
            (Finding("cost.threads", "deny", "8 threads > 4", b.file, 20, "spec.z"),),
        ),
        Evaluation(ManifestChange("added", bad, None), bad_findings),
        Evaluation(ManifestChange("deleted", None, gone)),
    ]
    return decide(HEADER, evaluations, WAIVERS, complete=True)


def parse(decision: Decision, rules: dict[str, RuleInfo] | None = None) -> JUnitXml:
    text = format_junit(Report(decision, catalog() if rules is None else rules))
    # CI systems read the file as bytes; the declaration says UTF-8.
    return JUnitXml.fromstring(text.encode("utf-8"))


def suites(xml: JUnitXml) -> dict[str, TestSuite]:
    return {suite.name: suite for suite in xml}


def cases(suite: TestSuite) -> dict[str, TestCase]:
    found = {case.name: case for case in suite}
    assert len(found) == len(list(suite)), "one testcase per rule"
    return found


def test_counts_match_the_decision() -> None:
    xml, rules = parse(rich()), catalog()
    by_name = suites(xml)
    assert list(by_name) == ["production/a", "production/b", "production/c", "production/d", "waivers"]
    # a: every catalog rule; b: likewise; c: every catalog rule (all but one skipped); d: one case;
    # waivers: one case per gate-level rule.
    assert xml.tests == 3 * len(rules) + 1 + 1
    assert xml.failures == 2  # rollout.ladder on a, schema.invalid on c
    assert xml.errors == 0
    assert xml.skipped == len(rules) - 1
    for suite in xml:
        listed = list(suite)
        assert suite.tests == len(listed)
        assert suite.failures == sum(1 for c in listed if c.is_failure)
        assert suite.skipped == sum(1 for c in listed if c.is_skipped)


def test_a_denied_rule_fails_once_listing_every_finding() -> None:
    ladder = cases(suites(parse(rich()))["production/a"])["rollout.ladder"]
    assert ladder.classname == "production/a"
    [failure] = ladder.result
    assert isinstance(failure, Failure) and failure.type == "deny"
    assert "7 % is not a rung" in (failure.message or "")
    text = failure.text or ""
    assert "models/a.yaml:17: 7 % is not a rung" in text
    assert "models/a.yaml:18: 12 % is not a rung either" in text
    assert catalog()["rollout.ladder"].remediation in text


def test_warnings_and_waived_denies_pass_with_an_explanation() -> None:
    by_name = suites(parse(rich()))
    evidence = cases(by_name["production/a"])["evidence.missing.signature"]
    assert evidence.is_passed and not evidence.is_skipped
    assert evidence.system_out == "warn: models/a.yaml:9: no signature fact"
    threads = cases(by_name["production/b"])["cost.threads"]
    assert threads.is_passed
    assert "waived by ops until 2026-12-01: perf test" in (threads.system_out or "")


def test_rules_that_found_nothing_pass_so_the_report_shows_what_was_checked() -> None:
    b = cases(suites(parse(rich()))["production/b"])
    assert set(b) == set(catalog())
    assert all(b[name].is_passed for name in catalog())
    assert b["schema.invalid"].system_out is None


def test_a_schema_invalid_manifest_reports_other_rules_as_skipped_never_passed() -> None:
    c = cases(suites(parse(rich()))["production/c"])
    assert c["schema.invalid"].is_failure
    assert "models/c.yaml:14: 'x' is not an integer" in (c["schema.invalid"].result[0].text or "")
    others = [case for name, case in c.items() if name != "schema.invalid"]
    assert others and all(case.is_skipped and not case.is_passed for case in others)
    reason = others[0].result[0]
    assert isinstance(reason, Skipped) and "schema" in (reason.message or "")


def test_a_deletion_is_one_passing_not_evaluated_case() -> None:
    d = suites(parse(rich()))["production/d"]
    assert [(case.name, case.is_passed) for case in d] == [(DELETED_CASE, True)]
    assert d.tests == 1


def test_gate_level_waiver_findings_form_their_own_suite() -> None:
    [unused] = list(suites(parse(rich()))["waivers"])
    assert unused.name == "waiver.unused" and unused.is_passed
    assert "fleetgate-waivers.yaml:9" in (unused.system_out or "")


def test_without_rule_metadata_only_rules_with_findings_appear() -> None:
    xml = parse(rich(), rules={})
    assert set(cases(suites(xml)["production/a"])) == {"evidence.missing.signature", "rollout.ladder"}
    assert xml.skipped == 0 and xml.failures == 2


def test_an_empty_decision_is_an_empty_passing_report() -> None:
    xml = parse(decide(HEADER, [], []))
    assert (xml.tests, xml.failures, xml.skipped, len(list(xml))) == (0, 0, 0, 0)


def test_markup_and_control_characters_in_messages_stay_well_formed() -> None:
    a = read("a")
    nasty = 'no <b>&"bold"</b>\x07 bell\x1b[31m and \x00'
    finding = Finding("rollout.ladder", "deny", nasty, a.file, 3, "spec.x")
    decision = decide(HEADER, [Evaluation(ManifestChange("added", a, None), (finding,))], [])
    text = format_junit(Report(decision))
    root = ET.fromstring(text.encode("utf-8"))  # raises on a malformed document
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    expected = 'no <b>&"bold"</b>\\x07 bell\\x1b[31m and \\x00'
    assert failure.get("message") == expected
    assert failure.text == f"models/a.yaml:3: {expected}"
    assert "<b>" not in text and "&lt;b&gt;" in text
    [case] = list(suites(JUnitXml.fromstring(text.encode("utf-8")))["production/a"])
    assert case.result[0].message == expected


def test_output_is_deterministic() -> None:
    report = Report(rich(), catalog())
    assert format_junit(report) == format_junit(report)
