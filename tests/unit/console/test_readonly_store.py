"""The read-only opener: it reads what the writer wrote, and the database refuses any write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fleetgate.audit.record import seal
from fleetgate.audit.store import AuditError, QueryFilter
from fleetgate.audit.store.readonly import open_readonly_log
from fleetgate.console.history import admitted_at

from .conftest import fill, record


def test_reads_pages_by_sequence_number_and_refuses_writes(log_url: str) -> None:
    fill(log_url, [record(n, model="img-a" if n % 2 else "img-b") for n in range(7)])
    log = open_readonly_log(log_url)
    try:
        assert log.size() == 7
        assert [r.seq for r in log.page(QueryFilter(), None, 3)] == [6, 5, 4]
        assert [r.seq for r in log.page(QueryFilter(), 4, 3)] == [3, 2, 1]
        assert [r.seq for r in log.page(QueryFilter(model_id="img-a"), 5, 10)] == [3, 1]
        with pytest.raises(AuditError, match="could not append"):
            log.append([record(9)], seal)
        assert log.size() == 7
    finally:
        log.close()


def test_what_was_live_is_the_last_admission_at_pre_deploy(log_url: str) -> None:
    fill(
        log_url,
        [
            record(0, stage="pre-deploy", name="a"),
            record(1, stage="pre-deploy", name="a", decision="deny"),  # a denial leaves 0 live
            record(2, stage="pre-merge", name="b"),  # not a deployment
            record(3, stage="pre-deploy", name="b"),
            record(4, stage="pre-deploy", name="a"),
        ],
    )
    log = open_readonly_log(log_url)
    try:
        at = {
            moment: [r.seq for r in admitted_at(log, moment, QueryFilter())]
            for moment in ("2025-12-31", "2026-01-02T12:00:00Z", "2026-01-04T12:00:00.000000Z", "2026-02-01")
        }
        assert at == {
            "2025-12-31": [],
            "2026-01-02T12:00:00Z": [0],
            "2026-01-04T12:00:00.000000Z": [0, 3],  # b admitted at exactly that moment
            "2026-02-01": [4, 3],
        }
        assert [r.seq for r in admitted_at(log, "2026-02-01", QueryFilter(name="b"))] == [3]
        with pytest.raises(AuditError, match="decided at pre-deploy"):
            admitted_at(log, "2026-02-01", QueryFilter(stage="pre-merge"))
    finally:
        log.close()


def test_a_missing_or_foreign_sqlite_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no such file"):
        open_readonly_log(f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()  # nothing was created
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(AuditError, match="not a fleetgate decision log"):
        open_readonly_log(f"sqlite:///{foreign}")


def test_the_sqlite_file_is_opened_read_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    fill(url, [record(0)])
    log = open_readonly_log(url)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
            log._execute("DELETE FROM records")  # type: ignore[attr-defined]
    finally:
        log.close()
