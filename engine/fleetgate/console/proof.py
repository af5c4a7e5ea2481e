"""A record's inclusion proof, checked on the server each time its page is shown.

The check is the one ``fleetgate audit verify-proof`` makes (the signed checkpoint, then the
Merkle path from the record's bytes to its root), plus one a downloaded proof cannot make:
the columns the log filters on must say what the hashed bytes say. A record that fails is
shown as failing, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetgate.audit.log import inclusion_bundle, verify_bundle
from fleetgate.audit.record import column_values
from fleetgate.audit.store.interface import COLUMN_NAMES, AuditError, StoredRecord
from fleetgate.audit.store.readonly import ReadOnlyLog
from fleetgate.console.records import document

__all__ = ["ProofStatus", "check_record"]


@dataclass(frozen=True)
class ProofStatus:
    state: str  # "verified" | "failing" | "unverified"
    reason: str
    bundle: dict[str, Any] | None = None  # what the proof download serves
    tree_size: int | None = None
    key_id: str | None = None


def check_record(
    log: ReadOnlyLog, record: StoredRecord, verifier_key: str | None, origin: str
) -> ProofStatus:
    columns = _column_problem(record)
    try:
        bundle = inclusion_bundle(log, record.decision_id)
    except AuditError as exc:
        if columns:
            return ProofStatus("failing", columns)
        return ProofStatus("unverified", exc.message)
    except (LookupError, ValueError) as exc:  # a tree node is missing or out of place
        return ProofStatus("failing", f"no inclusion proof can be built from the log's tree: {exc}")
    if verifier_key is None:
        reason = columns or "no verifier key is configured (audit.verifierKey or --key)"
        return ProofStatus("failing" if columns else "unverified", reason, bundle)
    proven = verify_bundle(bundle, verifier_key, origin)
    if proven is None:
        return ProofStatus(
            "failing",
            f"the record's bytes do not lead to the root of the signed checkpoint of size "
            f"{bundle['tree_size']} (or its signature does not verify)",
            bundle,
        )
    if columns:
        return ProofStatus("failing", columns, bundle, proven.tree_size, proven.key_id)
    return ProofStatus(
        "verified",
        f"included in the checkpoint of size {proven.tree_size} signed by key {proven.key_id}",
        bundle,
        proven.tree_size,
        proven.key_id,
    )


def _column_problem(record: StoredRecord) -> str:
    stored = tuple(getattr(record, name) for name in COLUMN_NAMES)
    expected = column_values(document(record))
    differ = [n for n, a, b in zip(COLUMN_NAMES, stored, expected, strict=True) if a != b]
    if not differ:
        return ""
    return f"the stored {', '.join(differ)} differ from what the record's hashed bytes say"
