"""GateFiles: one door for gate files, from a commit, the staging area or a folder on disk."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles, repo_path
from fleetgate.git import Git

from support import GitRepo


@pytest.mark.parametrize(
    ("text", "folder", "expected"),
    [("a.yaml", "", "a.yaml"), ("./keys/../k.pub", "ops", "ops/k.pub"), ("../x", "ops", "x"), (".", "", "")],
)
def test_repo_paths_are_normalised(text: str, folder: str, expected: str) -> None:
    assert repo_path(text, folder) == expected


@pytest.mark.parametrize("text", ["/etc/passwd", "../x", "a/../../x", "C:\\x", "a\x00b", "a\nb", ""])
def test_paths_that_leave_the_repository_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        repo_path(text, what="trust")


def test_a_commit_serves_its_own_bytes_not_the_working_tree(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "stage: pre-merge\n")
    repo.write("policy/a.rego", "package x\n")
    sha = repo.commit("base")
    repo.write("fleetgate.yaml", "stage: pre-deploy\n")
    repo.write("policy/b.rego", "package y\n")
    files = GateFiles.at_commit(Git(repo.root), sha)
    assert files.read("fleetgate.yaml", 100, "config") == b"stage: pre-merge\n"
    assert files.read("absent.yaml", 100, "config") is None
    assert files.listing("policy").files == ("policy/a.rego",)
    assert files.consulted["fleetgate.yaml"] is not None and files.consulted["absent.yaml"] is None
    disk = GateFiles.on_disk(repo.root)
    assert disk.read("fleetgate.yaml", 100, "config") == b"stage: pre-deploy\n"
    assert disk.listing("policy").files == ("policy/a.rego", "policy/b.rego")


def test_the_staging_area_is_a_revision_of_its_own(repo: GitRepo) -> None:
    repo.write("fleetgate.yaml", "stage: pre-merge\n")
    repo.commit("base")
    repo.write("fleetgate.yaml", "stage: pre-deploy\n")
    repo.git("add", "fleetgate.yaml")
    repo.write("fleetgate.yaml", "stage: on-disk\n")
    assert GateFiles.staged(Git(repo.root)).read("fleetgate.yaml", 100, "config") == b"stage: pre-deploy\n"


def test_symlinks_and_submodules_at_a_commit_are_refused(repo: GitRepo, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("token")
    os.symlink(tmp_path / "secret", repo.root / "trust.yaml")
    sha = repo.commit("a symlinked trust file")
    with pytest.raises(ConfigError, match="symlink or submodule"):
        GateFiles.at_commit(Git(repo.root), sha).read("trust.yaml", 100, "trust file")
    with pytest.raises(ConfigError, match="symlink"):
        GateFiles.on_disk(repo.root).read("trust.yaml", 100, "trust file")


def test_a_folder_behind_a_symlink_is_refused_on_disk(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "k.pub").write_text("key")
    (tmp_path / "repo").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "repo" / "keys")
    with pytest.raises(ConfigError, match="behind a symlink"):
        GateFiles.on_disk(tmp_path / "repo").read("keys/k.pub", 100, "key")


def test_the_size_cap_holds_before_reading(repo: GitRepo) -> None:
    repo.write("big.yaml", "x" * 2048)
    sha = repo.commit("big")
    for files in (GateFiles.at_commit(Git(repo.root), sha), GateFiles.on_disk(repo.root)):
        with pytest.raises(ConfigError, match="larger than 1024 bytes"):
            files.read("big.yaml", 1024, "config file")


def test_files_read_together_keep_their_own_bytes_and_the_cap_names_the_large_one(repo: GitRepo) -> None:
    repo.write("fleet/inventory.yaml", "segments: []\n")
    repo.write("fleet/prices.yaml", "x" * 2048)
    repo.write("fleet/notes.yaml", "same\n")
    repo.write("fleet/copy.yaml", "same\n")  # one blob for two paths
    sha = repo.commit("fleet")
    files = GateFiles.at_commit(Git(repo.root), sha)
    paths = ["fleet/copy.yaml", "fleet/inventory.yaml", "fleet/absent.yaml", "fleet/notes.yaml"]
    assert files.read_many(paths, 100, "fleet file") == {
        "fleet/copy.yaml": b"same\n",
        "fleet/inventory.yaml": b"segments: []\n",
        "fleet/notes.yaml": b"same\n",
    }
    with pytest.raises(ConfigError, match="^fleet/prices.yaml: the fleet file is larger than 1024 bytes"):
        files.read_many(["fleet/inventory.yaml", "fleet/prices.yaml"], 1024, "fleet file")
    assert files.read("fleet/inventory.yaml", 100, "fleet file") == b"segments: []\n"  # a fresh reader


def test_an_empty_revision_has_no_files(tmp_path: Path) -> None:
    files = GateFiles.empty(tmp_path)
    (tmp_path / "fleetgate.yaml").write_text("stage: pre-merge\n")
    assert files.read("fleetgate.yaml", 100, "config") is None
    with pytest.raises(ConfigError, match="no such file at no commit"):
        files.require("fleetgate.yaml", 100, "config")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_materialized_copies_are_private_and_removed(repo: GitRepo) -> None:
    repo.write("keys/k.pub", "key bytes")
    sha = repo.commit("key")
    files = GateFiles.at_commit(Git(repo.root), sha)
    repo.write("keys/k.pub", "a swapped key")
    copy = files.materialize("keys/k.pub", 100, "public key")
    assert copy.read_bytes() == b"key bytes" and not copy.is_relative_to(repo.root)
    assert stat.S_IMODE(copy.parents[1].stat().st_mode) == 0o700
    assert files.shown(copy) == "keys/k.pub"
    files.close()
    assert not copy.exists()
