"""Reading an artifact from the base commit: paths resolved inside the commit, bytes checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.errors import EvidenceError
from fleetgate.evidence._revision import CommitFile, export_verified, resolve_in_commit
from fleetgate.git import Git

from support import GitRepo


@pytest.fixture
def base(repo: GitRepo) -> tuple[Git, str]:
    repo.write("models/v1/model.onnx", b"v1")
    repo.write("models/v2/model.onnx", b"v2")
    repo.write("models/[x]/model.onnx", b"glob characters are literal")
    (repo.root / "models" / "current").symlink_to("v1")
    (repo.root / "models" / "up").symlink_to("../models/v2")
    sha = repo.commit("base")
    # The work tree moves on; nothing below may look at it.
    (repo.root / "models" / "current").unlink()
    (repo.root / "models" / "current").symlink_to("v2")
    return Git(repo.root), sha


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("models/v1/model.onnx", "models/v1/model.onnx"),
        ("models/current/model.onnx", "models/v1/model.onnx"),  # the commit's link, not the work tree's
        ("models/up/model.onnx", "models/v2/model.onnx"),
        ("models/./v1/../v2/model.onnx", "models/v2/model.onnx"),
        ("models/[x]/model.onnx", "models/[x]/model.onnx"),
    ],
)
def test_paths_resolve_inside_the_commit(base: tuple[Git, str], path: str, expected: str) -> None:
    git, sha = base
    found = resolve_in_commit(git, sha, path)
    assert found is not None and (found.path, found.kind) == (expected, "blob")


def test_a_folder_and_an_absent_path(base: tuple[Git, str]) -> None:
    git, sha = base
    folder = resolve_in_commit(git, sha, "models/v1")
    assert folder is not None and folder.kind == "tree"
    assert resolve_in_commit(git, sha, "models/v3/model.onnx") is None
    assert resolve_in_commit(git, sha, "models/v1/model.onnx/inside") is None


def test_climbing_out_of_the_repository_is_refused(base: tuple[Git, str]) -> None:
    git, sha = base
    with pytest.raises(EvidenceError, match="leaves the repository in the base commit"):
        resolve_in_commit(git, sha, "../outside.onnx")


def test_the_exported_bytes_must_be_the_blob(base: tuple[Git, str], tmp_path: Path) -> None:
    git, sha = base
    entry = resolve_in_commit(git, sha, "models/v1/model.onnx")
    assert entry is not None
    digest, size = export_verified(git, sha, entry, tmp_path / "ok" / "model.onnx")
    assert (
        size == 2 and (tmp_path / "ok" / "model.onnx").read_bytes() == b"v1" and digest.startswith("sha256:")
    )
    # An entry whose id is not the blob git returns for its path (a tree changed under us).
    other = resolve_in_commit(git, sha, "models/v2/model.onnx")
    assert other is not None
    forged = CommitFile(entry.path, "blob", other.oid)
    with pytest.raises(EvidenceError, match="are not blob"):
        export_verified(git, sha, forged, tmp_path / "bad" / "model.onnx")


def test_ls_tree_lists_a_folder_recursively(base: tuple[Git, str]) -> None:
    git, sha = base
    names = [name for _, kind, _, name in git.ls_tree(sha, "models", recursive=True) if kind == "blob"]
    assert "models/v1/model.onnx" in names and "models/current" in names
    assert git.ls_tree(sha, "no/such/path") == []
