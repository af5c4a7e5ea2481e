"""Auditors' lookups over the log (fleetgate.commands.audit_records), on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import DecisionLog, QueryFilter
from fleetgate.audit.store.interface import AuditError, PendingRecord
from fleetgate.commands import audit_records
from fleetgate.commands.audit_records import OutcomeFilter, find_records, outcomes, query_records


def record(i: int, severity: str, run: str = "run-0") -> PendingRecord:
    """Record ``i``: rule evidence.missing with ``severity``, and rollout.ladder denying every third."""
    violations = [{"rule": "evidence.missing", "severity": severity}]
    if i % 3 == 0:
        violations.append({"rule": "rollout.ladder", "severity": "deny"})
    decision = "deny" if severity == "deny" or i % 3 == 0 else "admit"
    document: dict[str, Any] = {
        "decision_id": f"id-{i}",
        "gate_decision_id": run,
        "timestamp": f"2026-11-26T12:00:{i:02}.000000Z",
        "kind": "decision",
        "stage": "pre-merge",
        "decision": decision,
        "namespace": "production",
        "name": f"m{i}",
        "result": {"violations": violations, "waived": [{"rule": "cost.threads", "severity": "deny"}]},
    }
    return PendingRecord(document=document, **record_columns(document).columns())


def test_denied_warned_and_waived_are_kept_apart_across_pages(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_records, "_PAGE", 2)  # several pages of candidates
    log.append([record(i, "deny" if i % 4 == 0 else "warn") for i in range(12)], seal)
    denied = query_records(log, QueryFilter(), 3, OutcomeFilter(denied="evidence.missing"))
    assert [r.seq for r in denied] == [8, 4, 0]
    # The store's own filter matches the rule whatever its outcome: the bug --denied-by fixes.
    assert len(log.query(QueryFilter(rule="evidence.missing", decision="deny"))) == 6
    warned = query_records(log, QueryFilter(), 100, OutcomeFilter(warned="evidence.missing"))
    assert [r.seq for r in warned] == [11, 10, 9, 7, 6, 5, 3, 2, 1]
    both = OutcomeFilter(warned="evidence.missing", denied="rollout.ladder")
    assert [r.seq for r in query_records(log, QueryFilter(), 100, both)] == [9, 6, 3]
    assert query_records(log, QueryFilter(), 100, OutcomeFilter(waived="rollout.ladder")) == []
    assert outcomes(denied[0]) == {
        "denied": ("evidence.missing",),
        "warned": (),
        "waived": ("cost.threads",),
    }


def test_records_are_found_by_sequence_number_record_id_or_check_run(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_records, "_SCAN", 3)  # a run that straddles the scan's chunks
    log.append([record(i, "warn", "run-a") for i in range(4)], seal)
    log.append([record(i, "warn", "run-b") for i in range(4, 9)], seal)
    log.append([record(9, "warn", "run-c")], seal)
    assert [r.seq for r in find_records(log, "5")] == [5]
    assert [r.seq for r in find_records(log, "id-7")] == [7]
    assert [r.seq for r in find_records(log, "run-b")] == [4, 5, 6, 7, 8]
    assert [r.seq for r in find_records(log, "run-a")] == [0, 1, 2, 3]
    with pytest.raises(AuditError, match="no record, and no check run, with id run-z"):
        find_records(log, "run-z")
    with pytest.raises(AuditError, match="no record with sequence number 10"):
        find_records(log, "10")
