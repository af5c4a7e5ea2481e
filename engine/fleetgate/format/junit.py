"""``--format junit``: JUnit XML, so CI test tabs list every rule checked on every deployment.

One ``<testsuite>`` per deployment (``namespace/name``), one ``<testcase>`` per rule evaluated
on it:

- a rule with a deny fails (``<failure type="deny">`` listing each finding as ``file:line: message``);
- a rule with only warnings passes, the warnings in ``<system-out>``. A warning is not a skip:
  ``skipped`` is kept for "not checked", and the rule *was* checked;
- a waived deny passes, ``<system-out>`` saying who waived it and until when;
- a catalog rule that found nothing passes.

A deleted deployment is not evaluated (un-deploying is always allowed) and gets one passing
``deleted: not evaluated`` testcase. A manifest that fails the schema is checked by
``schema.invalid`` only; every other rule is ``skipped`` with the reason, never passed.
Gate-level findings about waiver files form a ``waivers`` suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fleetgate.decision import Finding, Subject
from fleetgate.format.interface import Report
from fleetgate.policy.library import RuleInfo

__all__ = ["format_junit"]

SCHEMA_RULE = "schema.invalid"
DELETED_CASE = "deleted: not evaluated"
NOT_EVALUATED = "not evaluated: the manifest does not match the OnDeviceModel schema (see schema.invalid)"
# XML 1.0 cannot carry these code points at all, not even as character references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class _Case:
    rule: str
    file: str
    failures: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: str | None = None


def format_junit(report: Report) -> str:
    decision = report.decision
    root = ET.Element("testsuites", name="fleetgate")
    for subject in decision.subjects:
        _suite(root, subject.target, subject.file, _subject_cases(subject, report.rules), report.rules)
    if decision.findings:
        files = sorted({f.file for f in decision.findings})
        _suite(
            root, "waivers", files[0] if len(files) == 1 else "", _cases(decision.findings, ""), report.rules
        )
    suites = root.findall("testsuite")
    for counter in ("tests", "failures", "errors", "skipped"):
        root.set(counter, str(sum(int(s.get(counter, "0")) for s in suites)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _subject_cases(subject: Subject, rules: Mapping[str, RuleInfo]) -> list[_Case]:
    findings = (*subject.violations, *subject.waived)
    cases = _cases(findings, subject.file)
    reported = {case.rule for case in cases}
    if subject.change == "deleted":
        return [_Case(DELETED_CASE, subject.file, notes=("un-deploying is always allowed",)), *cases]
    schema_failed = any(f.rule == SCHEMA_RULE for f in subject.violations)
    for name in rules:
        if name in reported:
            continue
        skipped = NOT_EVALUATED if schema_failed and name != SCHEMA_RULE else None
        cases.append(_Case(name, subject.file, skipped=skipped))
    return sorted(cases, key=lambda case: case.rule)


def _cases(findings: Iterable[Finding], file: str) -> list[_Case]:
    """One case per rule: unwaived denies fail it; warnings and waived findings become notes."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    cases = []
    for rule, found in sorted(by_rule.items()):
        blocking = any(f.severity == "deny" and f.waiver is None for f in found)
        failures = tuple(f for f in found if f.waiver is None) if blocking else ()
        notes = tuple(_note(f) for f in found if f not in failures)
        cases.append(_Case(rule, file or found[0].file, failures, notes))
    return cases


def _note(finding: Finding) -> str:
    where = f"{finding.file}:{finding.line}: {finding.message}"
    waiver = finding.waiver
    if waiver is None:
        return f"{finding.severity}: {where}"
    return (
        f"waived: {where} (waived by {waiver.approved_by} until {waiver.expires.isoformat()}: "
        f"{waiver.reason}; waiver at {waiver.file}:{waiver.line})"
    )


def _suite(
    root: ET.Element, name: str, file: str, cases: Sequence[_Case], rules: Mapping[str, RuleInfo]
) -> None:
    suite = ET.SubElement(root, "testsuite", name=_xml(name))
    failures = sum(1 for case in cases if case.failures)
    skipped = sum(1 for case in cases if case.skipped is not None)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    if file:
        suite.set("file", _xml(file))
    for case in cases:
        _testcase(suite, name, case, rules.get(case.rule))


def _testcase(suite: ET.Element, classname: str, case: _Case, rule: RuleInfo | None) -> None:
    element = ET.SubElement(suite, "testcase", classname=_xml(classname), name=_xml(case.rule))
    element.set("file", _xml(case.file))
    if case.failures:
        first = case.failures[0]
        message = first.message
        if len(case.failures) > 1:
            message = f"{len(case.failures)} findings of {case.rule}; first: {message}"
        lines = [f"{f.file}:{f.line}: {f.message}" for f in case.failures]
        if rule is not None and rule.remediation:
            lines += ["", f"How to fix: {rule.remediation}"]
        failure = ET.SubElement(element, "failure", message=_xml(message), type="deny")
        failure.text = _xml("\n".join(lines))
    if case.skipped is not None:
        ET.SubElement(element, "skipped", message=_xml(case.skipped))
    if case.notes:
        ET.SubElement(element, "system-out").text = _xml("\n".join(case.notes))


def _xml(text: str) -> str:
    """Text XML can carry: ElementTree escapes ``<&"``, but forbidden code points must go.

    Each is written as a visible ``\\xNN``/``\\uNNNN`` escape so the reader sees what was there.
    """
    return _NOT_XML.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
