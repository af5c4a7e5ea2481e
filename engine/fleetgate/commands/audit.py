"""``fleetgate audit ...`` and the append a check makes: the decision log for auditors.

Settings come from the ``audit`` mapping of ``fleetgate.yaml`` (``log``, ``origin``,
``signingKey``, ``verifierKey``, ``mask``), each overridable on the command line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetgate.audit.store.interface import AuditError, Checkpoint, DecisionLog, QueryFilter, StoredRecord
from fleetgate.decision import Decision, rfc3339

if TYPE_CHECKING:
    from fleetgate.audit.log import ProvenRecord, VerifyReport
    from fleetgate.audit.witness import Witnessed

__all__ = [
    "AuditSettings",
    "Recorded",
    "SignedCheckpoint",
    "audit_settings",
    "checkpoint_log",
    "describe_proven",
    "opened",
    "read_key",
    "record_decision",
    "verification_summary",
    "witnessed_checkpoints",
]

DEFAULT_ORIGIN = "fleetgate.local/decision-log"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class AuditSettings:
    log: str
    origin: str = DEFAULT_ORIGIN
    signing_key: Path | None = None
    verifier_key: str | None = None
    mask: tuple[str, ...] = ()


def audit_settings(
    raw: Mapping[str, Any] | None, root: Path | None, log_url: str | None = None
) -> AuditSettings:
    """Validate the ``audit`` mapping of fleetgate.yaml and apply the command-line override."""
    from fleetgate.audit.log import default_log_url

    raw = dict(raw or {})
    unknown = sorted(set(raw) - {"log", "origin", "signingKey", "verifierKey", "mask"})
    if unknown:
        raise AuditError(f"fleetgate.yaml: unknown audit setting {unknown[0]!r}")
    mask = raw.get("mask", [])
    if not isinstance(mask, list) or not all(isinstance(m, str) for m in mask):
        raise AuditError("fleetgate.yaml: audit.mask must be a list of JSON pointers")
    base = root or Path.cwd()
    key = raw.get("signingKey")
    return AuditSettings(
        log=log_url or str(raw.get("log") or default_log_url(root)),
        origin=str(raw.get("origin") or DEFAULT_ORIGIN),
        signing_key=(base / key) if isinstance(key, str) else None,
        verifier_key=_verifier(raw.get("verifierKey"), base),
        mask=tuple(mask),
    )


def _verifier(value: Any, base: Path) -> str | None:
    if not isinstance(value, str):
        return None
    if "+" in value:  # a verifier key string itself
        return value
    path = base / value
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the verifier key: {exc.strerror}") from None


@contextmanager
def opened(url: str) -> Iterator[DecisionLog]:
    from fleetgate.audit.store import open_log

    log = open_log(url)
    try:
        yield log
    finally:
        log.close()


@dataclass(frozen=True)
class Recorded:
    """What a check appended to the log, and what its user should know about that log."""

    records: tuple[StoredRecord, ...]
    warnings: tuple[str, ...] = ()


def record_decision(decision: Decision, settings: AuditSettings) -> Recorded:
    """Append one record per deployment of ``decision``; any failure raises :class:`AuditError`.

    A log without a signing key gets one warning per run: nothing signs its checkpoints, so
    it shows accidents but not a rewrite by anyone who can write to it.
    """
    from fleetgate.audit.events import records_for
    from fleetgate.audit.record import seal

    pending = records_for(decision, settings.mask)
    if not pending:
        return Recorded(())
    with opened(settings.log) as log:
        stored = tuple(log.append(pending, seal))
    return Recorded(stored, _unsigned_warning(settings) + _ephemeral_warning(settings))


def _ephemeral_warning(settings: AuditSettings) -> tuple[str, ...]:
    """A log inside ``.git`` on a CI runner vanishes with the runner (and with it the audit trail)."""
    if os.environ.get("CI", "").lower() not in ("true", "1") or not settings.log.startswith("sqlite:"):
        return ()
    path = settings.log.removeprefix("sqlite:").lstrip("/")
    if ".git" not in Path("/" + path).parts:
        return ()
    return (
        f"the decision log {settings.log} is inside .git on a CI runner and vanishes with it: record to "
        "a shared PostgreSQL log (--audit-log postgresql://...) or upload the SQLite file and a signed "
        "checkpoint as build artifacts",
    )


def _unsigned_warning(settings: AuditSettings) -> tuple[str, ...]:
    if settings.signing_key is not None and settings.signing_key.is_file():
        return ()
    missing = f" ({settings.signing_key} does not exist)" if settings.signing_key is not None else ""
    return (
        f"the decision log has no signing key{missing}: it is tamper-evident only against accidents, "
        "not against anyone who can write to it; make one with `fleetgate audit keygen`, name it in "
        "audit.signingKey and run `fleetgate audit checkpoint --publish git`",
    )


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    kept: Path  # the file beside the key that now holds it
    published: str | None  # where the witness keeps it, when one was named


def checkpoint_log(
    settings: AuditSettings, key: Path | None, publish: str | None, cwd: Path, now: str
) -> SignedCheckpoint:
    """Verify the log against the last checkpoint kept outside it, sign a new one and keep it.

    The last checkpoint is the file beside the key and, with ``publish``, every checkpoint the
    witness holds: a log rewritten behind the gate's back is never signed.
    """
    from fleetgate.audit.log import make_checkpoint
    from fleetgate.audit.witness import keep_checkpoint, kept_checkpoint, open_witness

    if key is None:
        raise AuditError("no checkpoint signing key configured (audit.signingKey in fleetgate.yaml or --key)")
    signer = read_key(key, "checkpoint signing key", "--key")
    witness = open_witness(publish, cwd) if publish else None
    anchors = list(witness.checkpoints()) if witness is not None and witness.exists() else []
    kept = kept_checkpoint(key)
    if kept is not None:
        anchors.append(kept)
    with opened(settings.log) as log:
        checkpoint = make_checkpoint(log, settings.origin, signer, now, anchors)
    kept_at = keep_checkpoint(key, checkpoint.note)
    published = witness.publish(checkpoint.note, checkpoint.size) if witness is not None else None
    return SignedCheckpoint(checkpoint, kept_at, published)


def witnessed_checkpoints(witnesses: Sequence[str], files: Sequence[Path], cwd: Path) -> list[Witnessed]:
    """The checkpoints of every named witness and checkpoint file; a witness with none is an error."""
    from fleetgate.audit.witness import checkpoint_file, open_witness

    found: list[Witnessed] = []
    for spec in witnesses:
        held = open_witness(spec, cwd).checkpoints()
        if not held:
            raise AuditError(f"witness {spec} holds no checkpoint")
        found.extend(held)
    found.extend(checkpoint_file(path) for path in files)
    return found


def verification_summary(report: VerifyReport) -> list[str]:
    """Exactly what a verification proved: which records which signed checkpoint covers."""
    lines = []
    covered = report.signed_size or 0
    if report.signed_size is not None:
        span = f"records 0..{covered - 1} match" if covered else "the empty log matches"
        lines.append(f"{span} checkpoint {covered}, signed by key {report.key_id}")
    if report.size > covered:
        lines.append(f"records {covered}..{report.size - 1} are not covered by any verified checkpoint")
    if report.witnessed:
        sizes = ", ".join(str(size) for size in report.witnessed)
        lines.append(f"the log extends every witnessed checkpoint (tree sizes {sizes})")
    return lines


def describe_proven(proven: ProvenRecord) -> str:
    """What an inclusion proof proved: which record, where in which log, under which key."""
    record = proven.record
    target = f"{record.get('namespace')}/{record.get('name')}"
    return (
        f"proof verified: the record is in the log\n"
        f"  record      {record.get('decision_id')}: {target} {record.get('decision')} at "
        f"{record.get('stage')}, {record.get('timestamp')}\n"
        f"  position    sequence number {proven.seq} of a tree of {proven.tree_size} records\n"
        f"  log         {proven.origin}, checkpoint signed by key {proven.key_id}"
    )


def read_key(path: Path | None, what: str, flag: str) -> str:
    if path is None:
        raise AuditError(f"no {what} configured (audit.signingKey in fleetgate.yaml or {flag})")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the {what}: {exc.strerror}") from None


def query_filter(args: Mapping[str, Any]) -> QueryFilter:
    """Build a filter from CLI options, checking time bounds are RFC 3339 (a date alone is midnight UTC)."""
    values = dict(args)
    for bound in ("since", "until"):
        value = values.get(bound)
        if value is not None:
            values[bound] = rfc3339(_moment(str(value), bound))
    fields = QueryFilter.__dataclass_fields__
    return QueryFilter(**{k: v for k, v in values.items() if k in fields and v is not None})


def _moment(value: str, bound: str) -> dt.datetime:
    try:
        if _DATE.fullmatch(value):
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"--{bound} {value!r} is not an RFC 3339 time or a date") from None
    if moment.tzinfo is None:
        raise AuditError(f"--{bound} {value!r} needs a time zone (e.g. Z)")
    # Stored timestamps have a fixed width, so the bounds must too to compare as text.
    return moment
