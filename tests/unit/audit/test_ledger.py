"""The decision log as the cost ledger, on SQLite and a real PostgreSQL server (see conftest.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fleetgate.audit import ledger
from fleetgate.audit.record import seal
from fleetgate.audit.store import DecisionLog, PendingRecord, QueryFilter

SINCE = "2026-11-01T00:00:00.000000Z"


def priced(
    decision_id: str,
    egress: str | None,
    *,
    timestamp: str = "2026-11-20T10:00:00.000000Z",
    namespace: str = "production",
    stage: str = "pre-deploy",
    decision: str = "admit",
    currency: str = "USD",
    kind: str = "decision",
    name: str | None = None,
    fallback: str | None = None,
) -> PendingRecord:
    document: dict[str, Any] = {"decision_id": decision_id}
    if egress is not None:
        document["cost"] = {"currency": currency, "egress": egress}
        if fallback is not None:
            document["cost"]["fallback"] = fallback
    return PendingRecord(
        document=document,
        decision_id=decision_id,
        timestamp=timestamp,
        stage=stage,
        kind=kind,
        decision=decision,
        namespace=namespace,
        name=name or decision_id,
    )


def test_only_pre_deploy_admissions_of_the_namespace_in_the_window_count(log: DecisionLog) -> None:
    log.append(
        [
            priced("a", "1000.10"),
            priced("b", "2000.005"),
            priced("old", "500", timestamp="2026-10-31T23:59:59.999999Z"),
            priced("edge", "0.01", timestamp=SINCE),  # since is inclusive
            priced("merge", "700", stage="pre-merge"),
            priced("denied", "800", decision="deny"),
            priced("staging", "900", namespace="staging"),
            priced("no-cost", None),
            priced("euro", "300", currency="EUR"),
        ],
        seal,
    )
    spent = ledger.admitted_spend(log, "production", "USD", SINCE)
    assert spent.amount == Decimal("3000.115")  # exact: no float ever rounded a cent away
    assert (spent.records, spent.other_currency, spent.since) == (3, 1, SINCE)


def test_the_fallback_is_each_deployments_latest_admitted_bill(log: DecisionLog) -> None:
    log.append(
        [
            priced("a1", "1", name="a", fallback="100", timestamp="2026-11-10T00:00:00.000000Z"),
            priced("a2", "1", name="a", fallback="250.5", timestamp="2026-11-20T00:00:00.000000Z"),
            priced("b1", "1", name="b", fallback="80", timestamp="2026-11-10T00:00:00.000000Z"),
            priced("b2", "1", name="b", timestamp="2026-11-21T00:00:00.000000Z"),  # no estimate now
            priced("c1", "1", name="c", fallback="40"),
            priced("c2", "2", name="c", fallback="999", decision="deny"),  # denied: never ran
            priced("d1", "1", name="d", fallback="7", currency="EUR"),
        ],
        seal,
    )
    spent = ledger.admitted_spend(log, "production", "USD", SINCE)
    # A monthly bill replaces the deployment's previous one.
    assert spent.fallback == {"a": Decimal("250.5"), "c": Decimal(40)}
    assert (spent.amount, spent.records, spent.other_currency) == (Decimal(5), 5, 1)


def test_paging_by_time_neither_skips_nor_repeats_records_of_one_instant(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Records of one decision share its timestamp; a page boundary falls inside such a group.
    monkeypatch.setattr(ledger, "_PAGE", 3)
    batch = [priced(f"r{n}", "1", timestamp=f"2026-11-2{n // 4}T00:00:00.000000Z") for n in range(10)]
    log.append(batch, seal)
    spent = ledger.admitted_spend(log, "production", "USD", SINCE)
    assert (spent.amount, spent.records) == (Decimal(10), 10)


def test_the_sum_is_a_filtered_query_not_a_scan(log: DecisionLog, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[QueryFilter] = []
    query = log.query

    def recording(filters: QueryFilter, limit: int = 1000) -> Any:
        seen.append(filters)
        return query(filters, limit)

    monkeypatch.setattr(log, "query", recording)
    log.append([priced("a", "1")], seal)
    ledger.admitted_spend(log, "production", "USD", SINCE)
    assert [(f.namespace, f.stage, f.decision, f.since, f.kinds) for f in seen] == [
        ("production", "pre-deploy", "admit", SINCE, ("decision",))
    ]


def test_the_projection_a_record_keeps() -> None:
    assert ledger.projected_cost({"facts": {"cost": {"currency": "USD", "egress": "12.5", "x": 1}}}) == {
        "currency": "USD",
        "egress": "12.5",
    }
    with_fallback = {"currency": "USD", "egress": "1", "fallbackPerMonth": {"amount": "12.25", "devices": 3}}
    assert ledger.projected_cost({"facts": {"cost": with_fallback}}) == {
        "currency": "USD",
        "egress": "1",
        "fallback": "12.25",
    }
    assert ledger.projected_cost({"facts": {"cost": {"status": "absent"}}}) is None
    assert ledger.projected_cost(None) is None


def test_sqlite_answers_the_window_query_from_an_index(tmp_path: Path) -> None:
    from fleetgate.audit.store import _common, open_log
    from fleetgate.audit.store._filters import where_clause

    log = open_log(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        wanted = QueryFilter(
            namespace="production", stage="pre-deploy", decision="admit", since=SINCE, kinds=("decision",)
        )
        where, params = where_clause(wanted)
        sql = f"EXPLAIN QUERY PLAN {_common._SELECT_RECORDS}{where} ORDER BY timestamp DESC, seq DESC LIMIT ?"
        plan = " ".join(str(row[-1]) for row in log._execute(sql, [*params, 1000]))  # type: ignore[attr-defined]
    finally:
        log.close()
    assert plan.startswith("SEARCH records USING INDEX records_namespace_name (namespace=?"), plan
