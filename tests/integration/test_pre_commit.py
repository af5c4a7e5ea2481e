"""The hook definition (.pre-commit-hooks.yaml) driven by the real `pre-commit` executable.

pre-commit builds the hook's environment the way a user's machine does: it installs fleetgate
from this repository (and its dependencies from the package registry) into its own virtualenv.
That takes a while, so the environment is built once for the module (shared PRE_COMMIT_HOME).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import GIT_ENV, GitRepo, manifest, to_yaml

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("pre-commit-home")


def fleetgate_rev() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def run(repo: GitRepo, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(list(args), cwd=repo.root, env=env, capture_output=True, text=True, timeout=600)


def consumer(repo: GitRepo) -> GitRepo:
    """A repository that uses the fleetgate hook at this checkout's HEAD."""
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n  - repo: {ROOT.as_uri()}\n    rev: {fleetgate_rev()}\n    hooks:\n      - id: fleetgate\n",
    )
    repo.write("models/img.yaml", to_yaml(manifest()))
    repo.commit("base")
    return repo


def local_hook(repo: GitRepo, *args: str) -> None:
    """The hook `fleetgate init` writes: it runs the fleetgate on PATH (this checkout's code)."""
    extra = f"        args: [{', '.join(args)}]\n" if args else ""
    repo.write(
        ".pre-commit-config.yaml",
        "repos:\n  - repo: local\n    hooks:\n      - id: fleetgate\n        name: fleetgate\n"
        "        entry: fleetgate check --pre-commit\n        language: system\n"
        "        pass_filenames: false\n        files: \\.(ya?ml|rego)$\n"
        f"        stages: [pre-commit, pre-push, manual]\n{extra}",
    )


def with_remote(repo: GitRepo, tmp_path: Path, home: Path) -> None:
    """A bare `origin` that has `main`, and the pre-push hook installed."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    installed = run(repo, home, PRE_COMMIT, "install", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stderr


def rollout(repo: GitRepo, percent: int, message: str) -> None:
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": percent})))
    repo.commit(message)


def test_commit_hook_admits_a_good_change_and_blocks_a_bad_one(repo: GitRepo, hook_home: Path) -> None:
    consumer(repo)
    installed = run(repo, hook_home, PRE_COMMIT, "install")
    assert installed.returncode == 0, installed.stderr
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 25})))
    repo.git("add", "-A")
    good = run(repo, hook_home, "git", "commit", "-m", "rollout to 25")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "fleetgate admission gate" in good.stdout + good.stderr
    repo.write("models/img.yaml", to_yaml(manifest(updateStrategy={"rolloutPercentage": 100})))
    repo.git("add", "-A")
    bad = run(repo, hook_home, "git", "commit", "-m", "everyone at once")
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "rollout.step-limit" in output and "models/img.yaml:" in output
    assert repo.git("log", "-1", "--format=%s") == "rollout to 25"


def test_try_repo_on_staged_changes(repo: GitRepo, hook_home: Path) -> None:
    consumer(repo)
    repo.write("models/new.yaml", to_yaml(manifest("new", targetDevices={"regions": ["US", "XX"]})))
    repo.git("add", "-A")
    done = run(repo, hook_home, PRE_COMMIT, "try-repo", str(ROOT), "fleetgate", "--ref", fleetgate_rev())
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "targeting.regions" in output and "models/new.yaml:" in output


def test_pre_push_checks_the_pushed_range(repo: GitRepo, hook_home: Path, tmp_path: Path) -> None:
    consumer(repo)
    with_remote(repo, tmp_path, hook_home)
    # Two commits: the first is fine, the second breaks a rule; committing runs no hook here.
    rollout(repo, 25, "rollout to 25")
    rollout(repo, 7, "off the ladder")
    pushed = run(repo, hook_home, "git", "push", "origin", "main")
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0, output
    assert "rollout.ladder" in output
    # Fix it in a third commit: the pushed range now ends well and the push goes through.
    rollout(repo, 25, "back on the ladder")
    pushed = run(repo, hook_home, "git", "push", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


def test_the_hook_init_writes_runs_the_installed_fleetgate(repo: GitRepo, hook_home: Path) -> None:
    # No package index involved: the hook runs the fleetgate on PATH, as `init` tells the user.
    done = run(repo, hook_home, "fleetgate", "init")
    assert done.returncode == 0, done.stderr
    assert "pre-commit install --hook-type pre-push" in done.stdout
    repo.commit("fleetgate init")
    installed = run(repo, hook_home, PRE_COMMIT, "install")
    assert installed.returncode == 0, installed.stderr
    example = repo.root / "models/example/example-classifier.yaml"
    text = example.read_text()
    example.write_text(text.replace("rolloutPercentage: 1\n", "rolloutPercentage: 50\n"))
    repo.git("add", "-A")
    bad = run(repo, hook_home, "git", "commit", "-m", "everyone at once")
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "rollout.step-limit" in output and "models/example/example-classifier.yaml:" in output
    example.write_text(text.replace("rolloutPercentage: 1\n", "rolloutPercentage: 5\n"))
    repo.git("add", "-A")
    good = run(repo, hook_home, "git", "commit", "-m", "next rung")
    assert good.returncode == 0, good.stdout + good.stderr
    assert repo.git("log", "-1", "--format=%s") == "next rung"


def test_a_push_is_judged_from_the_merge_base_with_the_default_branch_as_ci_does(
    repo: GitRepo, hook_home: Path, tmp_path: Path
) -> None:
    local_hook(repo)
    repo.write("models/img.yaml", to_yaml(manifest()))  # rollout 10 %
    repo.commit("base")
    with_remote(repo, tmp_path, hook_home)
    repo.git("checkout", "-q", "-b", "feature")
    rollout(repo, 25, "one rung")
    first = run(repo, hook_home, "git", "push", "-q", "origin", "feature")
    assert first.returncode == 0, first.stdout + first.stderr
    # pre-commit's own range is now 25 -> 50, one rung; the pull request goes from 10 to 50.
    rollout(repo, 50, "another rung")
    second = run(repo, hook_home, "git", "push", "-q", "origin", "feature")
    output = second.stdout + second.stderr
    assert second.returncode != 0, output
    assert "rollout.step-limit" in output and "from 10 % to 50 %" in output


def test_the_branch_a_push_is_compared_with_can_be_named(
    repo: GitRepo, hook_home: Path, tmp_path: Path
) -> None:
    local_hook(repo, "--base", "origin/develop")
    repo.write("models/img.yaml", to_yaml(manifest()))  # rollout 10 % on main
    repo.commit("base")
    with_remote(repo, tmp_path, hook_home)
    repo.git("checkout", "-q", "-b", "develop")
    rollout(repo, 25, "develop is at 25 %")
    repo.git("push", "-q", "--no-verify", "origin", "develop")
    repo.git("checkout", "-q", "-b", "feature")
    rollout(repo, 50, "next rung from develop")
    pushed = run(repo, hook_home, "git", "push", "-q", "origin", "feature")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    # Compared with main (the default), the same branch jumps from 10 % to 50 %.
    local_hook(repo)
    repo.commit("compare with main")
    pushed = run(repo, hook_home, "git", "push", "-q", "origin", "feature")
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and "from 10 % to 50 %" in output, output


def test_run_all_files_with_nothing_staged_scans_the_repository(repo: GitRepo, hook_home: Path) -> None:
    local_hook(repo)
    repo.write("models/img.yaml", to_yaml(manifest()))
    repo.write("models/wide.yaml", to_yaml(manifest("wide", targetDevices={"regions": ["US", "XX"]})))
    repo.commit("two deployments, one of them bad")
    done = run(repo, hook_home, PRE_COMMIT, "run", "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "targeting.regions" in output and "models/wide.yaml:" in output
