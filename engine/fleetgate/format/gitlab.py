"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues in the subset of the Code Climate issue format GitLab reads:
``description``, ``check_name``, ``fingerprint``, ``severity``, ``location.path`` and
``location.lines.begin`` (plus ``type``, ``categories`` and ``engine_name``, which other Code
Climate readers use and GitLab ignores).

Severities: a deny is ``critical``, ranking above the ``major``/``minor`` most linters emit so
an admission failure heads the merge request widget; ``blocker`` is left unused because
fleetgate has nothing above a deny. A warning is ``minor``: worth reading, never blocking.

GitLab has no notion of a suppressed issue, yet a waived deny is exactly what a reviewer should
see: it is reported as ``info`` with the waiver's approver and expiry. Its fingerprint differs
from the unwaived deny's (the widget compares fingerprints between the target branch and the
merge request), so adding a waiver shows as "critical fixed, info new" and a lapsed waiver
brings the critical issue back as new. Otherwise fingerprints are the SARIF ones (rule,
deployment, field; never the line), unique within a report because GitLab folds issues that
share a fingerprint into one entry.

FinOps: Code Quality is the only view of a merge request that a report file fills on every
GitLab tier, so the FinOps table travels there, one ``info`` issue per priced deployment
(``check_name`` ``finops.estimate``) whose description is that deployment's row: devices before
and after, new downloads, bytes, egress, the namespace's window total against its envelope and
the count of inputs that could not be priced. Its fingerprint covers the figures, so a change
that moves the estimate shows in the widget as one estimate resolved and one new.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fleetgate.decision import Decision
from fleetgate.format._findings import Occurrence, occurrences
from fleetgate.format._finops import finops_cells, finops_view
from fleetgate.format._fold import shown
from fleetgate.format._json_text import indented
from fleetgate.format.interface import Report

__all__ = ["format_gitlab"]

_SEVERITY = {"deny": "critical", "warn": "minor"}
# Code Climate's category names; a rule area that is none of these is a "Bug Risk".
_CATEGORIES = {"supplychain": "Security", "cost": "Performance", "targeting": "Compatibility"}


def format_gitlab(report: Report) -> str:
    # A deployment's evidence.missing findings are one issue; with evidence off, none.
    decision = shown(report).decision
    issues = [_issue(occurrence) for occurrence in occurrences(decision)] + _finops_issues(decision)
    return indented(issues) + "\n"


def _finops_issues(decision: Decision) -> list[dict[str, Any]]:
    """The FinOps table, one ``info`` issue per priced deployment (at its manifest's first line)."""
    view = finops_view(decision)
    if view is None:
        return []
    files = {s.target: s.file for s in decision.subjects if s.kind == "deployment"}
    issues = []
    for row in view["deployments"]:
        target, devices, downloads, delivered, egress, window = finops_cells(row)
        envelope = f"; namespace window {window}" if window else ""
        description = (
            f"{target}: FinOps estimate of this step: devices {devices.replace(' -> ', ' → ')}, "
            f"{downloads} new downloads, {delivered}, {egress} of egress{envelope}; "
            f"{row['unpriced']} input(s) could not be priced"
        )
        fingerprint = hashlib.sha256(f"finops.estimate\0{target}\0{description}".encode()).hexdigest()
        issues.append(
            {
                "type": "issue",
                "engine_name": "fleetgate",
                "check_name": "finops.estimate",
                "description": description,
                "categories": ["Performance"],
                "severity": "info",
                "fingerprint": fingerprint,
                "location": {"path": files.get(target, "fleetgate.yaml"), "lines": {"begin": 1}},
            }
        )
    return issues


def _issue(occurrence: Occurrence) -> dict[str, Any]:
    finding = occurrence.finding
    scope = f"{occurrence.target}: " if occurrence.target else ""
    description = f"{scope}{finding.message}"
    severity = _SEVERITY[finding.severity]
    fingerprint = occurrence.fingerprint
    if finding.waiver is not None:
        waiver = finding.waiver
        description += (
            f" (waived by {waiver.approved_by} until {waiver.expires.isoformat()}: {waiver.reason})"
        )
        severity = "info"
        fingerprint = hashlib.sha256(f"{fingerprint}\0waived".encode()).hexdigest()
    return {
        "type": "issue",
        "engine_name": "fleetgate",
        "check_name": finding.rule,
        "description": description,
        "categories": [_CATEGORIES.get(finding.rule.split(".", 1)[0], "Bug Risk")],
        "severity": severity,
        "fingerprint": fingerprint,
        "location": {"path": finding.file, "lines": {"begin": max(1, finding.line)}},
    }
