"""`audit verify` finds each kind of tampering at its sequence number, on both backends.

The attacker here has write access to the database (the threat a signed checkpoint answers):
records are changed with plain SQL behind the log's back.
"""

from __future__ import annotations

import json

import pytest

from fleetgate.audit.checkpoint import generate_key, sign_checkpoint
from fleetgate.audit.log import inclusion_bundle, make_checkpoint, verify_bundle, verify_log
from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import DecisionLog
from fleetgate.audit.store.interface import PendingRecord
from support_audit import sql

ORIGIN = "example.com/test-log"
SIGNER, VERIFIER = generate_key(ORIGIN)


def pending(i: int) -> PendingRecord:
    """A record whose columns are the ones its document implies, as the gate writes them."""
    document = {
        "decision_id": f"id-{i}",
        "timestamp": f"2026-11-26T12:00:{i:02}.000000Z",
        "kind": "decision",
        "stage": "pre-merge",
        "decision": "deny" if i % 3 == 0 else "admit",
        "namespace": "production",
        "name": f"m{i}",
        "result": {
            "violations": [{"rule": "rollout.ladder", "severity": "deny"}] if i % 3 == 0 else [],
            "waived": [{"rule": "cost.threads", "severity": "deny"}],
        },
        "n": i,
    }
    return PendingRecord(document=document, **record_columns(document).columns())


def filled(log: DecisionLog, count: int = 12, checkpoint_at: tuple[int, ...] = (5, 12)) -> DecisionLog:
    for i in range(count):
        log.append([pending(i)], seal)
        if i + 1 in checkpoint_at:
            make_checkpoint(log, ORIGIN, SIGNER, f"2026-11-26T13:00:{i:02}.000000Z")
    return log


def test_an_untouched_log_verifies(log: DecisionLog) -> None:
    report = verify_log(filled(log), VERIFIER, ORIGIN)
    assert report.ok and report.size == 12 and report.checkpoints == 2


def test_a_flipped_byte_in_any_record(log: DecisionLog) -> None:
    filled(log)
    for seq in (0, 7, 11):
        [(body,)] = sql(log, "SELECT body FROM records WHERE seq = ?", seq)
        original = bytes(body)
        sql(log, "UPDATE records SET body = ? WHERE seq = ?", original.replace(b'"n":', b'"N":'), seq)
        report = verify_log(log, VERIFIER, ORIGIN)
        assert report.first_bad_seq == seq, report.problems
        sql(log, "UPDATE records SET body = ? WHERE seq = ?", original, seq)
    assert verify_log(log, VERIFIER, ORIGIN).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("decision", "admit"), ("namespace", "staging"), ("stage", "pre-deploy"), ("signer", "mallory")],
)
def test_a_flipped_column_is_found_at_its_sequence_number(log: DecisionLog, column: str, value: str) -> None:
    filled(log)
    # The column names are constants of this test, never input.
    sql(log, f"UPDATE records SET {column} = ? WHERE seq = 6", value)
    report = verify_log(log, VERIFIER, ORIGIN)
    assert report.first_bad_seq == 6, report.problems
    [problem] = report.problems
    assert f"{column} is {value!r}" in problem.message


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE record_rules SET rule = 'cost.model-size' WHERE seq = 6 AND pos = 0",
        "DELETE FROM record_rules WHERE seq = 6 AND pos = 0",
        "INSERT INTO record_rules (seq, pos, rule) VALUES (6, 2, 'evidence.missing')",
        "INSERT INTO record_rules (seq, pos, rule) VALUES (7, 1, 'rollout.ladder')",
    ],
)
def test_a_flipped_rule_row_is_found_at_its_sequence_number(log: DecisionLog, tamper: str) -> None:
    filled(log)
    sql(log, tamper)
    report = verify_log(log, VERIFIER, ORIGIN)
    assert report.first_bad_seq in (6, 7), report.problems
    [problem] = report.problems
    assert "record_rules is" in problem.message


def test_a_deleted_record(log: DecisionLog) -> None:
    filled(log)
    sql(log, "DELETE FROM record_rules WHERE seq = 4")
    sql(log, "DELETE FROM records WHERE seq = 4")
    report = verify_log(log, VERIFIER, ORIGIN)
    assert report.first_bad_seq == 4
    assert any("missing" in p.message for p in report.problems)


def test_a_reordered_pair(log: DecisionLog) -> None:
    filled(log)
    rows = {
        seq: (bytes(body), bytes(leaf), did)
        for seq, body, leaf, did in sql(
            log, "SELECT seq, body, leaf_hash, decision_id FROM records WHERE seq IN (8, 9)"
        )
    }
    sql(log, "UPDATE records SET decision_id = ? WHERE seq = 8", "swap")
    sql(log, "UPDATE records SET body = ?, leaf_hash = ?, decision_id = ? WHERE seq = 9", *rows[8])
    sql(log, "UPDATE records SET body = ?, leaf_hash = ?, decision_id = ? WHERE seq = 8", *rows[9])
    report = verify_log(log, VERIFIER, ORIGIN)
    assert report.first_bad_seq == 8
    assert any("reordered" in p.message for p in report.problems)


def test_a_truncated_tail_after_a_published_checkpoint(log: DecisionLog) -> None:
    filled(log)
    for seq in (10, 11):
        sql(log, "DELETE FROM record_rules WHERE seq = ?", seq)
        sql(log, "DELETE FROM records WHERE seq = ?", seq)
    report = verify_log(log, VERIFIER, ORIGIN)
    assert report.first_bad_seq == 10
    assert any("truncated" in p.message for p in report.problems)


def test_a_forged_checkpoint_signature(log: DecisionLog) -> None:
    filled(log)
    forger, _ = generate_key(ORIGIN)
    [(root,)] = sql(log, "SELECT root FROM checkpoints WHERE size = 12")
    forged = sign_checkpoint(ORIGIN, 12, bytes(root), forger)  # right size and root, wrong key
    sql(log, "UPDATE checkpoints SET note = ? WHERE size = 12", forged)
    report = verify_log(log, VERIFIER, ORIGIN)
    assert not report.ok
    assert [p.message.split(":")[0] for p in report.problems] == ["checkpoint of size 12"]


def test_a_rewritten_history_with_recomputed_hashes_is_caught_by_the_signed_root(log: DecisionLog) -> None:
    filled(log)
    body, leaf = seal({**pending(3).document, "decision": "admit"}, 3)
    sql(log, "UPDATE records SET body = ?, leaf_hash = ?, decision = 'admit' WHERE seq = 3", body, leaf)
    sql(log, "UPDATE nodes SET hash = ? WHERE level = 0 AND idx = 3", leaf)
    report = verify_log(log, VERIFIER, ORIGIN)
    assert not report.ok and report.first_bad_seq == 0  # somewhere before the first checkpoint


def test_inclusion_bundle_verifies_standalone(log: DecisionLog) -> None:
    filled(log)
    bundle = inclusion_bundle(log, "id-7")
    assert json.loads(bundle["record"])["seq"] == 7 and bundle["tree_size"] == 12
    assert verify_bundle(json.loads(json.dumps(bundle)), VERIFIER, ORIGIN)
    assert not verify_bundle({**bundle, "seq": 6}, VERIFIER, ORIGIN)
    assert not verify_bundle({**bundle, "decision_id": "id-8"}, VERIFIER, ORIGIN)
    assert not verify_bundle({**bundle, "proof": bundle["proof"][:-1]}, VERIFIER, ORIGIN)
    _, other = generate_key(ORIGIN)
    assert not verify_bundle(bundle, other, ORIGIN)


def test_a_record_after_the_last_checkpoint_cannot_be_proven_yet(log: DecisionLog) -> None:
    filled(log, count=3, checkpoint_at=())
    from fleetgate.audit.store.interface import AuditError

    with pytest.raises(AuditError, match="no checkpoint covers record 2"):
        inclusion_bundle(log, "id-2")


def test_a_tampered_tree_node_breaks_consistency_between_checkpoints(log: DecisionLog) -> None:
    filled(log)
    sql(log, "UPDATE nodes SET hash = ? WHERE level = 1 AND idx = 3", b"\x00" * 32)  # leaves 6..7
    report = verify_log(log, VERIFIER, ORIGIN)
    assert [p.message for p in report.problems] == ["checkpoints 5 and 12 are not consistent"]
