"""The decision log stores, run against SQLite and a real PostgreSQL server (see conftest.py)."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any

import pytest

from fleetgate.audit.log import verify_log
from fleetgate.audit.merkle import leaf_hash, new_perfect_nodes
from fleetgate.audit.record import record_columns, seal
from fleetgate.audit.store import (
    AuditError,
    Checkpoint,
    DecisionLog,
    PendingRecord,
    QueryFilter,
    StoredRecord,
    open_log,
)


def pending(decision_id: str, **fields: Any) -> PendingRecord:
    defaults: dict[str, Any] = {
        "timestamp": "2025-01-01T00:00:00Z",
        "stage": "pre-merge",
        "kind": "decision",
        "decision": "admit",
    }
    defaults.update(fields)
    document = {"decision_id": decision_id, "result": defaults["decision"], "labels": {"id": decision_id}}
    return PendingRecord(document=document, decision_id=decision_id, **defaults)


def decision_record(decision_id: str) -> PendingRecord:
    """A record whose columns are the ones its document says, as records_for makes them."""
    document = {
        "decision_id": decision_id,
        "timestamp": "2025-01-01T00:00:00Z",
        "stage": "pre-merge",
        "kind": "decision",
        "decision": "deny",
        "namespace": "fleet",
        "name": decision_id,
        "result": {"violations": [{"rule": "rollout.step-limit"}, {"rule": "evidence.missing.model"}]},
    }
    return PendingRecord(document=document, **record_columns(document).columns())


def expected_nodes(leaves: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree hash, built by appending the leaves one at a time."""
    nodes: dict[tuple[int, int], bytes] = {}
    for size, leaf in enumerate(leaves):
        for level, index, digest in new_perfect_nodes(size, [leaf], lambda lv, ix: nodes.get((lv, ix))):
            nodes[(level, index)] = digest
    return nodes


def assert_consistent(log: DecisionLog) -> list[StoredRecord]:
    """Records 0..size-1 with no gap, each leaf the hash of its body, nodes exactly those of the leaves."""
    size = log.size()
    stored = list(log.records(0, size))
    assert [record.seq for record in stored] == list(range(size))
    assert all(record.leaf_hash == leaf_hash(record.body) for record in stored)
    for (level, index), digest in expected_nodes([record.leaf_hash for record in stored]).items():
        assert log.node(level, index) == digest, (level, index)
    for level in range(size.bit_length() + 1):  # nothing beyond the tree's right edge
        assert log.node(level, size >> level) is None
    return stored


# -- appending and reading ---------------------------------------------------------------------


def test_an_empty_log(log: DecisionLog) -> None:
    assert log.size() == 0
    assert log.record(0) is None and log.find("nope") is None and log.node(0, 0) is None
    assert list(log.records(0, 10)) == [] and log.checkpoints() == [] and log.query(QueryFilter()) == []


def test_appended_records_read_back_identically(log: DecisionLog) -> None:
    batch = [
        pending("a", namespace="ns", name="n", model_id="m", version="1.2", policy_revision="rev",
                artifact_digest="sha256:ab", signer="ci@example.com", rules=("r2", "r1", "r2")),
        pending("b", decision="deny", stage="pre-deploy", rules=("r1",)),
        pending("c", kind="override", decision="override"),
    ]  # fmt: skip
    appended = log.append(batch, seal)
    appended += log.append([pending("d")], seal)
    assert [record.seq for record in appended] == [0, 1, 2, 3]
    for record, item in zip(appended, [*batch, pending("d")], strict=True):
        assert (record.body, record.leaf_hash) == seal(item.document, record.seq)
        assert record.rules == item.rules and record.namespace == item.namespace
        assert record == log.record(record.seq) == log.find(record.decision_id)
        assert log.node(0, record.seq) == record.leaf_hash
    assert list(log.records(0, 4)) == appended
    assert list(log.records(1, 3)) == appended[1:3]
    assert list(log.records(-5, 100)) == appended
    assert log.size() == 4 and log.record(4) is None


def test_stored_nodes_are_the_perfect_subtrees_of_the_leaves(log: DecisionLog) -> None:
    sizes = [1, 2, 3, 5, 7, 1, 1, 16, 4]  # batches crossing and filling subtrees of every level
    for number, count in enumerate(sizes):
        log.append([pending(f"b{number}-{i}") for i in range(count)], seal)
    stored = assert_consistent(log)
    assert len(stored) == sum(sizes) == 40
    assert log.node(5, 0) is not None and log.node(3, 4) is not None and log.node(3, 5) is None


def test_sequence_numbers_continue_after_reopening(log_url: str) -> None:
    first = open_log(log_url)
    first.append([pending("a"), pending("b")], seal)
    first.close()
    second = open_log(log_url)
    try:
        assert [r.seq for r in second.append([pending("c")], seal)] == [2]
        assert [r.seq for r in second.append([pending("d"), pending("e")], seal)] == [3, 4]
        assert_consistent(second)
    finally:
        second.close()


@pytest.mark.parametrize("batch", [["new", "a"], ["new", "new"]], ids=["already-logged", "twice-in-batch"])
def test_a_duplicate_decision_id_writes_nothing(log: DecisionLog, batch: list[str]) -> None:
    log.append([pending("a"), pending("b"), pending("c")], seal)
    with pytest.raises(AuditError, match=r"decision_id '(a|new)'.*nothing was appended"):
        log.append([pending(decision_id) for decision_id in batch], seal)
    assert log.size() == 3 and log.find("new") is None and log.node(0, 3) is None
    assert [r.seq for r in log.append([pending("d")], seal)] == [3]
    assert_consistent(log)


def test_a_record_that_cannot_be_sealed_writes_nothing(log: DecisionLog) -> None:
    def failing_seal(document: Mapping[str, Any], seq: int) -> tuple[bytes, bytes]:
        if seq == 1:
            raise ValueError("floats are not allowed")
        return seal(document, seq)

    with pytest.raises(AuditError, match="'b' could not be sealed: floats are not allowed"):
        log.append([pending("a"), pending("b")], failing_seal)
    assert log.size() == 0 and log.find("a") is None and log.node(0, 0) is None


# -- auditor queries ---------------------------------------------------------------------------

RECORDS = [
    pending("d0", model_id="m1", namespace="a", name="x", rules=("r1",), policy_revision="p1",
            artifact_digest="sha256:1", signer="s1", timestamp="2025-01-01T00:00:00Z"),
    pending("d1", model_id="m2", namespace="a", name="y", decision="deny", rules=("r2",),
            policy_revision="p1", artifact_digest="sha256:2", signer="s2", timestamp="2025-02-01T00:00:00Z"),
    pending("d2", model_id="m1", namespace="b", name="x", decision="deny", stage="pre-deploy",
            rules=("r1", "r2"), policy_revision="p2", artifact_digest="sha256:1", signer="s1",
            timestamp="2025-03-01T00:00:00Z"),
    pending("d3", model_id="m1", namespace="a", name="x", kind="override", decision="override",
            stage="pre-deploy", policy_revision="p2", artifact_digest="sha256:1", signer="s3",
            timestamp="2025-04-01T00:00:00Z"),
    pending("d4", timestamp="2025-05-01T00:00:00Z"),
]  # fmt: skip

QUERIES = {
    "everything": (QueryFilter(), "d4 d3 d2 d1 d0"),
    "model_id": (QueryFilter(model_id="m1"), "d3 d2 d0"),
    "namespace": (QueryFilter(namespace="a"), "d3 d1 d0"),
    "name": (QueryFilter(name="x"), "d3 d2 d0"),
    "namespace+name": (QueryFilter(namespace="a", name="x"), "d3 d0"),
    "decision": (QueryFilter(decision="deny"), "d2 d1"),
    "stage": (QueryFilter(stage="pre-deploy"), "d3 d2"),
    "rule": (QueryFilter(rule="r1"), "d2 d0"),
    "other-rule": (QueryFilter(rule="r2"), "d2 d1"),
    "policy_revision": (QueryFilter(policy_revision="p2"), "d3 d2"),
    "artifact_digest": (QueryFilter(artifact_digest="sha256:1"), "d3 d2 d0"),
    "signer": (QueryFilter(signer="s1"), "d2 d0"),
    "since-inclusive": (QueryFilter(since="2025-03-01T00:00:00Z"), "d4 d3 d2"),
    "until-exclusive": (QueryFilter(until="2025-03-01T00:00:00Z"), "d1 d0"),
    "time-window": (QueryFilter(since="2025-02-01T00:00:00Z", until="2025-04-01T00:00:00Z"), "d2 d1"),
    "kinds": (QueryFilter(kinds=("override",)), "d3"),
    "several-kinds": (QueryFilter(kinds=("decision", "override")), "d4 d3 d2 d1 d0"),
    "combined": (QueryFilter(model_id="m1", decision="deny", rule="r1", since="2025-02-01T00:00:00Z"), "d2"),
    "combined-none": (QueryFilter(model_id="m2", stage="pre-deploy"), ""),
    "rule-and-signer": (QueryFilter(rule="r2", signer="s2"), "d1"),
    "quote-is-a-value": (QueryFilter(model_id="m1' OR '1'='1"), ""),
    "unknown-rule": (QueryFilter(rule="nope"), ""),
}


@pytest.mark.parametrize("case", QUERIES)
def test_every_filter_selects_its_records_newest_first(log: DecisionLog, case: str) -> None:
    log.append(RECORDS[:2], seal)
    log.append(RECORDS[2:], seal)
    filters, expected = QUERIES[case]
    found = log.query(filters)
    assert [record.decision_id for record in found] == expected.split()
    assert all(record == log.record(record.seq) for record in found)


def test_query_limit(log: DecisionLog) -> None:
    log.append(RECORDS, seal)
    assert [r.decision_id for r in log.query(QueryFilter(), limit=2)] == ["d4", "d3"]
    assert [r.decision_id for r in log.query(QueryFilter(model_id="m1"), limit=1)] == ["d3"]
    assert log.query(QueryFilter(), limit=0) == []
    assert [r.decision_id for r in log.query(QueryFilter(), limit=2, offset=1)] == ["d3", "d2"]
    with pytest.raises(AuditError, match="limit"):
        log.query(QueryFilter(), limit=-1)


# -- checkpoints -------------------------------------------------------------------------------


def test_checkpoints_are_stored_and_listed_by_size(log: DecisionLog) -> None:
    log.append([pending(f"r{i}") for i in range(5)], seal)
    five = Checkpoint(5, b"5" * 32, "log\n5\nroot5\n\n— sig\n", "2025-05-05T00:00:00Z")
    log.add_checkpoint(five)
    log.add_checkpoint(Checkpoint(2, b"2" * 32, "note 2"))
    log.add_checkpoint(Checkpoint(0, b"0" * 32, "note 0", "2025-01-01T00:00:00Z"))
    log.add_checkpoint(five)  # the same checkpoint again changes nothing
    listed = log.checkpoints()
    assert [(c.size, c.root, c.note) for c in listed] == [
        (0, b"0" * 32, "note 0"),
        (2, b"2" * 32, "note 2"),
        (5, b"5" * 32, five.note),
    ]
    assert listed[2] == five
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[1].created_at)
    with pytest.raises(AuditError, match="different checkpoint for size 5"):
        log.add_checkpoint(Checkpoint(5, b"x" * 32, five.note))
    with pytest.raises(AuditError, match="outside the log"):
        log.add_checkpoint(Checkpoint(6, b"6" * 32, "note 6"))
    assert len(log.checkpoints()) == 3


# -- several writers, and a writer that dies -------------------------------------------------

SINGLES, BATCHES, BATCH = 60, 6, 10


@pytest.fixture
def spawn(monkeypatch: pytest.MonkeyPatch) -> SpawnContext:
    """A spawn context whose children can import this module by its name.

    pytest imports test files under a dotted name relative to the rootdir, which is not on
    sys.path; spawned children get the parent's sys.path, so put that folder on it.
    """
    monkeypatch.syspath_prepend(str(Path(__file__).parents[__name__.count(".")]))
    return multiprocessing.get_context("spawn")


def _append_concurrently(url: str, prefix: str, start: Any, times: Any) -> None:
    """Child process: single-record appends with a batch after every tenth; reports when it ran."""
    log = open_log(url)
    start.wait()
    began = time.monotonic()
    for i in range(SINGLES):
        log.append([decision_record(f"{prefix}-{i}")], seal)
        if i % (SINGLES // BATCHES) == 0:
            log.append([decision_record(f"{prefix}-{i}-{k}") for k in range(BATCH)], seal)
    times.put((began, time.monotonic()))
    log.close()


def _appended_by(prefix: str) -> list[str]:
    """The decision ids _append_concurrently appends, in its order."""
    ids: list[str] = []
    for i in range(SINGLES):
        ids.append(f"{prefix}-{i}")
        if i % (SINGLES // BATCHES) == 0:
            ids.extend(f"{prefix}-{i}-{k}" for k in range(BATCH))
    return ids


def _append_forever(url: str, prefix: str, appending: Any) -> None:
    """Child process: batches of 1 to 16 records until it is killed.

    ``appending`` holds the number of the batch whose append call is running, -1 between calls.
    """
    log = open_log(url)
    for number in range(1_000_000):
        batch = [pending(f"{prefix}-{number}-{k}") for k in range(1 + number % 16)]
        appending.value = number
        log.append(batch, seal)
        appending.value = -1


def test_eight_processes_appending_at_once_lose_nothing_and_leave_no_gap(
    log: DecisionLog, log_url: str, spawn: SpawnContext
) -> None:
    """Eight CI runners sharing one log: every record lands once, in one gapless sequence that verifies."""
    log.append([decision_record("first")], seal)
    writers = "abcdefgh"
    start, times = spawn.Barrier(len(writers)), spawn.Queue()
    processes = [spawn.Process(target=_append_concurrently, args=(log_url, w, start, times)) for w in writers]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    stored = assert_consistent(log)
    assert len(stored) == 1 + len(writers) * (SINGLES + BATCHES * BATCH)
    ids = [record.decision_id for record in stored]
    assert len(set(ids)) == len(ids)
    for writer in writers:  # each writer's records, all there, in the order it appended them
        assert [i for i in ids if i.startswith(f"{writer}-")] == _appended_by(writer)
    report = verify_log(log, None)
    assert report.ok and report.size == len(stored), report.problems[:3]
    spans = [times.get(timeout=5) for _ in writers]
    assert max(began for began, _ in spans) < min(ended for _, ended in spans), (
        "the writers did not all overlap: nothing was tested"
    )


def test_a_writer_killed_mid_append_leaves_a_consistent_log(
    log: DecisionLog, log_url: str, spawn: SpawnContext
) -> None:
    interrupted = 0  # rounds whose kill landed inside an append call that had not committed
    for round_ in range(8):
        if round_ >= 3 and interrupted:
            break
        before, appending = log.size(), spawn.RawValue("q", -1)  # no lock: the writer dies holding none
        writer = spawn.Process(target=_append_forever, args=(log_url, f"k{round_}", appending))
        writer.start()
        deadline = time.monotonic() + 60
        while log.size() < before + 200 and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.pid is not None and writer.is_alive(), "the writer stopped before it was killed"
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(timeout=30)
        assert writer.exitcode == -signal.SIGKILL
        # A server may still commit what the dead writer sent; appending waits for the writer
        # lock, so once it returns the writer's last transaction is settled either way.
        (after,) = log.append([pending(f"after-{round_}")], seal)
        interrupted += appending.value >= 0 and log.find(f"k{round_}-{appending.value}-0") is None
        stored = assert_consistent(log)
        assert after.seq == len(stored) - 1 >= before + 200 and stored[-1] == after
    assert interrupted, "no kill landed inside an append: the test proved nothing"


# -- opening logs ------------------------------------------------------------------------------


def test_sqlite_urls_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, path in [
        ("sqlite:///logs/relative.db", tmp_path / "logs" / "relative.db"),
        (f"sqlite:///{tmp_path}/absolute.db", tmp_path / "absolute.db"),
    ]:
        opened = open_log(url)
        opened.append([pending("a")], seal)
        opened.close()
        assert path.is_file()
        assert open_log(url).size() == 1


@pytest.mark.parametrize(
    "url",
    [
        "mysql://auditor:hunter2secret@db.example.com/log",
        "hunter2secret",
        "https://u:hunter2secret@example.com/x",
        "sqlite://host/x.db",
        "sqlite:///",
        "sqlite:///x.db?mode=hunter2secret",
    ],
)
def test_unusable_urls_are_refused_in_one_line_without_the_password(url: str) -> None:
    with pytest.raises(AuditError) as caught:
        open_log(url)
    message = caught.value.diagnostics()
    assert "\n" not in message and "hunter2secret" not in message and message


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_an_unreachable_postgres_server_is_an_audit_error_without_the_password(scheme: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(AuditError, match="could not connect") as caught:
        open_log(f"{scheme}://auditor:hunter2secret@127.0.0.1:1/log?connect_timeout=5")
    assert "hunter2secret" not in caught.value.diagnostics() and "\n" not in caught.value.diagnostics()


def test_a_wrong_postgres_password_is_not_echoed(postgres_url: str) -> None:
    wrong = re.sub(r"^(\w+://[^:/@]+):[^@]*@", r"\1:hunter2secret@", postgres_url)
    with pytest.raises(AuditError, match="could not connect") as caught:
        open_log(wrong)
    assert "hunter2secret" not in caught.value.diagnostics()


def test_a_foreign_or_newer_sqlite_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "other.db") as other:
        other.execute("CREATE TABLE records (x)")
    with pytest.raises(AuditError, match="not a fleetgate decision log"):
        open_log(f"sqlite:///{tmp_path}/other.db")
    open_log(f"sqlite:///{tmp_path}/newer.db").close()
    with sqlite3.connect(tmp_path / "newer.db") as newer:
        newer.execute("PRAGMA user_version = 99")
    with pytest.raises(AuditError, match="schema version 99"):
        open_log(f"sqlite:///{tmp_path}/newer.db")


def test_a_sqlite_log_does_not_load_the_postgres_driver(tmp_path: Path) -> None:
    script = (
        "import sys; from fleetgate.audit.store import open_log; "
        f"open_log('sqlite:///{tmp_path}/a.db').close(); "
        "assert 'psycopg' not in sys.modules, 'psycopg was imported'"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
