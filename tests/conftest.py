"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import GitRepo, PolicyDir


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[GitRepo]:
    """A fresh git repository (branch main) in a temporary folder."""
    yield GitRepo(tmp_path / "repo")


@pytest.fixture
def policy_dir(tmp_path: Path) -> PolicyDir:
    """Write a policy directory from {relative path: text}."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "policy"
        root.mkdir(exist_ok=True)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return make
