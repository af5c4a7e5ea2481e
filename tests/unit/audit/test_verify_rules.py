"""Verification compares rule rows as one string per record; that comparison must miss nothing.

The database builds ``pos:length:rule`` items from the stored rows (rule_rows_text); rules whose
names hold the separators, rows of another type, and proofs read in one query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetgate.audit.checkpoint import generate_key
from fleetgate.audit.log import inclusion_bundle, make_checkpoint, verify_log
from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import DecisionLog, PendingRecord, open_log
from fleetgate.audit.store.interface import rule_rows_text
from fleetgate.audit.store.sqlite import SqliteDecisionLog
from support_audit import sql

ORIGIN = "example.com/test-log"
SIGNER, _ = generate_key(ORIGIN)


def with_rules(i: int, rules: list[str]) -> PendingRecord:
    document = {
        "decision_id": f"id-{i}",
        "timestamp": "2026-11-26T12:00:00Z",
        "kind": "decision",
        "stage": "pre-merge",
        "decision": "deny",
        "result": {"violations": [{"rule": rule} for rule in rules]},
    }
    return PendingRecord(document=document, **record_columns(document).columns())


@pytest.mark.parametrize(
    "rules",
    [(), ("a",), ("a", "b"), ("a,1:1:b",), ("a,", "1:1:b"), ("0:1:a",), ("ü", "x,y"), ("", "a")],
)
def test_different_rule_lists_never_share_a_text(rules: tuple[str, ...]) -> None:
    others = [(), ("a",), ("a", "b"), ("a,1:1:b",), ("a,", "1:1:b"), ("0:1:a",), ("ü", "x,y"), ("", "a")]
    assert [other for other in others if rule_rows_text(other) == rule_rows_text(rules)] == [rules]


def test_rules_named_with_the_separators_verify_and_a_split_row_is_caught(log: DecisionLog) -> None:
    log.append([with_rules(0, ["a,1:1:b", "c:d"]), with_rules(1, ["x"])], seal)
    assert verify_log(log, None).ok
    # One row "a,1:1:b" rewritten as two rows "a" and "b": the joined text alone would look alike.
    sql(log, "DELETE FROM record_rules WHERE seq = 0")
    for pos, rule in enumerate(["a", "b", "c:d"]):
        sql(log, "INSERT INTO record_rules (seq, pos, rule) VALUES (?, ?, ?)", 0, pos, rule)
    report = verify_log(log, None)
    assert report.first_bad_seq == 0 and "record_rules is [a, b, c:d]" in report.problems[0].message


def test_a_rule_row_turned_into_bytes_is_caught_in_sqlite(tmp_path: Path) -> None:
    """SQLite columns take any type; PostgreSQL's have one each."""
    log = open_log(f"sqlite:///{tmp_path / 'audit.db'}")
    log.append([with_rules(0, ["rollout.ladder"])], seal)
    # Same bytes, another type: a query for the rule no longer finds the record.
    sql(log, "UPDATE record_rules SET rule = CAST(rule AS BLOB) WHERE seq = 0")
    report = verify_log(log, None)
    assert report.first_bad_seq == 0 and "record_rules is [b'rollout.ladder']" in report.problems[0].message
    log.close()


def test_an_inclusion_proof_reads_its_nodes_in_one_query(log: DecisionLog, monkeypatch: Any) -> None:
    log.append([with_rules(i, []) for i in range(37)], seal)
    make_checkpoint(log, ORIGIN, SIGNER, "2026-11-26T13:00:00Z")
    statements: list[tuple[str, Any]] = []
    execute = log._execute  # type: ignore[attr-defined]

    def counted(statement: str, params: Any = (), **kwargs: Any) -> Any:
        statements.append((statement, params))
        return execute(statement, params, **kwargs)

    monkeypatch.setattr(log, "_execute", counted)
    bundle = inclusion_bundle(log, "id-13")
    assert len(bundle["proof"]) == 6
    [(statement, params)] = [(sql_, args) for sql_, args in statements if "FROM nodes" in sql_]
    if isinstance(log, SqliteDecisionLog):  # each node by its primary key, never a scan of the tree
        plan = log._execute(f"EXPLAIN QUERY PLAN {statement}", params)
        assert all("USING PRIMARY KEY" in str(step[-1]) for step in plan if "nodes" in str(step[-1])), plan
