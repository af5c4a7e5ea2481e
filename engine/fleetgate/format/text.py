"""``--format text``: a table a developer can read in a terminal or a CI log.

Colour only on a TTY (and never when ``NO_COLOR`` is set; the caller decides). Each
deployment's denies come first; with evidence gathering off, one line says so instead of one
``evidence.missing`` warning per fact. A deployment whose artifact was reached shows its evidence
under its name, one line per evidence class (observed, derived, declared, not-assessable).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from fleetgate.decision import Subject
from fleetgate.format._evidence import evidence_lines
from fleetgate.format._finops import finops_lines, finops_view
from fleetgate.format._fold import evidence_off_note, is_missing_evidence, shown
from fleetgate.format.interface import Report

__all__ = ["format_text"]

_COLOURS = {
    "deny": "\033[31m",
    "warn": "\033[33m",
    "waived": "\033[36m",
    "admit": "\033[32m",
    "bold": "\033[1m",
}
_RESET = "\033[0m"


def format_text(report: Report) -> str:
    view = shown(report, fold=False)
    decision, colour = view.decision, report.colour

    def paint(style: str, text: str) -> str:
        return f"{_COLOURS[style]}{text}{_RESET}" if colour else text

    # Each deployment is followed by its own findings; columns line up across the whole report.
    blocks: list[tuple[str, list[tuple[str, str, str, str]]]] = [
        (_subject_line(subject, paint), _rows(subject)) for subject in decision.subjects
    ]
    if decision.findings:
        loose: list[tuple[str, str, str, str]] = [
            (f.severity, f.rule, f"{f.file}:{f.line}", f.message) for f in decision.findings
        ]
        blocks.append(("waivers", loose))
    widths = [max((len(r[i]) for _, rows in blocks for r in rows), default=0) for i in range(3)]
    lines: list[str] = []
    for heading, rows in blocks:
        lines.append(heading)
        lines.extend(_row(row, widths, paint) for row in rows)
    if not decision.subjects:
        lines.insert(0, "no OnDeviceModel manifest changed")
    denied = sum(1 for s in decision.subjects if not s.allowed)
    count = {
        severity: sum(1 for s in decision.subjects for f in s.violations if f.severity == severity)
        for severity in ("deny", "warn")
    }
    count["warn"] += len(decision.findings)
    waived = sum(len(s.waived) for s in decision.subjects)
    verdict = paint("admit", "ADMIT") if decision.allowed else paint("deny", "DENY")
    finops = finops_view(decision)
    if finops is not None:
        lines.extend(["", *finops_lines(finops)])
    lines.append("")
    if view.hidden:
        lines.append(evidence_off_note(view.hidden))
    denied_rules = sorted({f.rule for s in decision.subjects for f in s.violations if f.severity == "deny"})
    if denied_rules:
        lines.append(f"how to fix: fleetgate explain RULE  ({', '.join(denied_rules)})")
    lines.append(
        f"{paint('bold', 'decision')}: {verdict}  {len(decision.subjects)} deployment(s), {denied} denied; "
        f"{count['deny']} violation(s), {count['warn']} warning(s), {waived} waived  "
        f"(stage {decision.stage}, policy {decision.policy_revision[:19]})"
    )
    return "\n".join(lines) + "\n"


def _rows(subject: Subject) -> list[tuple[str, str, str, str]]:
    """Denies and waived findings one per row; warnings of one rule folded into one row.

    A subject without gathered evidence has one ``evidence.missing.<fact>`` finding per fact:
    listing each would bury the denies, so the text report shows the first of a rule family
    (the rule name up to its second dot) and counts the rest, also at pre-deploy where they deny
    (``--format json`` lists every one).
    """
    rows: list[tuple[str, str, str, str]] = []
    first: dict[tuple[str, str], int] = {}
    more: Counter[tuple[str, str]] = Counter()
    for finding in subject.violations:
        family = ".".join(finding.rule.split(".")[:2])
        key = (finding.severity, family)
        folds = finding.severity == "warn" or is_missing_evidence(finding.rule)
        if folds and key in first:
            more[key] += 1
            continue
        if folds:
            first[key] = len(rows)
        rows.append((finding.severity, finding.rule, f"{finding.file}:{finding.line}", finding.message))
    for folded, extra in more.items():
        severity, name, where, message = rows[first[folded]]
        rows[first[folded]] = (severity, name, where, f"{message} (+{extra} more like it)")
    for finding in subject.waived:
        note = (
            f"{finding.message} [waived until {finding.waiver.expires}]"
            if finding.waiver
            else finding.message
        )
        rows.append(("waived", finding.rule, f"{finding.file}:{finding.line}", note))
    return rows


def _subject_line(subject: Subject, paint: Callable[[str, str], str]) -> str:
    state = paint("admit", "admit") if subject.allowed else paint("deny", "deny ")
    version = f" {subject.version}" if subject.version else ""
    line = f"{state}  {subject.target}{version}  ({subject.change}, {subject.file})"
    classes = evidence_lines(subject.evidence)
    width = max((len(kind) for kind, _ in classes), default=0)
    shown = [
        f"    {'evidence' if i == 0 else '':8}  {kind.ljust(width)}  {facts}"
        for i, (kind, facts) in enumerate(classes)
    ]
    return "\n".join([line, *shown])


def _row(row: tuple[str, str, str, str], widths: list[int], paint: Callable[[str, str], str]) -> str:
    severity, rule, where, message = row
    cell = paint(severity, severity.ljust(widths[0]))
    return f"    {cell}  {rule.ljust(widths[1])}  {where.ljust(widths[2])}  {message}"
