"""The auditor console over HTTP: who may read it, what every response carries, the exports,
and `audit query --admitted-at`, all against a real server over a log filled by real checks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_audit import fresh_schema, postgres_server

from support_console import AuditedRepo, audited_repo, console, get

pytestmark = pytest.mark.slow
pytest.importorskip("uvicorn")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditedRepo:
    soon = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
    return audited_repo(tmp_path_factory.mktemp("console-http"), waiver_expires=soon)


@pytest.fixture(scope="module")
def base_url(audited: AuditedRepo) -> Iterator[str]:
    with console(audited.repo) as url:
        yield url


def test_every_page_carries_a_strict_policy_and_nothing_can_be_written(base_url: str) -> None:
    for path in ("/", "/decisions", "/decisions/1", "/model?id=img-a", "/live?at=2999-01-01", "/nowhere"):
        status, headers, body = get(base_url + path)
        assert status == (404 if path == "/nowhere" else 200), (path, body[:300])
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy  # no script at all
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert b"<script" not in body.lower()
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = get(base_url + "/decisions", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD"


def test_the_overview_lists_a_waiver_about_to_expire_and_the_override(base_url: str) -> None:
    _, _, body = get(base_url + "/")
    text = body.decode()
    assert "Waivers expiring within 30 days" in text
    assert "rollout.ladder</td><td>production/b</td><td>sre-lead" in text
    assert 'href="/decisions/7">7</a>' in text  # the override


def test_exports_follow_the_filters_in_the_url(audited: AuditedRepo, base_url: str) -> None:
    status, headers, body = get(base_url + "/decisions.csv?model_id=img-a&stage=pre-merge")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert 'filename="decisions.csv"' in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["seq"], r["decision"], r["version"]) for r in rows] == [
        ("3", "deny", "3.3.0"),
        ("0", "admit", "3.2.1"),
    ]
    _, _, lines = get(base_url + "/decisions.jsonl?decision=override")
    exported = [json.loads(line) for line in lines.decode().splitlines()]
    assert [(r["seq"], r["by"], r["ticket"]) for r in exported] == [(7, "release-manager", "REL-7")]
    cli = audited.repo.fleetgate("audit", "query", "--format", "json", "--decision", "override")
    assert lines.decode() == cli.stdout  # the same bytes as the CLI


def test_bad_filters_are_a_message_not_a_traceback(base_url: str) -> None:
    status, _, body = get(base_url + "/decisions?since=yesterday")
    assert status == 400 and b"is not an RFC 3339 time or a date" in body
    status, _, body = get(base_url + "/decisions?decision=%3Cb%3Eadmit")
    assert status == 400 and b"&#39;&lt;b&gt;admit&#39;" in body
    assert get(base_url + "/decisions?before=x")[0] == 400
    assert get(base_url + "/decisions/999")[0] == 404


def test_pages_are_keyset_pages_by_sequence_number(base_url: str) -> None:
    _, _, body = get(base_url + "/decisions?before=3")
    text = body.decode()
    assert 'href="/decisions/2"' in text and 'href="/decisions/0"' in text
    assert 'href="/decisions/3"' not in text and 'href="/decisions/5"' not in text


def test_off_loopback_the_console_needs_a_token(audited: AuditedRepo, tmp_path: Path) -> None:
    refused = audited.repo.fleetgate("audit", "serve", "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 2
    assert "refusing to serve the decision log on 0.0.0.0 without --token-file" in refused.stderr
    token = tmp_path / "token"
    token.write_text("s3cret-token-for-auditors\n")
    with console(audited.repo, "--token-file", str(token), host="0.0.0.0") as url:
        status, headers, _ = get(url + "/decisions")
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        assert get(url + "/decisions", [("Authorization", "Bearer wrong-token-for-auditors")])[0] == 401
        status, _, body = get(url + "/decisions", [("Authorization", "Bearer s3cret-token-for-auditors")])
        assert status == 200 and b"production/b" in body
    token.write_text("short\n")
    weak = audited.repo.fleetgate("audit", "serve", "--token-file", str(token), "--port", "1")
    assert weak.returncode == 2 and "at least 16 characters" in weak.stderr


def test_admitted_at_names_what_was_live(audited: AuditedRepo) -> None:
    done = audited.repo.fleetgate("audit", "query", "--admitted-at", "2999-01-01", "--format", "json")
    assert done.returncode == 0, done.stderr
    [live] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (live["seq"], live["decision"], live["version"]) == (7, "override", "3.3.0")
    before = audited.repo.fleetgate("audit", "query", "--admitted-at", "2000-01-01", "--format", "json")
    assert before.returncode == 0 and before.stdout == ""
    moment = live["timestamp"]  # at the very moment of the override: already live
    at = audited.repo.fleetgate("audit", "query", "--admitted-at", moment, "--format", "csv")
    assert at.stdout.splitlines()[1].startswith("7,")
    bad = audited.repo.fleetgate("audit", "query", "--admitted-at", "2999-01-01", "--decision", "deny")
    assert bad.returncode == 2 and "takes no --decision" in bad.stderr


def test_the_console_serves_a_postgresql_log_read_only(tmp_path: Path) -> None:
    schemas = fresh_schema(postgres_server())
    url = next(schemas)
    try:
        audited = audited_repo(tmp_path, waiver_expires="2999-01-01", log_url=url)
        with console(audited.repo) as base:
            status, _, body = get(base + "/decisions/1")
            assert status == 200 and b"Inclusion proof: verified" in body
            _, _, listed = get(base + "/decisions?model_id=img-b&decision=deny")
            assert listed.count(b'href="/decisions/') == 1 and b'href="/decisions/1"' in listed
            _, _, live = get(base + "/live?at=2999-01-01")
            assert b"(override)" in live and b"25%" in live
            _, _, overview = get(base + "/")
            assert b"8 records" in overview
    finally:
        next(schemas, None)
