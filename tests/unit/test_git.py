from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.errors import GitError, ManifestError
from fleetgate.git import INDEX, WORKTREE, Git

from support import GitRepo


def test_discover_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"):
        Git.discover(tmp_path)


def test_changed_paths_for_commits_index_and_worktree(repo: GitRepo) -> None:
    repo.write("a.yaml", "a: 1\n")
    repo.write("b.yaml", "b: 1\n")
    base = repo.commit("base")
    repo.write("a.yaml", "a: 2\n")
    repo.git("add", "a.yaml")
    repo.write("b.yaml", "b: 2\n")
    repo.write("new file.yaml", "n: 1\n")
    git = Git.discover(repo.root)
    assert git.changed_paths(base, INDEX) == ["a.yaml"]
    assert git.changed_paths(base, WORKTREE) == ["a.yaml", "b.yaml", "new file.yaml"]
    head = repo.commit("head")
    assert git.changed_paths(base, head) == ["a.yaml", "b.yaml", "new file.yaml"]
    assert git.changed_paths(None, INDEX) == ["a.yaml", "b.yaml", "new file.yaml"]


def test_read_returns_each_version_and_leaves_out_missing_paths(repo: GitRepo) -> None:
    repo.write("a.yaml", "a: 1\n")
    base = repo.commit("base")
    repo.write("a.yaml", "a: 2\n")
    repo.git("add", "a.yaml")
    repo.write("a.yaml", "a: 3\n")
    git = Git.discover(repo.root)
    assert git.read(base, ["a.yaml", "gone.yaml"], 1024) == {"a.yaml": b"a: 1\n"}
    assert git.read(INDEX, ["a.yaml"], 1024) == {"a.yaml": b"a: 2\n"}
    assert git.read(WORKTREE, ["a.yaml", "gone.yaml"], 1024) == {"a.yaml": b"a: 3\n"}


def test_read_refuses_an_oversized_blob_before_reading_it(repo: GitRepo) -> None:
    repo.write("big.yaml", "x" * 5000)
    head = repo.commit()
    git = Git.discover(repo.root)
    with pytest.raises(ManifestError, match="big.yaml: 5000 bytes exceeds the 1024-byte"):
        git.read(head, ["big.yaml"], 1024)
    with pytest.raises(ManifestError, match="big.yaml: 5000 bytes exceeds"):
        git.read(WORKTREE, ["big.yaml"], 1024)


def test_unknown_revision_names_the_ref(repo: GitRepo) -> None:
    repo.commit("empty")
    with pytest.raises(GitError, match="unknown revision 'no-such-branch'"):
        Git.discover(repo.root).commit("no-such-branch")


def test_commit_reports_sha_and_time(repo: GitRepo) -> None:
    sha = repo.commit("one")
    commit = Git.discover(repo.root).commit("HEAD")
    assert commit.sha == sha
    assert commit.committed_at[:4].isdigit() and "T" in commit.committed_at


def test_a_git_call_that_hangs_is_stopped_with_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from fleetgate import git as git_module

    monkeypatch.setattr(git_module, "_TIMEOUT_S", 0.3)
    start = time.monotonic()
    with pytest.raises(GitError, match=r"^git cat-file did not answer within 0.3 s$"):
        git_module._run(["sh", "-c", "exec sleep 30", "cat-file"])
    assert time.monotonic() - start < 10
