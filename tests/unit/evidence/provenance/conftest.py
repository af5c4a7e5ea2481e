"""Fixtures: keys shared by a test module, and a fresh release scenario per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from support_intoto import Keys, Release


@pytest.fixture(scope="module")
def keys() -> Keys:
    # Key generation is cheap, but sharing keys keeps each test about its own scenario.
    return Keys.generate()


@pytest.fixture
def release(tmp_path: Path, keys: Keys) -> Release:
    return Release(tmp_path, keys)
