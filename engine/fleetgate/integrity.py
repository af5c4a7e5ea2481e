"""Gate integrity: which gate files a change touches, what it loosened, and who approved it.

The change under review is judged by the gate files of the trusted revision (see
:mod:`fleetgate.files`). What it does to those files is reported as its own subject, "gate
configuration", with one ``gate.config-changed`` finding per changed key at its ``file:line``.
Pure functions over what the check read; the signatures come in as :class:`Approval` values.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from fleetgate.decision import Finding, Severity, Subject
from fleetgate.errors import FleetgateError
from fleetgate.files import GateFiles, GatePaths
from fleetgate.manifest import format_path, read_documents
from fleetgate.waivers import Waiver, WaiverReview

if TYPE_CHECKING:
    from fleetgate.approvals import Approval

__all__ = [
    "GATE_NAME",
    "GATE_NAMESPACE",
    "GatePaths",
    "GateReview",
    "WaiverReview",
    "gate_findings",
    "non_deployment",
    "review_waivers",
]

GATE_NAMESPACE, GATE_NAME = "fleetgate", "gate-configuration"
RULE = "gate.config-changed"
_STRUCTURED = (".yaml", ".yml", ".json")
_MAX_FILE = 1 << 20
_MAX_PER_FILE = 25
_ABSENT: Any = object()


@dataclass(frozen=True)
class GateReview:
    """How a gate change is to be judged.

    ``enforced`` is False where nobody could approve anything: a local check of uncommitted
    files, or a repository whose trusted revision has no configuration yet (the bootstrap).
    """

    enforced: bool
    approval: Approval | None  # None: gate.allowedSigners is not configured
    approvers: tuple[str, ...] = ()
    threshold: int = 1
    note: str = ""

    def approved_by(self) -> tuple[str, ...]:
        if self.approval is None:
            return ()
        return tuple(p for p in self.approval.principals if p in self.approvers)

    def approved(self) -> bool:
        return bool(self.approvers) and len(self.approved_by()) >= self.threshold


def non_deployment(name: str, kind: Literal["gate", "repository"], findings: Sequence[Finding]) -> Subject:
    """A subject for findings about no deployment: the gate's own files, the repository's layout."""
    return Subject(
        file=findings[0].file,
        namespace=GATE_NAMESPACE,
        name=name,
        change="modified",
        model_id=None,
        version=None,
        violations=tuple(sorted(findings, key=lambda f: (f.severity != "deny", f.file, f.line, f.rule))),
        waived=(),
        evidence={},
        reasons=(f"{'gate files' if kind == 'gate' else 'repository layout'} changed",),
        kind=kind,
    )


def gate_findings(
    changed: Sequence[str], trusted: GateFiles, head: GateFiles, review: GateReview
) -> list[Finding]:
    """One ``gate.config-changed`` finding per changed key (per file for non-YAML files)."""
    severity, suffix = _verdict(review)
    findings: list[Finding] = []
    for path in changed:
        old = trusted.read(path, _MAX_FILE, "gate file", FleetgateError)
        new = head.read(path, _MAX_FILE, "gate file", FleetgateError)
        for line, text, field in _describe(path, old, new):
            findings.append(Finding(RULE, severity, f"{text}{suffix}", path, line, field))
    return findings


def _verdict(review: GateReview) -> tuple[Severity, str]:
    if review.approved():
        return "warn", f" (approved by {', '.join(review.approved_by())} in signed commits)"
    if not review.enforced:
        return "warn", f" ({review.note})" if review.note else ""
    if review.approval is None:
        why = "configure gate.allowedSigners and gate.approvers so that signed commits can approve it"
    elif not review.approvers:
        why = "gate.approvers names nobody who may approve it"
    else:
        have = ", ".join(review.approved_by()) or "nobody"
        detail = f"; {review.approval.reason}" if review.approval.reason else ""
        why = (
            f"it needs {review.threshold} of gate.approvers ({', '.join(review.approvers)}) "
            f"signing the commits that carry it, has {have}{detail}"
        )
    return "deny", f"; the change is judged by the trusted configuration, and {why}"


def _describe(path: str, old: bytes | None, new: bytes | None) -> list[tuple[int, str, str]]:
    if old is None or new is None:
        state = "added" if old is None else "removed"
        return [(1, f"gate file {path} {state}", "")]
    if posixpath.splitext(path)[1] in _STRUCTURED:
        described = _structured(path, old, new)
        if described is not None:
            return described
    return [(1, f"gate file {path} changed", "")]


def _structured(path: str, old: bytes, new: bytes) -> list[tuple[int, str, str]] | None:
    try:
        before, after = read_documents(old, path), read_documents(new, path)
    except FleetgateError:
        return None
    if len(before) != 1 or len(after) != 1:
        return None
    lines = after[0].lines
    found: list[tuple[int, str, str]] = []
    for key, text in _changes((), before[0].value, after[0].value):
        field = format_path(key)
        line = next((lines[key[:n]] for n in range(len(key), -1, -1) if key[:n] in lines), 1)
        found.append((line, f"{path}: {field or 'document'} {text}", field))
    if len(found) > _MAX_PER_FILE:
        more = len(found) - _MAX_PER_FILE
        found = [*found[:_MAX_PER_FILE], (1, f"{path}: and {more} more changed keys", "")]
    return found or [(1, f"gate file {path} changed (formatting only)", "")]


def _changes(key: tuple[Any, ...], old: Any, new: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Readable differences: ``a.b 50 → 500``, ``keys + k/new.pub``, ``x removed``."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[tuple[tuple[Any, ...], str]] = []
        for name in [*new, *(k for k in old if k not in new)]:
            before, after = old.get(name, _ABSENT), new.get(name, _ABSENT)
            if isinstance(before, Mapping) and after is _ABSENT:
                after = {}
            if isinstance(after, Mapping) and before is _ABSENT:
                before = {}
            if before is _ABSENT:
                out.append(((*key, name), f"added: {_show(after, _sized((*key, name)))}"))
            elif after is _ABSENT:
                out.append(((*key, name), f"removed (was {_show(before)})"))
            else:
                out.extend(_changes((*key, name), before, after))
        return out
    if isinstance(old, list) and isinstance(new, list) and all(_scalar(v) for v in (*old, *new)):
        added = [_show(v) for v in new if v not in old]
        removed = [_show(v) for v in old if v not in new]
        parts = [f"+ {v}" for v in added] + [f"- {v}" for v in removed]
        return [(key, " ".join(parts))] if parts else []
    if old != new or type(old) is not type(new):
        return [(key, f"{_show(old, _sized(key))} → {_show(new, _sized(key))}")]
    return []


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _sized(key: tuple[Any, ...]) -> bool:
    """Whether a setting holds a size in bytes (shown in MiB): its name or a parent's says so."""
    return any("bytes" in str(part).lower() for part in key)


def _show(value: Any, sized: bool = False) -> str:
    if sized and isinstance(value, int) and not isinstance(value, bool) and value >= 1024:
        return f"{value / (1 << 20):g} MiB" if value % (1 << 10) == 0 else f"{value} bytes"
    text = repr(value) if isinstance(value, str) and not value else str(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def review_waivers(
    head: Sequence[Waiver],
    trusted: Sequence[Waiver],
    approval_of: Callable[[Waiver], Approval] | None,
) -> WaiverReview:
    """Waivers of the trusted revision apply as they are; added or edited ones need their approver.

    ``approval_of`` is ``None`` when no allowed_signers file is configured: every waiver then
    applies as before, marked unverified so the decision says nobody's approval was checked.
    """
    known = {_content(w) for w in trusted}
    applicable: list[Waiver] = []
    findings: list[Finding] = []
    for waiver in head:
        if approval_of is None:
            reason = "gate.allowedSigners is not configured, so nobody's approval of it was checked"
            applicable.append(replace(waiver, unverified=reason))
        elif _content(waiver) in known:
            applicable.append(waiver)
        else:
            approval = approval_of(waiver)
            if approval.by(waiver.approved_by):
                applicable.append(waiver)
            else:
                why = (
                    approval.reason
                    or f"signed by {', '.join(approval.principals)}, not by {waiver.approved_by}"
                )
                findings.append(_unverified(waiver, f"not applied: {why}"))
    return WaiverReview(tuple(applicable), tuple(findings))


def _content(waiver: Waiver) -> tuple[str, ...]:
    expires = waiver.expires.isoformat()
    return (waiver.rule, waiver.target, waiver.reason, waiver.approved_by, expires, waiver.ticket or "")


def _unverified(waiver: Waiver, why: str) -> Finding:
    message = f"waiver for {waiver.rule} on {waiver.target} (approvedBy {waiver.approved_by}) {why}"
    return Finding("waiver.unverified", "warn", message, waiver.file, waiver.line, "")
