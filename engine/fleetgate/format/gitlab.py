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
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fleetgate.format._findings import Occurrence, occurrences
from fleetgate.format._fold import shown
from fleetgate.format.interface import Report

__all__ = ["format_gitlab"]

_SEVERITY = {"deny": "critical", "warn": "minor"}
# Code Climate's category names; a rule area that is none of these is a "Bug Risk".
_CATEGORIES = {"supplychain": "Security", "cost": "Performance", "targeting": "Compatibility"}


def format_gitlab(report: Report) -> str:
    # A deployment's evidence.missing findings are one issue; with evidence off, none.
    issues = [_issue(occurrence) for occurrence in occurrences(shown(report).decision)]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


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
