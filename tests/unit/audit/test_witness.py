"""Witnessed checkpoints catch what the database alone cannot: a history rebuilt and re-signed with
the real key. Every log test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleetgate.audit.checkpoint import generate_key, sign_checkpoint
from fleetgate.audit.log import make_checkpoint, verify_log
from fleetgate.audit.record import seal
from fleetgate.audit.store import DecisionLog
from fleetgate.audit.store.interface import AuditError
from fleetgate.audit.witness import DirWitness, Witnessed, keep_checkpoint, kept_checkpoint, open_witness
from support_audit import rebuild_history, sql
from unit.audit.test_verify import ORIGIN, SIGNER, VERIFIER, filled, pending

from support import GIT_ENV


def published(log: DecisionLog) -> Witnessed:
    """The log's latest checkpoint, as a witness outside the database keeps it."""
    return Witnessed(log.checkpoints()[-1].note, "witness")


def test_a_rebuilt_and_resigned_history_fails_only_against_the_witness(log: DecisionLog) -> None:
    witness = published(filled(log))  # tree size 12
    for i in range(12, 15):
        log.append([pending(i)], seal)
    rebuild_history(log, 3, {"decision": "admit"}, ORIGIN, SIGNER)
    assert verify_log(log, VERIFIER, ORIGIN).ok  # everything in the database agrees
    report = verify_log(log, VERIFIER, ORIGIN, [witness])
    [problem] = report.problems
    assert "(tree size 12) is not consistent with the log (tree size 15)" in problem.message
    assert report.witnessed == ()


def test_an_untouched_log_extends_every_witnessed_checkpoint(log: DecisionLog) -> None:
    filled(log)
    witnessed = [Witnessed(c.note, f"c{c.size}") for c in log.checkpoints()]
    log.append([pending(12)], seal)
    report = verify_log(log, VERIFIER, ORIGIN, witnessed)
    assert report.ok and report.witnessed == (5, 12) and report.signed_size == 12


def test_a_witnessed_checkpoint_beyond_a_truncated_log(log: DecisionLog) -> None:
    witness = published(filled(log))
    for seq in (10, 11):
        sql(log, "DELETE FROM record_rules WHERE seq = ?", seq)
        sql(log, "DELETE FROM records WHERE seq = ?", seq)
    sql(log, "DELETE FROM checkpoints WHERE size = 12")
    report = verify_log(log, VERIFIER, ORIGIN, [witness])
    assert any("(tree size 12) is larger than the log (tree size 10)" in p.message for p in report.problems)


def test_a_witnessed_checkpoint_by_another_key_is_a_problem(log: DecisionLog) -> None:
    filled(log)
    stranger, _ = generate_key(ORIGIN)
    latest = log.checkpoints()[-1]
    forged = Witnessed(sign_checkpoint(ORIGIN, latest.size, latest.root, stranger), "forged")
    report = verify_log(log, VERIFIER, ORIGIN, [forged])
    [problem] = report.problems
    assert problem.message.startswith("witnessed checkpoint forged: the note is not signed by")
    with pytest.raises(AuditError, match="needs the verifier key"):
        verify_log(log, None, ORIGIN, [published(log)])


def test_checkpoint_refuses_to_sign_a_log_inconsistent_with_the_kept_checkpoint(log: DecisionLog) -> None:
    witness = published(filled(log))
    rebuild_history(log, 3, {"decision": "admit"}, ORIGIN, SIGNER)
    log.append([pending(12)], seal)
    with pytest.raises(AuditError, match=r"refusing to sign.*tree size 12.*tree size 13"):
        make_checkpoint(log, ORIGIN, SIGNER, "now", [witness])
    assert [c.size for c in log.checkpoints()] == [12]  # only the forger's


def test_checkpoint_refuses_to_sign_a_log_whose_records_do_not_verify(log: DecisionLog) -> None:
    filled(log)
    sql(log, "UPDATE records SET decision = 'admit' WHERE seq = 0")
    log.append([pending(12)], seal)
    with pytest.raises(AuditError, match=r"refusing to sign.*seq 0: .*decision is 'admit'"):
        make_checkpoint(log, ORIGIN, SIGNER, "now")


def test_a_folder_witness_keeps_one_file_per_checkpoint(log: DecisionLog, tmp_path: Path) -> None:
    folder = DirWitness(tmp_path / "witness")
    assert not folder.exists()
    with pytest.raises(AuditError, match="does not exist"):
        folder.checkpoints()
    filled(log)
    for checkpoint in log.checkpoints():
        folder.publish(checkpoint.note, checkpoint.size)
    folder.publish(log.checkpoints()[0].note, 5)  # publishing again is a no-op
    assert sorted(p.name for p in (tmp_path / "witness").iterdir()) == [
        f"{5:020d}.checkpoint",
        f"{12:020d}.checkpoint",
    ]
    assert verify_log(log, VERIFIER, ORIGIN, folder.checkpoints()).witnessed == (5, 12)
    with pytest.raises(AuditError, match="different checkpoint of this size"):
        folder.publish(log.checkpoints()[1].note, 5)


def test_the_file_beside_the_key_holds_the_last_checkpoint(tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    assert kept_checkpoint(key) is None
    keep_checkpoint(key, "first\n")
    keep_checkpoint(key, "second\n")
    kept = kept_checkpoint(key)
    assert kept is not None and kept.note == "second\n" and kept.source == str(key) + ".checkpoint"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, env=GIT_ENV
    )
    return done.stdout.strip()


def test_a_git_witness_commits_each_checkpoint_to_its_ref(log: DecisionLog, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    with pytest.raises(AuditError, match="refs/fleetgate/checkpoints: no such ref"):
        open_witness("git", root).checkpoints()
    witness = open_witness("git", root)
    filled(log)
    for checkpoint in log.checkpoints():
        witness.publish(checkpoint.note, checkpoint.size)
    witness.publish(log.checkpoints()[1].note, 12)  # already there: no new commit
    assert git(root, "rev-list", "--count", "refs/fleetgate/checkpoints") == "2"
    assert git(root, "status", "--porcelain") == ""  # the work tree and index are untouched
    assert [w.note for w in witness.checkpoints()] == [c.note for c in log.checkpoints()]
    assert open_witness("git:refs/audit/other", root).exists() is False
    with pytest.raises(AuditError, match="must start with refs/"):
        open_witness("git:main", root)
    assert witness.checkpoints()[0].source == f"refs/fleetgate/checkpoints:{5:020d}.checkpoint"
