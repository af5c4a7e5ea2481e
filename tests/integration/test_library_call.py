"""A whole check through one library call: the same decision document as the CLI, recorded the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fleetgate.commands.check import CheckOptions, run_check

from support import GitRepo, manifest, to_yaml

VOLATILE = ("decision_id", "timestamp")


def stable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in VOLATILE}


def test_a_library_call_gives_the_cli_s_decision_and_records_it(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("fleetgate.yaml", "policies:\n  data:\n    rollout: {initialMax: 5}\n")
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    base = repo.commit("base")
    repo.write("models/a.yaml", to_yaml(manifest("a", updateStrategy={"rolloutPercentage": 50})))
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 5})))
    repo.commit("change")
    log = f"sqlite:///{tmp_path / 'audit.db'}"
    checked = run_check(CheckOptions(base=base, head="HEAD", cwd=repo.root, evidence=(), audit_log=log))
    code, from_cli = repo.decision("--base", base, "--head", "HEAD", "--evidence", "none", "--no-audit")
    assert code == 1 and not checked.decision.allowed
    assert stable(checked.decision.to_json()) == stable(from_cli)
    shown = repo.fleetgate("audit", "--log", log, "query", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    recorded = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    assert {r["gate_decision_id"] for r in recorded} == {checked.decision.decision_id}
    assert sorted(r["name"] for r in recorded) == ["a", "b"]


def test_audit_settings_only_matter_when_the_check_records(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "audit:\n  verifierKey: keys/missing.pub\n")
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.commit("base")
    unrecorded = repo.fleetgate("check", "models", "--evidence", "none", "--no-audit")
    assert unrecorded.returncode == 0, unrecorded.stderr
    recorded = repo.fleetgate("check", "models", "--evidence", "none")
    assert recorded.returncode == 2 and "cannot read the verifier key" in recorded.stderr


def test_a_ci_run_that_logs_inside_git_is_warned(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.commit("base")
    local = repo.fleetgate("check", "models", "--evidence", "none")
    assert local.returncode == 0 and "vanishes" not in local.stderr
    monkeypatch.setenv("CI", "true")
    done = repo.fleetgate("check", "models", "--evidence", "none")
    assert done.returncode == 0 and "inside .git on a CI runner and vanishes with it" in done.stderr
