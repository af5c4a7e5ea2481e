"""``--format sarif``: a SARIF 2.1.0 log for code-scanning dashboards (GitHub, GitLab, IDEs).

One run; one result per finding, located at the manifest line it concerns, except that a
deployment's ``evidence.missing`` findings are folded into one (:mod:`fleetgate.format._fold`).
A waived deny stays a result, carrying an *accepted* external suppression (SARIF's word for an
approved exception), so a dashboard can show what ships under a waiver and until when.

Each result carries ``partialFingerprints["fleetgate/v1"]``: a digest of the rule, the
deployment (``namespace/name``) and the manifest field, never the line. Code-scanning services
match results across runs by fingerprint; leaving the line out means that an unrelated edit
that moves a field up or down does not close one alert and open an identical new one.
:func:`fleetgate.format._findings.occurrences` computes them, for every format that needs one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fleetgate import __version__
from fleetgate.decision import Decision, Finding
from fleetgate.format._findings import FINGERPRINT_KEY, Occurrence, occurrences
from fleetgate.format._finops import finops_view
from fleetgate.format._fold import evidence_off_note, shown
from fleetgate.format._json_text import indented
from fleetgate.format.interface import Report
from fleetgate.policy.library import RuleInfo

__all__ = ["artifact_uri", "format_sarif"]

_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFORMATION_URI = "https://pypi.org/project/fleetgate/"
_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_MARKDOWN_SPECIAL = re.compile(r"[\\*_\[\]<>#|]")
_LEVEL = {"deny": "error", "warn": "warning"}
# Rules the gate itself reports about waiver files: they have no entry in any rules.yaml.
_CORE_RULES = {
    "waiver.expired": (
        "A waiver has expired",
        "The waiver's expires date has passed, so it no longer turns the deny it named into an "
        "accepted exception.",
        "Fix the finding the waiver covered, or renew the waiver with a new expires date and approval.",
    ),
    "waiver.unused": (
        "A waiver matched no finding",
        "No deny of the waiver's rule was reported for its deployment; a stale waiver would silently "
        "excuse a future regression.",
        "Remove the waiver from the waiver file.",
    ),
}


def artifact_uri(path: str) -> str:
    """A repository-relative path as an RFC 3986 relative reference (``%SRCROOT%``-based).

    Everything but unreserved characters and ``/`` is percent-encoded (UTF-8), so spaces,
    ``%``, ``#``, ``?`` and a ``:`` that would read as a URI scheme all survive the trip.
    """
    return quote(path.replace("\\", "/").lstrip("/"), safe="/")


def format_sarif(report: Report) -> str:
    view = shown(report)
    decision = view.decision
    found = occurrences(decision)
    descriptors, index = _descriptors(report.rules, [o.finding for o in found])
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "fleetgate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": _INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "invocations": [_invocation(decision, view.hidden)],
        "automationDetails": _automation(decision),
        "results": [_result(o, index[o.finding.rule]) for o in found],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "decisionId": decision.decision_id,
            "decision": "admit" if decision.allowed else "deny",
            "allowed": decision.allowed,
            "stage": decision.stage,
            "policyRevision": decision.policy_revision,
            "engine": decision.engine,
        },
    }
    finops = finops_view(decision)
    if finops is not None:
        run["properties"]["finops"] = finops  # what the changes cost across the fleet (estimate)
    log = {"$schema": _SCHEMA, "version": "2.1.0", "runs": [run]}
    return indented(log) + "\n"


def _descriptors(
    rules: Mapping[str, RuleInfo], findings: Sequence[Finding]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Catalog rules first (by name), then any rule a finding names that the catalog lacks."""
    described = [_catalog_descriptor(rules[name]) for name in sorted(rules)]
    extra: dict[str, Finding] = {}
    for finding in findings:
        if finding.rule not in rules:
            extra.setdefault(finding.rule, finding)
    described += [_extra_descriptor(name, extra[name]) for name in sorted(extra)]
    return described, {d["id"]: i for i, d in enumerate(described)}


def _catalog_descriptor(rule: RuleInfo) -> dict[str, Any]:
    markdown = _markdown(rule.remediation)
    if rule.config:
        settings = ", ".join(f"`{key}`" for key in rule.config)
        markdown += f"\n\nSettings in fleetgate.yaml that tune this rule: {settings}."
    return {
        "id": rule.name,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation, "markdown": markdown},
        "defaultConfiguration": {"level": "error" if rule.severity == "deny" else "warning"},
        "properties": {"tags": _tags(rule.name), "severity": rule.severity, "config": list(rule.config)},
    }


def _extra_descriptor(name: str, example: Finding) -> dict[str, Any]:
    title, description, remediation = _CORE_RULES.get(
        name, (name, f"Reported by the {name} rule, which has no metadata in the policy library.", "")
    )
    descriptor: dict[str, Any] = {
        "id": name,
        "name": name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": _LEVEL[example.severity]},
        "properties": {"tags": _tags(name)},
    }
    if remediation:
        descriptor["help"] = {"text": remediation}
    return descriptor


def _markdown(text: str) -> str:
    """Plain text as Markdown: ``<namespace>`` must not vanish as an HTML tag; code spans stay."""
    parts = text.split("`")
    # Even parts are outside backticks; an unpaired trailing backtick leaves its tail as text too.
    for i in range(0, len(parts), 2):
        parts[i] = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", parts[i])
    return "`".join(parts)


def _tags(rule: str) -> list[str]:
    area = rule.split(".", 1)[0]
    return ["fleetgate", area] if area and area != rule else ["fleetgate"]


def _result(occurrence: Occurrence, rule_index: int) -> dict[str, Any]:
    finding = occurrence.finding
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding, occurrence.target)],
        "partialFingerprints": {FINGERPRINT_KEY: occurrence.fingerprint},
        # SARIF asks for suppressions on every result or on none; [] means "checked, not suppressed".
        "suppressions": [],
        "properties": {"severity": finding.severity, "field": finding.field},
    }
    if occurrence.target is not None:
        result["properties"]["deployment"] = occurrence.target
    waiver = finding.waiver
    if waiver is not None:
        ticket = f", ticket {waiver.ticket}" if waiver.ticket else ""
        justification = (
            f"{waiver.reason} (approved by {waiver.approved_by}, expires {waiver.expires.isoformat()}"
            f"{ticket}; waiver at {waiver.file}:{waiver.line})"
        )
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return result


def _location(finding: Finding, target: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(finding.file), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, finding.line)},
        }
    }
    if target is not None:
        name = target.split("/", 1)[-1]
        location["logicalLocations"] = [{"name": name, "fullyQualifiedName": target, "kind": "resource"}]
    return location


def _invocation(decision: Decision, hidden: int) -> dict[str, Any]:
    """The gate ran to a verdict (a gate that could not decide writes no SARIF: it exits 2).

    A run without evidence says so once, as a note, instead of one result per missing fact.
    """
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if decision.timestamp:
        invocation["endTimeUtc"] = decision.timestamp
    notifications: list[dict[str, Any]] = []
    if hidden:
        notifications.append({"level": "note", "message": {"text": evidence_off_note(hidden)}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _automation(decision: Decision) -> dict[str, Any]:
    details: dict[str, Any] = {"id": f"fleetgate/{decision.stage}/"}
    # The schema only admits RFC 4122 GUIDs; a decision id of another form stays in run.properties.
    if _GUID.match(decision.decision_id):
        details["guid"] = decision.decision_id
    return details
