"""Waivers: time-boxed, approved exceptions to a deny, kept in git next to the manifests.

A waiver ``{rule, target: namespace/name, reason, approvedBy, expires}`` turns a matching deny
into a *waived* finding (still reported, and recorded). An expired waiver is ignored and reported
as ``waiver.expired``; a waiver that matched nothing is reported as ``waiver.unused`` (both
when their deployment was evaluated, or in a scan of the whole repository). ``schema.invalid``
cannot be waived: a manifest the gate cannot read reliably cannot be excepted either.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleetgate.errors import ManifestError, WaiverError
from fleetgate.manifest import read_documents

if TYPE_CHECKING:
    from fleetgate.decision import Finding

__all__ = ["UNWAIVABLE", "Waiver", "WaiverOutcome", "WaiverReview", "parse_waivers", "settle_waivers"]

UNWAIVABLE = frozenset({"schema.invalid"})
_TARGET = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_FIELDS = ("rule", "target", "reason", "approvedBy", "expires")


@dataclass(frozen=True)
class Waiver:
    rule: str
    target: str
    reason: str
    approved_by: str
    expires: dt.date
    file: str
    line: int
    ticket: str | None = None
    # Why nobody's approval of this waiver could be checked (it applies all the same); None: verified.
    unverified: str | None = field(default=None, compare=False)

    def expired(self, today: dt.date) -> bool:
        """A waiver is valid through the whole of its ``expires`` day (UTC)."""
        return today > self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "target": self.target,
            "reason": self.reason,
            "approvedBy": self.approved_by,
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class WaiverOutcome:
    """How each waiver fared in one run: ``applied`` maps a waiver to the findings it waived."""

    applied: tuple[Waiver, ...]
    expired: tuple[Waiver, ...]
    unused: tuple[Waiver, ...]


@dataclass(frozen=True)
class WaiverReview:
    """The waivers that may apply, and a ``waiver.unverified`` finding for each one held back."""

    applicable: tuple[Waiver, ...]
    findings: tuple[Finding, ...]


def parse_waivers(data: bytes, file: str) -> list[Waiver]:
    """Read a waiver file; :class:`WaiverError` at ``file:line`` for any malformed entry."""
    try:
        documents = [d for d in read_documents(data, file) if d.value is not None]
    except ManifestError as exc:
        raise WaiverError(exc.message) from None
    if not documents:
        return []
    document = documents[0]
    entries = document.value.get("waivers") if isinstance(document.value, dict) else None
    if len(documents) != 1 or not isinstance(entries, list):
        raise WaiverError(f"{file}:1: expected a mapping with a 'waivers' list")
    return [_waiver(entry, file, document.lines.get(("waivers", i), 1)) for i, entry in enumerate(entries)]


def _waiver(entry: Any, file: str, line: int) -> Waiver:
    where = f"{file}:{line}"
    if not isinstance(entry, dict):
        raise WaiverError(f"{where}: a waiver must be a mapping with {', '.join(_FIELDS)}")
    missing = [k for k in _FIELDS if not isinstance(entry.get(k), str) or not entry[k].strip()]
    if missing:
        raise WaiverError(f"{where}: waiver needs a non-empty {', '.join(missing)}")
    unknown = sorted(set(entry) - {*_FIELDS, "ticket"})
    if unknown:
        raise WaiverError(f"{where}: unknown waiver field {unknown[0]!r}")
    if entry["rule"] in UNWAIVABLE:
        raise WaiverError(f"{where}: {entry['rule']} cannot be waived (fix the manifest instead)")
    if not _TARGET.match(entry["target"]):
        raise WaiverError(f"{where}: target {entry['target']!r} must be <namespace>/<name>")
    try:
        expires = dt.date.fromisoformat(entry["expires"])
    except ValueError:
        raise WaiverError(f"{where}: expires {entry['expires']!r} is not a YYYY-MM-DD date") from None
    ticket = entry.get("ticket")
    return Waiver(
        entry["rule"],
        entry["target"],
        entry["reason"].strip(),
        entry["approvedBy"].strip(),
        expires,
        file,
        line,
        str(ticket) if ticket is not None else None,
    )


def settle_waivers(
    waivers: Sequence[Waiver],
    denied: Iterable[tuple[str, str]],
    evaluated: Iterable[str],
    today: dt.date,
    complete: bool = False,
) -> tuple[dict[tuple[str, str], Waiver], WaiverOutcome]:
    """Decide which waivers apply. Pure: no I/O, ``today`` is given.

    ``denied`` lists (target, rule) pairs that policies denied; ``evaluated`` the targets checked
    in this run. Expired and unused waivers are reported only for deployments this run
    evaluated (a pull request is not warned about waivers of deployments it does not touch),
    or for every deployment when ``complete`` (the whole repository was scanned). Returns the
    waiver covering each denied pair and what happened to the relevant waivers.
    """
    denied_pairs = set(denied)
    targets = set(evaluated)
    cover: dict[tuple[str, str], Waiver] = {}
    applied: list[Waiver] = []
    expired: list[Waiver] = []
    unused: list[Waiver] = []
    for waiver in waivers:
        key = (waiver.target, waiver.rule)
        relevant = waiver.target in targets or complete
        if waiver.expired(today):
            if relevant:
                expired.append(waiver)
        elif key in denied_pairs:
            cover.setdefault(key, waiver)
            applied.append(waiver)
        elif relevant:
            unused.append(waiver)
    return cover, WaiverOutcome(tuple(applied), tuple(expired), tuple(unused))
