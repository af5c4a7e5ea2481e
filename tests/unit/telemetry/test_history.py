"""Bake time and previous version from real commits with controlled committer dates."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
import yaml

from fleetgate.git import Git
from fleetgate.telemetry import history
from fleetgate.telemetry.history import BranchLog, previous_versions, restored, rung_history

from support import GIT_ENV, GitRepo, manifest, to_yaml

FIELDS = ("version", "modelUri", "checksum")
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def at(repo: GitRepo, days: float, version: str, percentage: int, other: str = "") -> str:
    docs = [manifest("clf", version=version, updateStrategy={"rolloutPercentage": percentage})]
    repo.write("models/clf.yaml", to_yaml(*docs) + other)
    repo.git("add", "-A")
    stamp = (T0 + dt.timedelta(days=days)).isoformat()
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo.root, env=env, check=True)
    return repo.git("rev-parse", "HEAD")


def test_the_bake_starts_at_the_first_commit_of_the_current_run(repo: GitRepo) -> None:
    at(repo, 0, "3.2.0", 100)
    at(repo, 1, "3.2.1", 5)
    first = at(repo, 2, "3.2.1", 10)
    # A later commit that leaves the deployment as it was (another document) does not restart it.
    other = "---\n" + yaml.safe_dump(manifest("other"))
    base = at(repo, 3, "3.2.1", 10, other)
    found = rung_history(
        BranchLog(Git(repo.root), base),
        "models/clf.yaml",
        manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 10}),
        FIELDS,
    )
    assert found.since == T0 + dt.timedelta(days=2)
    assert found.commit == first
    assert found.previous_version == "3.2.0"


def test_leaving_and_returning_to_a_rung_restarts_the_bake(repo: GitRepo) -> None:
    at(repo, 0, "3.2.1", 10)
    at(repo, 1, "3.2.1", 5)
    base = at(repo, 4, "3.2.1", 10)
    body = manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 10})
    found = rung_history(BranchLog(Git(repo.root), base), "models/clf.yaml", body, FIELDS)
    assert found.since == T0 + dt.timedelta(days=4)
    assert found.previous_version is None


def test_a_rung_the_history_never_held_has_no_bake(repo: GitRepo) -> None:
    base = at(repo, 0, "3.2.1", 10)
    body = manifest("clf", version="3.2.1", updateStrategy={"rolloutPercentage": 25})
    found = rung_history(BranchLog(Git(repo.root), base), "models/clf.yaml", body, FIELDS)
    assert found.since is None and found.commit is None


def test_previous_versions_walks_the_history_once_for_the_fleet(repo: GitRepo) -> None:
    def write(name: str, version: str) -> None:
        repo.write(f"models/{name}.yaml", to_yaml(manifest(name, version=version)))

    write("a", "1.0.0")
    write("b", "2.0.0")
    at(repo, 0, "3.2.0", 100)
    write("a", "1.1.0")
    at(repo, 1, "3.2.1", 5)
    ref = at(repo, 2, "3.2.1", 10)
    deployed = [
        ("models/a.yaml", ("production", "a"), "1.1.0"),
        ("models/b.yaml", ("production", "b"), "2.0.0"),
        ("models/clf.yaml", ("production", "clf"), "3.2.1"),
    ]
    found = previous_versions(Git(repo.root), ref, deployed)
    assert found == {("production", "a"): "1.0.0", ("production", "clf"): "3.2.0"}


def test_restored_finds_an_artifact_the_branch_deployed_and_its_highest_percentage(repo: GitRepo) -> None:
    at(repo, 0, "3.2.0", 10)
    first_at_top = at(repo, 1, "3.2.0", 100)
    at(repo, 2, "3.2.0", 50)
    base = at(repo, 3, "3.2.1", 5)
    git = Git(repo.root)
    found = restored(git, base, "models/clf.yaml", manifest("clf", version="3.2.0"), FIELDS)
    assert found is not None
    assert (found.version, found.percentage) == ("3.2.0", 100)
    assert found.commit != first_at_top  # the newest commit that had the artifact
    assert restored(git, base, "models/clf.yaml", manifest("clf", version="3.3.0"), FIELDS) is None


def test_one_walk_of_the_branch_lists_each_file_s_commits_as_its_own_history(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(repo, 0, "3.2.0", 100)
    repo.write("models/other.yaml", to_yaml(manifest("other")))
    repo.commit("another deployment")
    at(repo, 1, "3.2.1", 5)
    base = at(repo, 2, "3.2.1", 10)
    git = Git(repo.root)
    log = BranchLog(git, base)
    for file in ("models/clf.yaml", "models/other.yaml", "models/none.yaml"):
        assert log.commits(file) == git.history(base, file, history.MAX_COMMITS)
    assert len(log.commits("models/clf.yaml")) == 3
    # A walk cut short by the commit limit cannot see older commits: each file walks its own.
    monkeypatch.setattr(history, "MAX_COMMITS", 2)
    short = BranchLog(git, base)
    assert short.commits("models/other.yaml") == git.history(base, "models/other.yaml", 2) != []
