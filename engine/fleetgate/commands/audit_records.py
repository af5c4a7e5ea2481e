"""The decision log's records as auditors look them up and read them: ``audit query``, ``show``, ``prove``.

A record names its rules by outcome: *denied* (a deny finding in force), *warned* and *waived*
(a deny a waiver set aside). Filters and output keep the three apart, so a rule that only
warned never shows up as a reason for a deny.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fleetgate.audit.store.interface import AuditError, DecisionLog, QueryFilter, StoredRecord

__all__ = [
    "OutcomeFilter",
    "find_records",
    "near_matches",
    "outcomes",
    "query_records",
    "render_records",
    "summary",
]

OUTCOMES = ("denied", "warned", "waived")
_PAGE = 1000
_SCAN = 1000  # records read per step when looking for a check run's records, newest first


@dataclass(frozen=True)
class OutcomeFilter:
    """Rules a record must name with a given outcome (``None``: any)."""

    denied: str | None = None
    warned: str | None = None
    waived: str | None = None

    def wanted(self) -> dict[str, str]:
        return {o: rule for o in OUTCOMES if (rule := getattr(self, o)) is not None}


def outcomes(record: StoredRecord) -> dict[str, tuple[str, ...]]:
    """The record's rules by outcome, read from its hashed body."""
    result = _document(record).get("result")
    result = result if isinstance(result, Mapping) else {}
    violations = [f for f in _list(result.get("violations")) if isinstance(f, Mapping)]
    waived = [f for f in _list(result.get("waived")) if isinstance(f, Mapping)]
    return {
        "denied": _rules(f for f in violations if f.get("severity") == "deny"),
        "warned": _rules(f for f in violations if f.get("severity") == "warn"),
        "waived": _rules(waived),
    }


def query_records(
    log: DecisionLog, filters: QueryFilter, limit: int, by_outcome: OutcomeFilter = OutcomeFilter()
) -> list[StoredRecord]:
    """Records matching ``filters`` and ``by_outcome``, newest first, at most ``limit``.

    The store indexes rules without their outcome, so it narrows the search (the rule, and
    ``deny`` for a rule that denied) and the outcome is checked on each record's body.
    """
    wanted = by_outcome.wanted()
    if not wanted:
        return log.query(filters, limit)
    if filters.rule is None:
        filters = replace(filters, rule=next(iter(wanted.values())))
    if "denied" in wanted and filters.decision is None:
        filters = replace(filters, decision="deny")
    found: list[StoredRecord] = []
    seen: set[int] = set()
    offset = 0
    while len(found) < limit:
        page = log.query(filters, _PAGE, offset)
        for record in page:
            named = outcomes(record)
            if record.seq not in seen and all(_names(named[o], rule) for o, rule in wanted.items()):
                seen.add(record.seq)
                found.append(record)
        if len(page) < _PAGE:
            break
        offset += _PAGE
    return found[:limit]


def _names(rules: tuple[str, ...], wanted: str) -> bool:
    """``wanted`` is a rule or a rule family: evidence.missing names evidence.missing.<fact> too."""
    return any(rule == wanted or rule.startswith(f"{wanted}.") for rule in rules)


# The filters whose values a person types, and where a near match is worth suggesting.
_SUGGESTED = ("namespace", "name", "model_id", "rule", "signer", "stage", "decision")
_SAMPLE = 2000


def near_matches(log: DecisionLog, filters: QueryFilter) -> list[str]:
    """For a query that matched nothing: each typed filter value's closest values in the log.

    Looks at the newest records within the other filters (time, revision, digest: a bounded
    sample), never the whole log.
    """
    import difflib

    hints: list[str] = []
    typed: dict[str, Any] = {c: None for c in _SUGGESTED}
    sample = log.query(replace(filters, **typed), _SAMPLE)
    for column in _SUGGESTED:
        value = getattr(filters, column)
        if value is None:
            continue
        seen = {str(v) for r in sample for v in _values(r, column)}
        close = difflib.get_close_matches(str(value), sorted(seen), n=3, cutoff=0.6)
        if close:
            hints.append(f"no record has {column} {value!r}; did you mean {', '.join(map(repr, close))}?")
    return hints


def _values(record: StoredRecord, column: str) -> tuple[Any, ...]:
    return tuple(record.rules) if column == "rule" else (getattr(record, column, None),)


def find_records(log: DecisionLog, ref: str) -> list[StoredRecord]:
    """The records ``ref`` names: a sequence number, a record's id, or a check run's decision id."""
    if ref.isdigit():
        record = log.record(int(ref))
        if record is None:
            raise AuditError(f"no record with sequence number {ref} (the log has {log.size()})")
        return [record]
    record = log.find(ref)
    if record is not None:
        return [record]
    run = _run_records(log, ref)
    if not run:
        raise AuditError(f"no record, and no check run, with id {ref}")
    return run


def _run_records(log: DecisionLog, run_id: str) -> list[StoredRecord]:
    """The records one check run appended (they share its decision id), looked for newest first.

    A run appends its records in one transaction, so they are contiguous: the scan stops at
    the first chunk that has some of them but does not end with one.
    """
    needle = f'"gate_decision_id":{json.dumps(run_id)}'.encode()
    found: list[StoredRecord] = []
    end = log.size()
    while end > 0:
        start = max(0, end - _SCAN)
        chunk = [r for r in log.records(start, end) if needle in r.body]
        found = chunk + found
        if found and (not chunk or chunk[0].seq > start):
            break
        end = start
    return found


def render_records(records: Sequence[StoredRecord], style: str) -> str:
    """``table`` for people, ``json`` (one document per line) or ``csv`` for tools."""
    if style == "json":
        return "".join(r.body.decode("utf-8") + "\n" for r in records)
    columns = ("seq", "decision_id", "timestamp", "decision", "stage", "namespace", "name", "model_id")
    header = (*columns, "version", *OUTCOMES)
    rows = [[*(_cell(getattr(r, c)) for c in columns), _cell(r.version), *_outcome_cells(r)] for r in records]
    if style == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue()
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _outcome_cells(record: StoredRecord) -> list[str]:
    named = outcomes(record)
    return [",".join(named[o]) for o in OUTCOMES]


def summary(record: StoredRecord) -> str:
    """A record for people: which deployment, what was decided, why, and on what."""
    document = _document(record)
    lines = [
        f"record      {record.decision_id} (sequence number {record.seq})",
        f"time        {record.timestamp}",
        f"deployment  {record.namespace}/{record.name}  {_text(document.get('file'))}  "
        f"model {record.model_id or '-'} {record.version or ''}".rstrip(),
    ]
    if record.kind == "override":
        lines.append(f"override    of {document.get('overrides')} by {document.get('by')}")
        lines.append(f"            why: {document.get('reason')}  ticket: {document.get('ticket')}")
        return "\n".join(lines) + "\n"
    lines += [
        f"check run   {_text(document.get('gate_decision_id'))}",
        f"decision    {record.decision} at {record.stage}",
    ]
    result = document.get("result")
    result = result if isinstance(result, Mapping) else {}
    for label, findings in (("denied", "violations"), ("waived", "waived")):
        for finding in _list(result.get(findings)):
            if isinstance(finding, Mapping):
                lines.append(_finding_line(label, finding))
    signed = f"  signed by {record.signer}" if record.signer else ""
    lines += [
        f"artifact    {record.artifact_digest or '-'}{signed}",
        f"policy      {record.policy_revision or '-'}",
        f"commits     {_commits(document.get('commits'))}",
    ]
    return "\n".join(lines) + "\n"


def _finding_line(label: str, finding: Mapping[str, Any]) -> str:
    if label == "denied" and finding.get("severity") == "warn":
        label = "warned"
    where = f"{finding.get('file')}:{finding.get('line')}"
    line = f"{label:<11} {finding.get('rule')}  {where}  {finding.get('message')}"
    waiver = finding.get("waiver")
    if isinstance(waiver, Mapping):
        line += (
            f"  (approved by {waiver.get('approvedBy')}: {waiver.get('reason')}, "
            f"ticket {waiver.get('ticket') or '-'}, until {waiver.get('expires')})"
        )
    return line


def _commits(commits: Any) -> str:
    if not isinstance(commits, Mapping):
        return "-"
    return f"head {_text(commits.get('head'))}, base {_text(commits.get('base'))}"


def _document(record: StoredRecord) -> dict[str, Any]:
    try:
        document = json.loads(record.body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _rules(findings: Any) -> tuple[str, ...]:
    return tuple(sorted({str(f.get("rule")) for f in findings}))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
