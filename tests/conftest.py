"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import GitRepo, PolicyDir

# Read before the session fixture below hides the runner's variables from the tests themselves.
ON_CI = os.environ.get("CI", "").lower() in ("true", "1")
_ON_CI_NOTE = "skipped on CI, where .ci/run installs every server and tool the tests need: "


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """On CI a skip is a failure: a missing PostgreSQL, Prometheus or browser is a broken CI, not a pass."""
    outcome: Any = yield
    report = outcome.get_result()
    if ON_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{_ON_CI_NOTE}{report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped while it is collected (a missing library)."""
    outcome: Any = yield
    report = outcome.get_result()
    if ON_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{_ON_CI_NOTE}{report.longrepr}"


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[GitRepo]:
    """A fresh git repository (branch main) in a temporary folder."""
    yield GitRepo(tmp_path / "repo")


@pytest.fixture
def policy_dir(tmp_path: Path) -> PolicyDir:
    """Write a policy directory from {relative path: text}."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "policy"
        root.mkdir(exist_ok=True)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return make


@pytest.fixture(autouse=True, scope="session")
def _private_fact_cache_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The fact cache's per-user secret lives in a test folder, not the tester's ~/.config."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _not_on_a_ci_runner() -> Iterator[None]:
    """Tests that want CI behaviour say so: the runner's own CI variables must not change results."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_STEP_SUMMARY"):
            patch.delenv(name, raising=False)
        yield
