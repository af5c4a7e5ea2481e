"""The result of one provenance check, and how two checks combine into one fact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetgate.evidence._kit import one_line

__all__ = ["ABSENT", "FAILED", "VERIFIED", "Outcome", "combine", "failed"]

VERIFIED = "verified"
FAILED = "failed"
ABSENT = "absent"


@dataclass(frozen=True)
class Outcome:
    """``status`` with the fact keys this check contributes; ``reason`` unless verified."""

    status: str
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def failed(reason: str, details: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome(FAILED, one_line(reason), dict(details or {}))


def combine(outcomes: list[Outcome]) -> Outcome:
    """Both checks must verify: any failure wins, then any absence, else verified.

    The details of every check are kept, so a failed fact still names what was checked.
    """
    details: dict[str, Any] = {}
    for outcome in outcomes:
        details.update(outcome.details)
    for status in (FAILED, ABSENT):
        reasons = [o.reason for o in outcomes if o.status == status and o.reason]
        if any(o.status == status for o in outcomes):
            return Outcome(status, one_line("; ".join(reasons)), details)
    return Outcome(VERIFIED, None, details)
