"""``policies.engine: opa-golib``: OPA's own evaluator decides in process, exactly as the embedded engine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from support_opa import comparable, engine_check, engine_demo, opa_path

from support import GitRepo


@pytest.fixture
def demo(repo: GitRepo) -> GitRepo:
    return engine_demo(repo)  # type: ignore[no-any-return]


def check(repo: GitRepo, config: Path, engine: str) -> Any:
    return engine_check(repo, config, f"policies:\n  engine: {engine}\n")


def test_opas_evaluator_in_process_decides_exactly_as_the_embedded_engine(
    demo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(opa_path()), os.environ.get("PYTHONPATH", "")]))
    config = tmp_path / "operator.yaml"
    embedded = check(demo, config, "embedded")
    golib = check(demo, config, "opa-golib")
    assert (embedded.returncode, golib.returncode) == (1, 1), golib.stderr
    assert comparable(golib.stdout) == comparable(embedded.stdout)
    assert json.loads(golib.stdout)["policy"]["engine"].startswith("opa golib-")
    denied = {s["name"] for s in json.loads(golib.stdout)["subjects"] if not s["allowed"]}
    assert denied == {"b", "c", "d"}


def test_without_the_bindings_the_check_cannot_decide(demo: GitRepo, tmp_path: Path) -> None:
    done = check(demo, tmp_path / "operator.yaml", "opa-golib")
    assert done.returncode == 2 and done.stdout == ""
    assert "OPA's evaluator is not available" in done.stderr
