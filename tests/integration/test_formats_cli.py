"""Several report formats from one evaluation, written by one `fleetgate check` run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from fleetgate.cli import main
from fleetgate.format import FORMATS
from fleetgate.policy import EmbeddedEngine

from support import GitRepo, manifest, to_yaml


def test_every_format_comes_from_one_evaluation(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 7})))
    calls: list[dict[str, Any]] = []
    evaluate = EmbeddedEngine.evaluate

    def counting(self: EmbeddedEngine, policy_input: dict[str, Any]) -> Any:
        calls.append(policy_input)
        return evaluate(self, policy_input)

    monkeypatch.setattr(EmbeddedEngine, "evaluate", counting)
    monkeypatch.chdir(repo.root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    files = {name: tmp_path / f"report.{name}" for name in FORMATS if name != "text"}
    args = ["check", "models", "--format", "text"] + [f"--format={n}={p}" for n, p in files.items()]
    assert main(args) == 1
    assert len(calls) == 2  # one policy evaluation per deployment, whatever the number of formats
    text = capsys.readouterr().out
    assert "DENY" in text
    decision = json.loads(files["json"].read_text())
    assert decision["decision"] == "deny"
    for name, path in files.items():
        assert path.stat().st_size > 0, name
        if name in ("sarif",):
            assert decision["decision_id"] in path.read_text()


def test_only_one_format_may_go_to_stdout(repo: GitRepo) -> None:
    done = repo.fleetgate("check", "--format", "json", "--format", "text")
    assert done.returncode == 2 and "only one format can go to stdout" in done.stderr
    done = repo.fleetgate("check", "--format", "xml")
    assert done.returncode == 2 and "unknown format 'xml'" in done.stderr


def test_github_format_appends_the_job_summary(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 7})))
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env_before = os.environ.get("GITHUB_STEP_SUMMARY")
    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    try:
        done = repo.fleetgate("check", "models", "--format", "github")
    finally:
        if env_before is None:
            del os.environ["GITHUB_STEP_SUMMARY"]
        else:
            os.environ["GITHUB_STEP_SUMMARY"] = env_before
    assert done.returncode == 1, done.stderr
    assert "::error file=models/b.yaml,line=" in done.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "`fleetgate explain rollout.ladder`" in text
    assert "models/b.yaml:" in text  # not over-escaped
    assert "the job summary lists all of them" in done.stdout


def test_evidence_off_is_said_once_instead_of_one_warning_per_fact(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    repo.write("models/b.yaml", to_yaml(manifest("b")))
    text = repo.fleetgate("check", "models", "--evidence", "none", "--no-audit")
    assert text.returncode == 0, text.stderr
    assert "evidence.missing" not in text.stdout.replace("evidence.missing warnings not shown", "")
    assert text.stdout.count("Evidence gathering is off") == 1
    github = repo.fleetgate("check", "models", "--evidence", "none", "--no-audit", "--format", "github")
    assert github.stdout.count("::notice title=fleetgate: evidence off::") == 1
    assert "::warning" not in github.stdout
    # With evidence gathered (none reachable here) each deployment gets one folded warning.
    gathered = repo.fleetgate("check", "models", "--no-audit", "--format", "github")
    assert gathered.stdout.count("::warning ") == 2, gathered.stdout


def test_github_format_outside_actions_does_not_claim_a_job_summary(repo: GitRepo) -> None:
    repo.write("models/b.yaml", to_yaml(manifest("b", updateStrategy={"rolloutPercentage": 7})))
    env_before = os.environ.pop("GITHUB_STEP_SUMMARY", None)
    try:
        done = repo.fleetgate("check", "models", "--no-audit", "--format", "github")
    finally:
        if env_before is not None:
            os.environ["GITHUB_STEP_SUMMARY"] = env_before
    assert done.returncode == 1, done.stderr
    assert "job summary lists" not in done.stdout
    assert "outside GitHub Actions no job summary is written" in done.stdout
