"""``--format github``: annotations on the pull request, and a Markdown job summary.

:func:`format_github` writes one GitHub Actions workflow command per finding
(``::error file=models/a.yaml,line=17,title=rollout.ladder (production/a)::...``): the runner
turns each into an annotation at ``file:line`` of the pull request. GitHub shows only 10
annotations of each kind per step (``::error``, ``::warning``, ``::notice``), so denies come
first, and a deployment's ``evidence.missing`` findings are folded into one (see
:mod:`fleetgate.format._fold`). The plain lines after the commands say where every finding is:
the job summary in GitHub Actions, ``--format json`` anywhere.

:func:`job_summary` is the Markdown the CLI appends to ``$GITHUB_STEP_SUMMARY``: the decision,
each deny with the ``fleetgate explain`` command that says how to fix it, one table row per
deployment, the warnings in a collapsed ``<details>``, the waived denies and every waiver, kept
under GitHub's 1 MiB limit.

Both are pure. Every value that comes from a manifest, a policy or a waiver file is escaped, so
a message can neither start a workflow command of its own nor inject Markdown or HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fleetgate.decision import Decision, Finding, Subject
from fleetgate.format._finops import finops_cells, finops_view
from fleetgate.format._fold import evidence_off_note, shown
from fleetgate.format.interface import Report
from fleetgate.waivers import Waiver

__all__ = ["ANNOTATIONS_SHOWN", "SUMMARY_BUDGET", "format_github", "job_summary"]

ANNOTATIONS_SHOWN = 10
"""Annotations of one kind GitHub shows per step; the rest are dropped silently."""

SUMMARY_BUDGET = 1_000_000
"""Bytes (UTF-8) the job summary may take: GitHub refuses a step summary over 1 MiB."""

_CELL_CHARS = 1_000  # one absurd message must not eat the whole summary
# CR, LF and CRLF end a Markdown line; the other Unicode line breaks become <br> as well, so that no
# tool that splits lines more eagerly (as Python's str.splitlines does) sees a table row cut in two.
_NEWLINE = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKUP = re.compile(r"[&<>\\`*_\[\]|~$!]|:(?=[\w+-]+:)|(?<!\w)@(?=\w)")

_Command = Literal["error", "warning", "notice"]


@dataclass(frozen=True)
class _Annotation:
    command: _Command
    finding: Finding
    target: str  # namespace/name; empty for findings about the waiver file itself


def format_github(report: Report) -> str:
    """Workflow commands, one per finding (denies first), then a count and the verdict.

    Only the commands start with ``::``; the closing lines are plain log text.
    """
    view = shown(report)
    decision = view.decision
    annotations = _annotations(decision)
    lines: list[str] = []
    if view.hidden:
        lines.append(f"::notice title=fleetgate: evidence off::{_data(evidence_off_note(view.hidden))}")
    lines += [_command(annotation) for annotation in annotations]
    if lines:
        # The annotations show on the pull request; in the log they fold away under one line.
        lines = [f"::group::fleetgate: {_count(len(lines), 'annotation')}", *lines, "::endgroup::"]
    lines.append(_findings_line(annotations, report.job_summary))
    lines.append(f"fleetgate: {_verdict(decision)}")
    return "\n".join(lines) + "\n"


def job_summary(report: Report) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``, at most :data:`SUMMARY_BUDGET` bytes.

    When the findings do not fit, a table stops early and says how many rows it left out; the
    JSON decision always has every one.
    """
    view = shown(report)
    decision = view.decision
    annotations = _annotations(decision)
    head = [_title(decision), "", _md(f"{_outcome(decision)}: {_tally(annotations)}.")]
    if view.hidden:
        head += ["", _md(evidence_off_note(view.hidden))]
    head += _limit_note(annotations)
    rest = SUMMARY_BUDGET - _size(head) - 1_000  # headings, blank lines and <details> tags
    denies = [a for a in annotations if a.command == "error"]
    denied = _bounded([_deny_row(a) for a in denies], _DENY_HEADER, rest // 2, "denied finding")
    rest -= _size(denied)
    subjects = _bounded(_subject_rows(decision.subjects), _SUBJECT_HEADER, rest // 4, "deployment")
    rest -= _size(subjects)
    finops = finops_view(decision)
    costs = _bounded(_finops_rows(finops), _FINOPS_HEADER, rest // 4, "deployment") if finops else []
    rest -= _size(costs)
    waived_rows = [_finding_row(a) for a in annotations if a.command == "notice"]
    waived = _bounded(waived_rows, _FINDING_HEADER, rest // 4, "waived finding")
    rest -= _size(waived)
    waivers = _bounded(_waiver_rows(decision), _WAIVER_HEADER, rest // 4, "waiver")
    rest -= _size(waivers)
    warning_rows = [_finding_row(a) for a in annotations if a.command == "warning"]
    warnings = _bounded(warning_rows, _FINDING_HEADER, rest, "warning")
    sections = [head]
    sections.append(["### Denied", "", *(denied or ["Nothing was denied."])])
    sections.append(["### Deployments", "", *(subjects or ["No OnDeviceModel manifest changed."])])
    if costs:
        sections.append(["### FinOps (estimate)", "", *costs])
    sections.append(["### Warnings", "", *_collapsed(warnings, len(warning_rows))])
    if waived:
        sections.append(["### Waived denies", "", *waived])
    sections.append(["### Waivers", "", *(waivers or ["No waiver was applied, expired or left unused."])])
    # The leading blank line closes whatever the step wrote to its summary file before (a paragraph,
    # a table), so the heading starts a block of its own.
    return "\n" + "\n\n".join("\n".join(section) for section in sections) + "\n"


def _title(decision: Decision) -> str:
    icon = "✅" if decision.allowed else "❌"
    verdict = "admit" if decision.allowed else "deny"
    return (
        f"## {icon} fleetgate: {verdict} · stage {_md(decision.stage)} · "
        f"policy {_md(decision.policy_revision[:19])}"
    )


def _collapsed(table: list[str], count: int) -> list[str]:
    """The warnings table folded away: a reviewer opens it when the denies are dealt with."""
    if not table:
        return ["No warnings."]
    summary = (
        f"{_count(count, 'warning')} (missing evidence folded into one per deployment; "
        "<code>--format json</code> lists each)"
    )
    # The blank lines around the table let GitHub render Markdown inside the HTML block.
    return [f"<details><summary>{summary}</summary>", "", *table, "", "</details>"]


# -- what to report, in order ---------------------------------------------------------------------


def _annotations(decision: Decision) -> list[_Annotation]:
    """Denies of every deployment first, then warnings, then waived denies.

    GitHub drops annotations past the 10th of each kind per step and past the 50th per job,
    so the order decides which ones a reviewer sees on the pull request.
    """
    errors: list[_Annotation] = []
    warnings: list[_Annotation] = []
    located = [(f, s.target) for s in decision.subjects for f in s.violations]
    located += [(f, "") for f in decision.findings]
    for finding, target in located:
        if finding.severity == "deny":
            errors.append(_Annotation("error", finding, target))
        else:
            warnings.append(_Annotation("warning", finding, target))
    notices = [_Annotation("notice", f, s.target) for s in decision.subjects for f in s.waived]
    return errors + warnings + notices


def _message(annotation: _Annotation) -> str:
    finding, waiver = annotation.finding, annotation.finding.waiver
    message = finding.message or finding.rule
    if annotation.command == "notice" and waiver is not None:
        return f"{message} (waived: approved by {waiver.approved_by} until {waiver.expires}: {waiver.reason})"
    return message


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _verdict(decision: Decision) -> str:
    return f"{'ADMIT' if decision.allowed else 'DENY'} ({_outcome(decision)})"


def _outcome(decision: Decision) -> str:
    total, denied = len(decision.subjects), sum(1 for s in decision.subjects if not s.allowed)
    if decision.allowed:
        return f"{_count(total, 'deployment')}, none denied"
    return f"{denied} of {_count(total, 'deployment')} denied"


def _tally(annotations: Sequence[_Annotation]) -> str:
    kinds = [a.command for a in annotations]
    return (
        f"{_count(kinds.count('error'), 'violation')}, {_count(kinds.count('warning'), 'warning')}, "
        f"{kinds.count('notice')} waived"
    )


# -- workflow commands ----------------------------------------------------------------------------


def _data(text: str) -> str:
    """Escape a command's data (the part after the second ``::``), as GitHub's runner expects.

    ``%`` goes first so the escapes themselves are never escaped again; CR and LF would end the
    command early and let the rest of the line be read as a new command.
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` (ends the properties) and ``,`` (separates them)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _command(annotation: _Annotation) -> str:
    finding = annotation.finding
    properties: list[tuple[str, str]] = []
    if finding.file:
        properties.append(("file", finding.file))
    if finding.line > 0:
        properties.append(("line", str(finding.line)))
    title = f"{finding.rule} ({annotation.target})" if annotation.target else finding.rule
    properties.append(("title", title))
    joined = ",".join(f"{key}={_property(value)}" for key, value in properties)
    return f"::{annotation.command} {joined}::{_data(_message(annotation))}"


def _findings_line(annotations: Sequence[_Annotation], job_summary: bool) -> str:
    """How many findings, and where to read all of them: only claim a summary that is written."""
    if not annotations:
        return "fleetgate: no findings."
    where = (
        "the job summary lists all of them"
        if job_summary
        else "--format json lists all of them (outside GitHub Actions no job summary is written)"
    )
    return (
        f"fleetgate: {_count(len(annotations), 'finding')} ({_tally(annotations)}). GitHub shows at most "
        f"{ANNOTATIONS_SHOWN} annotations of each kind per step; {where}."
    )


# -- Markdown -------------------------------------------------------------------------------------

_SUBJECT_HEADER = [
    "| deployment | change | file | decision | deny | warn | waived |",
    "|---|---|---|---|--:|--:|--:|",
]
_FINOPS_HEADER = [
    "| deployment | devices before → after | downloads | bytes | egress | window / envelope |",
    "|---|--:|--:|--:|--:|--:|",
]
_DENY_HEADER = ["| rule | deployment | location | message | how to fix |", "|---|---|---|---|---|"]
_FINDING_HEADER = ["| severity | rule | deployment | location | message |", "|---|---|---|---|---|"]
_WAIVER_HEADER = [
    "| state | rule | target | approved by | expires | reason | defined at |",
    "|---|---|---|---|---|---|---|",
]
_SEVERITY = {"error": "deny", "warning": "warn", "notice": "waived"}
# A rule name that can sit in a code span as it is (a code span has no escapes).
_PLAIN_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _finops_rows(view: Mapping[str, Any] | None) -> list[str]:
    """The FinOps table of the text report, one Markdown row per priced deployment."""
    if view is None:
        return []
    rows = (finops_cells(row) for row in view["deployments"])
    return ["| " + " | ".join(_md(cell.replace(" -> ", " → ")) for cell in cells) + " |" for cells in rows]


def _md(text: str, limit: int = 300) -> str:
    """Text that renders as itself in a Markdown table cell, on one source line.

    ``&``, ``<`` and ``>`` become entities (no HTML, no autolinks); the characters that start
    inline markup are backslash-escaped: emphasis, code, links and images, strikethrough, math,
    pipes that split the cell, and ``:`` or ``@`` where they would start an emoji shortcode or a
    mention. Everything else stays as written, so paths, versions and digests read plainly in
    the raw Markdown too. Line breaks become ``<br>``, the only markup the summary adds to a value.
    """
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "<br>".join(_inline(line) for line in _NEWLINE.split(text))


def _inline(text: str) -> str:
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text.replace("\t", " "))
    return _MARKUP.sub(lambda m: _ENTITIES.get(m.group(), f"\\{m.group()}"), text)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _subject_rows(subjects: Sequence[Subject]) -> list[str]:
    rows: list[str] = []
    for s in subjects:
        deny = sum(1 for f in s.violations if f.severity == "deny")
        warn = len(s.violations) - deny
        decision = "admit" if s.allowed else "**deny**"
        version = f" {s.version}" if s.version else ""
        cells = [_md(s.target + version), _md(s.change), _md(s.file), decision, str(deny), str(warn)]
        rows.append(_row([*cells, str(len(s.waived))]))
    return rows


def _deny_row(annotation: _Annotation) -> str:
    finding = annotation.finding
    rule = finding.rule
    command = f"fleetgate explain {rule}"
    explain = f"`{command}`" if _PLAIN_RULE.fullmatch(rule) else _md(command)
    cells = [
        f"**{_md(rule)}**",
        _md(annotation.target) if annotation.target else "—",
        _md(f"{finding.file}:{finding.line}"),
        _md(_message(annotation), _CELL_CHARS),
        explain,
    ]
    return _row(cells)


def _finding_row(annotation: _Annotation) -> str:
    finding = annotation.finding
    severity = _SEVERITY[annotation.command]
    cells = [
        f"**{severity}**" if severity == "deny" else severity,
        _md(finding.rule),
        _md(annotation.target) if annotation.target else "—",
        _md(f"{finding.file}:{finding.line}"),
        _md(_message(annotation), _CELL_CHARS),
    ]
    return _row(cells)


def _waiver_rows(decision: Decision) -> list[str]:
    outcome = decision.waivers
    states: list[tuple[str, Waiver]] = [("applied", w) for w in outcome.applied]
    states += [("expired", w) for w in outcome.expired]
    states += [("unused", w) for w in outcome.unused]
    rows: list[str] = []
    for state, w in states:
        reason = f"{w.reason} ({w.ticket})" if w.ticket else w.reason
        cells = [state, _md(w.rule), _md(w.target), _md(w.approved_by), _md(w.expires.isoformat())]
        rows.append(_row([*cells, _md(reason, _CELL_CHARS), _md(f"{w.file}:{w.line}")]))
    return rows


def _limit_note(annotations: Sequence[_Annotation]) -> list[str]:
    kinds: list[str] = [a.command for a in annotations]
    over = [k for k in ("error", "warning", "notice") if kinds.count(k) > ANNOTATIONS_SHOWN]
    if not over:
        return []
    counts = ", ".join(f"{kinds.count(k)} {k}s" for k in over)
    return [
        "",
        f"> GitHub shows at most {ANNOTATIONS_SHOWN} annotations of each kind per step, and this run has "
        f"{counts}: the pull request shows only the first {ANNOTATIONS_SHOWN} of each. "
        "The findings table below has no such limit.",
    ]


def _bounded(rows: Sequence[str], header: Sequence[str], budget: int, noun: str) -> list[str]:
    """``header`` and as many ``rows`` as fit in ``budget`` bytes, then how many were left out."""
    if not rows:
        return []
    kept = list(header)
    used = _size(kept) + 300  # room for the line that says what was left out
    for index, row in enumerate(rows):
        used += _size([row])
        if used > budget:
            left = len(rows) - index
            note = (
                f"*{_count(left, 'more ' + noun)} left out to keep this summary under 1 MiB; "
                "the JSON decision (`--format json`) lists every one.*"
            )
            # A blank line ends the table; without it the note would be read as one more row.
            return [*kept, "", note]
        kept.append(row)
    return kept


def _size(lines: Sequence[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)
