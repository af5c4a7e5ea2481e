"""The shell steps of the CI examples, run by bash on real repositories as a runner would.

They must stop when the merge base cannot be found (an empty base would admit everything), keep
fleetgate's exit status, and leave a decision log (with a signed checkpoint) to keep.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import GIT_ENV, GitRepo, manifest, to_yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
BIN = Path(sys.executable).parent


def github_job(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((EXAMPLES / "github" / "fleetgate.yml").read_text(encoding="utf-8"))
    job: dict[str, Any] = workflow["jobs"][name]
    return job


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in job["steps"] if s.get("name") == name]
    return found


def gitlab_script() -> str:
    job = yaml.safe_load((EXAMPLES / "gitlab" / "fleetgate.gitlab-ci.yml").read_text(encoding="utf-8"))
    script: str = job["fleetgate"]["script"][-1]
    return script


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **GIT_ENV, "NO_COLOR": "1", **env}
    full["PATH"] = f"{BIN}{os.pathsep}{full['PATH']}"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )


def pull_request(repo: GitRepo) -> str:
    """A base on `main` (also as `origin/main`) and a head commit that breaks the ladder."""
    repo.write("models/img.yaml", to_yaml(manifest()))
    base = repo.commit("base")
    repo.git("update-ref", "refs/remotes/origin/main", base)
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 7})))
    repo.commit("off the ladder")
    return base


def keypair(tmp_path: Path) -> tuple[Path, str]:
    key = tmp_path / "checkpoint.key"
    done = bash(f"fleetgate audit keygen example.com/fleetgate --out {key}", tmp_path)
    assert done.returncode == 0, done.stderr
    return key, done.stdout.strip().splitlines()[-1]


def test_github_gate_stops_when_the_merge_base_cannot_be_found(repo: GitRepo, tmp_path: Path) -> None:
    pull_request(repo)
    output = tmp_path / "output"
    script = step(github_job("gate"), "Check the change")["run"]
    done = bash(script, repo.root, BASE_REF="nope", GITHUB_OUTPUT=str(output))
    assert done.returncode != 0
    assert "ADMIT" not in done.stdout and not (repo.root / "fleetgate-audit.db").exists()


def test_github_gate_records_a_log_the_audit_job_signs(repo: GitRepo, tmp_path: Path) -> None:
    pull_request(repo)
    output = tmp_path / "output"
    gate = bash(
        step(github_job("gate"), "Check the change")["run"],
        repo.root,
        BASE_REF="main",
        GITHUB_OUTPUT=str(output),
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert output.read_text() == "status=1\n" and "rollout.ladder" in gate.stdout
    # The audit-log job works on the downloaded artifact, in a folder of its own.
    job = tmp_path / "job"
    job.mkdir()
    (job / "fleetgate-audit.db").write_bytes((repo.root / "fleetgate-audit.db").read_bytes())
    key, verifier = keypair(tmp_path)
    sign = step(github_job("audit-log"), "Sign a checkpoint of the decision log")["run"]
    signed = bash(sign, job, CHECKPOINT_KEY=key.read_text(), RUNNER_TEMP=str(tmp_path))
    assert signed.returncode == 0, signed.stderr
    assert (job / "fleetgate-checkpoint.txt").read_text().startswith("fleetgate.local/decision-log\n1\n")
    verified = bash(f"fleetgate audit --log sqlite:///fleetgate-audit.db verify --key '{verifier}'", job)
    assert verified.returncode == 0 and "match checkpoint 1, signed by key" in verified.stdout, (
        verified.stderr
    )
    unsigned = bash(sign, job, CHECKPOINT_KEY="", RUNNER_TEMP=str(tmp_path))
    assert unsigned.returncode == 0 and "kept unsigned" in unsigned.stdout


def test_gitlab_job_keeps_the_sqlite_log_and_a_checkpoint(repo: GitRepo, tmp_path: Path) -> None:
    base = pull_request(repo)
    key, verifier = keypair(tmp_path)
    env = {"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "FLEETGATE_CHECKPOINT_KEY": str(key)}
    done = bash(gitlab_script(), repo.root, **env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (repo.root / "fleetgate-checkpoint.txt").is_file()
    verified = bash(
        f"fleetgate audit --log sqlite:///fleetgate-audit.db verify --key '{verifier}'", repo.root
    )
    assert verified.returncode == 0, verified.stderr
    assert bash(gitlab_script(), repo.root).returncode != 0  # no merge base given: stop


def test_gitlab_job_records_into_the_shared_postgresql_log(repo: GitRepo) -> None:
    url = os.environ.get("FLEETGATE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FLEETGATE_TEST_POSTGRES_URL is not set")
    base = pull_request(repo)
    before = bash(f"fleetgate audit --log '{url}' export | wc -l", repo.root)
    done = bash(gitlab_script(), repo.root, CI_MERGE_REQUEST_DIFF_BASE_SHA=base, FLEETGATE_AUDIT_LOG=url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert not (repo.root / "fleetgate-audit.db").exists()
    after = bash(f"fleetgate audit --log '{url}' export | wc -l", repo.root)
    assert int(after.stdout) == int(before.stdout) + 1
