"""A decision's proof as its page checks it, and the decisions page's filters and paging."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fleetgate.audit.checkpoint import generate_key
from fleetgate.audit.log import make_checkpoint, verify_bundle
from fleetgate.audit.store import AuditError, open_log
from fleetgate.audit.store.readonly import open_readonly_log
from fleetgate.console.filters import parse_filters
from fleetgate.console.proof import check_record
from fleetgate.console.records import decisions_page

from .conftest import fill, record

ORIGIN = "example.com/log"
WAIVER = {
    "rule": "rollout.ladder",
    "target": "production/a",
    "approvedBy": "sre-lead",
    "expires": "2999-01-01",
}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[str, str]:
    """A SQLite log of 5 records, the first 4 under a signed checkpoint; (url, verifier key)."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    signer, verifier = generate_key(ORIGIN)
    fill(url, [record(n) for n in range(4)])
    log = open_log(url)
    make_checkpoint(log, ORIGIN, signer, "2026-01-05T00:00:00Z")
    log.close()
    fill(url, [record(4)])
    return url, verifier


def status_of(url: str, seq: int, verifier: str | None) -> tuple[str, str]:
    log = open_readonly_log(url)
    try:
        found = log.record(seq)
        assert found is not None
        status = check_record(log, found, verifier, ORIGIN)
    finally:
        log.close()
    if status.state == "verified":  # what the page offers for download proves the same
        assert status.bundle is not None and verify_bundle(status.bundle, verifier or "", ORIGIN) is not None
    return status.state, status.reason


def test_a_covered_record_verifies_and_the_rest_say_why_not(signed: tuple[str, str]) -> None:
    url, verifier = signed
    assert status_of(url, 2, verifier)[0] == "verified"
    assert status_of(url, 4, verifier) == (
        "unverified",
        "no checkpoint covers record 4 yet: run `fleetgate audit checkpoint` first",
    )
    assert status_of(url, 2, None)[0] == "unverified"
    _, other = generate_key(ORIGIN)
    assert status_of(url, 2, other)[0] == "failing"  # a checkpoint not signed by the trusted key


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE records SET decision = 'deny' WHERE seq = 2", "stored decision differ"),
        (
            "UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '1.2.0', '9.9.9') AS BLOB) "
            "WHERE seq = 2",
            "do not lead to the root",
        ),
        ("UPDATE record_rules SET rule = 'x' WHERE seq = 2", "stored rules differ"),
    ],
)
def test_a_tampered_record_is_failing(signed: tuple[str, str], statement: str, reason: str) -> None:
    url, verifier = signed
    db = url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as connection:
        if "record_rules" in statement:
            connection.execute("INSERT INTO record_rules (seq, pos, rule) VALUES (2, 0, 'y')")
        connection.execute(statement)
    state, why = status_of(url, 2, verifier)
    assert state == "failing" and reason in why
    assert status_of(url, 1, verifier)[0] == "verified"


def test_waived_only_pages_by_sequence_number_over_the_bodies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    fill(url, [record(n, waivers=[WAIVER] if n in (1, 4, 6) else []) for n in range(8)])
    log = open_readonly_log(url)
    try:
        filters = parse_filters({"waived": "1", "namespace": "production"})
        first = decisions_page(log, filters, None, 2)
        assert [r.record.seq for r in first.rows] == [6, 4] and first.next_before == 4
        assert first.rows[0].approvers == ["sre-lead"]
        second = decisions_page(log, filters, first.next_before, 2)
        assert [r.record.seq for r in second.rows] == [1] and second.next_before is None
        plain = decisions_page(log, parse_filters({}), None, 5)
        assert [r.record.seq for r in plain.rows] == [7, 6, 5, 4, 3] and plain.next_before == 3
        assert filters.url("/decisions", before=4) == "/decisions?namespace=production&waived=1&before=4"
    finally:
        log.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [({"decision": "maybe"}, "decision must be one of"), ({"until": "soon"}, "is not an RFC 3339")],
)
def test_bad_filters_raise_a_one_line_error(params: dict[str, str], message: str) -> None:
    with pytest.raises(AuditError, match=message):
        parse_filters(params)
