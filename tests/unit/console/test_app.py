"""The console's routes in-process (the browser tests drive the real server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from fleetgate.audit.store.readonly import open_readonly_log
from fleetgate.console import app as console_app

from .conftest import fill, record


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    fill(url, [record(n, name="a" if n % 2 else "b") for n in range(5)])
    log = open_readonly_log(url)
    config = console_app.ConsoleConfig(url, "example.com/log", verify_on_start=False)
    yield TestClient(console_app.create_app(config, log), base_url="http://localhost:8080")
    log.close()


def test_exports_stream_every_batch_with_one_header(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_app, "_EXPORT_BATCH", 2)
    lines = client.get("/decisions.csv").text.splitlines()
    assert lines[0].startswith("seq,decision_id,") and [line.split(",")[0] for line in lines[1:]] == [
        "4",
        "3",
        "2",
        "1",
        "0",
    ]
    jsonl = client.get("/decisions.jsonl?name=a").text.splitlines()
    assert [json.loads(line)["seq"] for line in jsonl] == [3, 1]


def test_a_record_without_a_checkpoint_has_no_proof_to_download(client: TestClient) -> None:
    page = client.get("/decisions/2")
    assert page.status_code == 200 and "Inclusion proof: unverified" in page.text
    assert "Download the proof" not in page.text
    proof = client.get("/decisions/2/proof.json")
    assert proof.status_code == 409 and "no checkpoint covers record 2 yet" in proof.text
    assert client.get("/decisions/9/proof.json").status_code == 404


def test_head_requests_and_the_stylesheet(client: TestClient) -> None:
    assert client.head("/decisions").status_code == 200
    css = client.get("/static/console.css")
    assert css.headers["content-type"].startswith("text/css") and "svg.chart" in css.text


def test_pages_ask_for_what_they_need(client: TestClient) -> None:
    assert client.get("/model").status_code == 400
    assert client.get("/live?at=never").status_code == 400
    live = client.get("/live")
    assert live.status_code == 200 and "<table" not in live.text  # a form until a time is given
