"""What a deploy step requires of a verified receipt before it ships a model.

A receipt's signature proves the gate issued it; these terms prove it is about *this* deploy:
the same deployment (namespace/name), the same gate stage, the same manifest document (its
digest, so a receipt for a 10 % rollout cannot authorize 100 %), recent enough, and, when the
deploy step asks, about an artifact digest the gate measured rather than one the manifest only
declared. Every term that does not hold is a :class:`ReceiptError` naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetgate.audit.receipt import FLEETGATE_FIELD, ReceiptError, manifest_digest

__all__ = ["ReceiptTerms", "details", "manifest_file_digest", "max_age", "select"]

_MAX_MANIFEST_BYTES = 1 << 20
_CLOCK_SKEW = dt.timedelta(minutes=5)
_DURATION = re.compile(r"([1-9][0-9]{0,8})([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class ReceiptTerms:
    """What the deploy step is about to do, which a receipt must match."""

    target: str  # namespace/name
    stage: str
    max_age: dt.timedelta
    now: dt.datetime
    manifest_digest: str | None = None  # sha256:<hex> of the manifest document being deployed
    require_measured: bool = False


def manifest_file_digest(path: Path, target: str) -> str:
    """The digest of deployment ``target``'s document in the manifest file at ``path``."""
    from fleetgate.errors import FleetgateError
    from fleetgate.manifest import read_manifests

    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ReceiptError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    if len(data) > _MAX_MANIFEST_BYTES:
        raise ReceiptError(f"{path}: over {_MAX_MANIFEST_BYTES} bytes: not a manifest")
    try:
        found = [m for m in read_manifests(data, str(path)) if m.target == target]
    except FleetgateError as exc:
        raise ReceiptError(exc.diagnostics()) from None
    if len(found) != 1:
        raise ReceiptError(f"{path}: {'no' if not found else 'more than one'} OnDeviceModel {target}")
    return manifest_digest(found[0].body)


def max_age(text: str) -> dt.timedelta:
    """``90s``, ``30m``, ``24h``, ``7d`` or a number of seconds."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ReceiptError(f"--max-age {text!r}: expected a duration such as 30m, 24h or 7d")
    return dt.timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])


def select(statements: Sequence[dict[str, Any]], terms: ReceiptTerms) -> list[dict[str, Any]]:
    """The verified receipts about ``terms.target`` at ``terms.stage``, once each meets every term.

    None about that deployment and stage is an error; so is one that is too old, issued in the
    future, for another manifest document, or (with ``require_measured``) about a digest the
    gate did not measure.
    """
    chosen = [s for s in statements if _about(s, terms)]
    if not chosen:
        raise ReceiptError(f"no receipt is about {terms.target} at {terms.stage}")
    for statement in chosen:
        _check(statement, terms)
    return chosen


def details(statement: Mapping[str, Any]) -> list[str]:
    """The facts a deploy step should see beside the verdict: waivers, where the digest came from."""
    facts = _facts(statement)
    waived = facts.get("waived")
    rules = ", ".join(str(r) for r in waived) if isinstance(waived, list) and waived else "none"
    source = facts.get("digestSource")
    digest = {
        "measured": "measured by the gate",
        "declared": "only declared by the manifest (the gate did not read the artifact)",
    }.get(str(source), "of unknown origin")
    return [f"  waived rules     {rules}", f"  artifact digest  {digest}"]


def _facts(statement: Mapping[str, Any]) -> Mapping[str, Any]:
    predicate = statement.get("predicate")
    facts = predicate.get(FLEETGATE_FIELD) if isinstance(predicate, Mapping) else None
    return facts if isinstance(facts, Mapping) else {}


def _about(statement: Mapping[str, Any], terms: ReceiptTerms) -> bool:
    facts = _facts(statement)
    target = f"{facts.get('namespace')}/{facts.get('name')}"
    return target == terms.target and facts.get("stage") == terms.stage


def _check(statement: Mapping[str, Any], terms: ReceiptTerms) -> None:
    facts = _facts(statement)
    about = f"the receipt for {terms.target} (decision {facts.get('decision_id', '-')})"
    when = statement["predicate"].get("timeVerified")
    issued = _time(when)
    if issued is None:
        raise ReceiptError(f"{about} has no readable timeVerified")
    if issued > terms.now + _CLOCK_SKEW:
        raise ReceiptError(f"{about} was issued in the future ({when})")
    if terms.now - issued > terms.max_age:
        raise ReceiptError(f"{about} was issued at {when}, longer ago than --max-age allows")
    if terms.manifest_digest is not None and facts.get("manifestDigest") != terms.manifest_digest:
        bound = facts.get("manifestDigest") or "no manifest digest"
        raise ReceiptError(f"{about} is for another manifest document ({bound}, not {terms.manifest_digest})")
    if terms.require_measured and facts.get("digestSource") != "measured":
        raise ReceiptError(f"{about} names an artifact digest the gate did not measure (--require-measured)")


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
