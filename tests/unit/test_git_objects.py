"""The long-lived object reader: the same answers as git's own listing, bounded, fork-safe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fleetgate._git_objects import ObjectReader, ObjectTooLarge
from fleetgate.errors import GitError, ManifestError
from fleetgate.files import GateFiles
from fleetgate.git import Git

from support import GIT_ENV, GitRepo


def _ls_tree(repo: GitRepo, commit: str, folder: str) -> list[tuple[str, str, str]]:
    """git's own recursive listing: (path, mode, id) for every entry below ``folder``."""
    out = repo.git("ls-tree", "-r", "-z", "--full-tree", commit, "--", folder or ".")
    rows = []
    for record in filter(None, out.split("\0")):
        meta, _, path = record.partition("\t")
        mode, _, oid = meta.split()
        rows.append((path, mode, oid))
    return sorted(rows)


def _layout(repo: GitRepo, tmp_path: Path) -> str:
    repo.write("fleetgate.yaml", "stage: pre-merge\n")
    repo.write("policies/a.rego", "package a\n")
    repo.write("policies/deep/er/b.rego", "package b\n")
    repo.write("policies/with space/ünï.rego", "package c\n")
    repo.write("fleet/inventory.yaml", "segments: []\n")
    (repo.root / "tool.sh").write_text("#!/bin/sh\n")
    (repo.root / "tool.sh").chmod(0o755)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text("token\n")
    os.symlink(tmp_path / "outside", repo.root / "linked")
    os.symlink("fleetgate.yaml", repo.root / "policies/alias.rego")
    return repo.commit("layout")


def test_walking_trees_lists_what_ls_tree_lists(repo: GitRepo, tmp_path: Path) -> None:
    sha = _layout(repo, tmp_path)
    git = Git(repo.root)
    for folder in ("", "policies", "policies/deep", "fleet"):
        walked = [(path, item.mode, item.oid) for path, item in git.walk(sha, folder)]
        assert walked == _ls_tree(repo, sha, folder), folder
    assert git.walk(sha, "absent") == [] and git.walk(sha, "fleetgate.yaml") == []


def test_entries_carry_modes_and_never_follow_a_symlinked_folder(repo: GitRepo, tmp_path: Path) -> None:
    sha = _layout(repo, tmp_path)
    git = Git(repo.root)
    modes = {p: git.entry(sha, p) for p in ("tool.sh", "linked", "policies/alias.rego", "fleetgate.yaml")}
    assert {p: e.mode for p, e in modes.items() if e} == {
        "tool.sh": "100755",
        "linked": "120000",
        "policies/alias.rego": "120000",
        "fleetgate.yaml": "100644",
    }
    assert git.entry(sha, "linked/secret.yaml") is None
    assert git.entry(sha, "fleetgate.yaml/x") is None and git.entry(sha, "nope") is None
    files = GateFiles.at_commit(git, sha)
    assert files.read("linked/secret.yaml", 100, "config") is None
    assert files.read("policies", 100, "config") is None  # a folder is no file
    assert files.listing("policies").files == (
        "policies/a.rego",
        "policies/deep/er/b.rego",
        "policies/with space/ünï.rego",
    )


def test_an_oversized_object_is_refused_unread_and_the_next_read_still_works(repo: GitRepo) -> None:
    repo.write("big.bin", b"x" * (1 << 20))
    repo.write("small.yaml", "a: 1\n")
    sha = repo.commit("sizes")
    git = Git(repo.root)
    big, small = git.entry(sha, "big.bin"), git.entry(sha, "small.yaml")
    assert big is not None and small is not None
    with pytest.raises(ObjectTooLarge) as refused:
        git.blob(big.oid, 1024)
    assert refused.value.size == 1 << 20
    assert git.blob(small.oid, 1024) == b"a: 1\n"
    assert git.blob(big.oid, 2 << 20) == b"x" * (1 << 20)


def test_a_sha256_repository_is_read_too(tmp_path: Path) -> None:
    root = tmp_path / "sha256"
    root.mkdir()

    def git(*args: str) -> str:
        env = {**os.environ, **GIT_ENV}
        done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True)
        return done.stdout

    git("init", "-q", "--object-format=sha256", "-b", "main")
    (root / "keys").mkdir()
    (root / "keys" / "k.pub").write_text("key\n")
    git("add", "-A")
    git("commit", "-q", "-m", "k")
    sha = git("rev-parse", "HEAD").strip()
    assert len(sha) == 64
    assert GateFiles.at_commit(Git(root), sha).read("keys/k.pub", 100, "key") == b"key\n"


def test_a_forked_worker_reads_with_its_own_reader(repo: GitRepo) -> None:
    repo.write("a.yaml", "a\n")
    repo.write("b.yaml", "b\n")
    sha = repo.commit("two")
    git = Git(repo.root)
    a, b = git.entry(sha, "a.yaml"), git.entry(sha, "b.yaml")
    assert a is not None and b is not None
    assert git.blob(a.oid, 100) == b"a\n"  # the parent's reader is running
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: must not talk to the parent's git process
        os.close(read)
        try:
            os.write(write, git.blob(b.oid, 100) + git.blob(a.oid, 100))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answers:
        assert answers.read() == b"b\na\n"
    os.waitpid(pid, 0)
    assert git.blob(b.oid, 100) == b"b\n"  # and the parent's reader is undisturbed


def test_a_reader_that_does_not_answer_is_stopped_at_the_deadline(tmp_path: Path) -> None:
    # A stand-in for a git that hangs (git itself answers at once): a script named git on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\nexec sleep 30\n")
    (bin_dir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    reader = ObjectReader(tmp_path, env, timeout_s=0.5)
    with pytest.raises(GitError, match="did not answer within 0.5 s"):
        reader.blob("0" * 40, 100)
    reader.close()


def test_many_names_are_answered_in_order_missing_ones_as_none(repo: GitRepo) -> None:
    for i in range(300):
        repo.write(f"models/team {i % 7}/model-{i:04d}.yaml", f"n: {i}\n")
    sha = repo.commit("many")
    git = Git(repo.root)
    names = [f"{sha}:models/team {i % 7}/model-{i:04d}.yaml" for i in range(300)]
    names += [f"{sha}:models/team 1/absent {i}.yaml" for i in range(300)]  # spaces, and missing
    names.append(f"{sha}:models")  # a folder is no file
    names = names * 40  # over 32 KB of request: written on a thread while the answers are read
    assert len("\n".join(names)) > 32 << 10
    answers = git.read_revisions([(sha, [n.split(":", 1)[1] for n in names])], 1024)[0]
    assert len(answers) == 300
    assert all(answers[f"models/team {i % 7}/model-{i:04d}.yaml"] == f"n: {i}\n".encode() for i in range(300))
    contents = git._objects.contents(names[:601], 1024)
    assert contents[300:] == [None] * 301


def test_an_oversized_version_names_its_path_and_the_reader_recovers(repo: GitRepo) -> None:
    repo.write("models/a.yaml", "a: 1\n")
    repo.write("models/b.yaml", "b" * 5000)
    sha = repo.commit("one large")
    git = Git(repo.root)
    with pytest.raises(ManifestError, match="models/b.yaml.*5000 bytes exceeds the 1024-byte"):
        git.read_revisions([(sha, ["models/a.yaml", "models/b.yaml"])], 1024)
    assert git.read(sha, ["models/a.yaml"], 1024) == {"models/a.yaml": b"a: 1\n"}
    with pytest.raises(ManifestError, match="a version exceeds"):
        git.versions([sha], "models/b.yaml", 1024)
    assert git.versions([sha, "0" * 40], "models/a.yaml", 1024) == {sha: b"a: 1\n"}


def test_an_oversized_object_in_a_long_request_stops_the_writer_quietly(
    repo: GitRepo, capfd: pytest.CaptureFixture[str]
) -> None:
    repo.write("big.bin", b"x" * 4096)
    repo.write("small.yaml", "a: 1\n")
    sha = repo.commit("sizes")
    git = Git(repo.root)
    names = [f"{sha}:big.bin", *[f"{sha}:small.yaml"] * 5000]  # written on a thread
    with pytest.raises(ObjectTooLarge) as refused:
        git._objects.contents(names, 1024)
    assert refused.value.name == f"{sha}:big.bin"
    assert git._objects.contents([f"{sha}:small.yaml"], 1024) == [b"a: 1\n"]
    assert "Traceback" not in capfd.readouterr().err
