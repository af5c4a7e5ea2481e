"""The auditor console in a real browser (Debian's chromium driven by Playwright), over a real
server and a log filled by real checks. Screenshots of each page land in the test's folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_console import XSS, AuditedRepo, audited_repo, console

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditedRepo:
    return audited_repo(tmp_path_factory.mktemp("console"), waiver_expires="2999-01-01")


@pytest.fixture(scope="module")
def base_url(audited: AuditedRepo) -> Iterator[str]:
    with console(audited.repo) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, tmp_path: Path) -> Iterator[object]:
    context = browser.new_context(java_script_enabled=True, accept_downloads=True)  # type: ignore[attr-defined]
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs
    yield opened
    context.close()


def shot(page: object, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    assert path.stat().st_size > 1000
    return path


def test_filter_open_a_decision_and_check_its_downloaded_proof(
    audited: AuditedRepo, base_url: str, page: object, tmp_path: Path
) -> None:
    page.goto(f"{base_url}/")
    assert "8 records" in page.inner_text("main")
    shot(page, tmp_path, "overview")
    page.click("text=Decisions")
    assert page.locator("table.records tbody tr").count() == 8
    page.fill("input[name=model_id]", "img-b")
    page.select_option("select[name=decision]", "deny")
    page.click("button:has-text('Filter')")
    assert "model_id=img-b" in page.url and "decision=deny" in page.url  # a shareable link
    rows = page.locator("table.records tbody tr")
    assert rows.count() == 1 and "rollout.ladder" in rows.first.inner_text()
    shot(page, tmp_path, "decisions-filtered")
    rows.first.locator("a").first.click()
    assert page.url.endswith("/decisions/1")
    assert "Inclusion proof: verified" in page.inner_text("section.proof")
    assert "models/b.yaml:" in page.inner_text("table.findings")
    shot(page, tmp_path, "decision")
    with page.expect_download() as download:
        page.click("text=Download the proof")
    proof = tmp_path / "proof.json"
    download.value.save_as(proof)
    checked = audited.repo.fleetgate("audit", "verify-proof", str(proof), "--key", audited.verifier)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"record      {audited.denied_b}: production/b deny at pre-merge" in checked.stdout


def test_the_waiver_question_from_the_pages_alone(base_url: str, page: object, tmp_path: Path) -> None:
    page.goto(f"{base_url}/decisions")
    page.fill("input[name=namespace]", "production")
    page.select_option("select[name=decision]", "admit")
    page.check("input[name=waived]")
    page.click("button:has-text('Filter')")
    rows = page.locator("table.records tbody tr")
    assert rows.count() == 1
    assert "sre-lead" in rows.first.inner_text()  # who approved it, in the list itself
    rows.first.locator("a").first.click()
    assert "canary cohort" in page.inner_text("main")
    assert "Inclusion proof: verified" in page.inner_text("section.proof")


def test_model_history_draws_rollout_and_marks_denials(base_url: str, page: object, tmp_path: Path) -> None:
    page.goto(f"{base_url}/model?id=img-a")
    chart = page.locator("figure svg")
    assert chart.locator("circle").count() == 2  # the admit and the override (at 25%)
    assert chart.locator("path").count() == 2  # the two denials, as crosses
    titles = " ".join(chart.locator("a title").all_text_contents())
    assert "denied by rollout.step-limit" in titles and "rollout 25%" in titles
    assert "v3.3.0" in " ".join(chart.locator("text").all_text_contents())
    shot(page, tmp_path, "model")
    page.goto(f"{base_url}/live")
    page.fill("input[name=at]", "2999-01-01")
    page.click("button:has-text('Show')")
    live = page.locator("table.records tbody tr")
    row = live.first.inner_text()
    assert live.count() == 1 and "3.3.0" in row and "25%" in row and "(override)" in row
    shot(page, tmp_path, "live")


def test_a_script_in_a_manifest_value_never_runs(base_url: str, page: object, tmp_path: Path) -> None:
    page.goto(f"{base_url}/decisions?model_id=" + XSS.replace("&", "%26").replace("#", "%23"))
    assert page.locator("table.records tbody tr").count() == 2
    assert XSS in page.inner_text("table.records")  # shown as text
    page.locator("table.records tbody a").first.click()
    assert XSS in page.inner_text("main")
    page.goto(f"{base_url}/model?id=" + XSS.replace("&", "%26").replace("#", "%23"))
    assert XSS in page.inner_text("h1")
    shot(page, tmp_path, "xss-probe")
    assert page.title() != "pwned" and page.dialogs == []
    assert page.locator("main script, main img").count() == 0


def test_a_tampered_record_is_shown_as_failing(audited: AuditedRepo, tmp_path: Path, page: object) -> None:
    db = tmp_path / "audit.db"
    with sqlite3.connect(audited.log_url.removeprefix("sqlite:///")) as source, sqlite3.connect(db) as target:
        source.backup(target)
    with sqlite3.connect(db) as connection:  # someone with write access turns a deny into an admit
        connection.execute(
            "UPDATE records SET decision = 'admit', "
            "body = CAST(replace(CAST(body AS TEXT), '\"deny\"', '\"admit\"') AS BLOB) WHERE seq = 1"
        )
    with console(audited.repo, log=f"sqlite:///{db}") as url:
        page.goto(f"{url}/decisions/1")
        assert "Inclusion proof: failing" in page.inner_text("section.proof")
        shot(page, tmp_path, "tampered")
        page.goto(f"{url}/decisions/0")
        assert "Inclusion proof: verified" in page.inner_text("section.proof")


def test_every_page_works_without_javascript(browser: object, base_url: str, tmp_path: Path) -> None:
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(f"{base_url}/decisions")
        page.fill("input[name=name]", "a")
        page.click("button:has-text('Filter')")  # a plain GET form
        assert "name=a" in page.url and page.locator("table.records tbody tr").count() == 4
        page.click("text=Live at time T")
        page.fill("input[name=at]", "2999-01-01")
        page.click("button:has-text('Show')")
        assert page.locator("table.records tbody tr").count() == 1
        page.click("table.records tbody a")
        assert "Inclusion proof: verified" in page.inner_text("section.proof")
        page.click("text=img-a")
        assert page.locator("figure svg").count() == 1
        shot(page, tmp_path, "no-javascript")
    finally:
        context.close()
