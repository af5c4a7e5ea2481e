"""The helpers every collector shares: reasons, refusals, shown paths, containment, versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.evidence._kit import (
    MAX_REASON,
    Refused,
    contained,
    first_line,
    library_version,
    one_line,
    shown,
)


def test_one_line_flattens_and_caps() -> None:
    assert one_line("a\n  b\tc\r\n") == "a b c"
    long = one_line("x" * (MAX_REASON + 50))
    assert len(long) == MAX_REASON and long.endswith("...")
    assert one_line("y" * 20, cap=10) == "y" * 7 + "..."


def test_first_line_of_an_exception() -> None:
    assert first_line(ValueError("\n  bad header:\nsecond line")) == "bad header"
    assert first_line(ValueError("")) == "ValueError"
    assert len(first_line(ValueError("z" * 500))) == 200


def test_a_refusal_carries_one_capped_line() -> None:
    refused = Refused("the bundle\nis malformed " + "!" * 1000)
    assert "\n" not in refused.reason and len(refused.reason) == MAX_REASON
    assert str(refused) == refused.reason


def test_shown_is_relative_inside_the_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    assert shown(root / "models" / "m.onnx", root) == "models/m.onnx"
    assert shown(root.resolve() / "models" / "m.onnx", root) == "models/m.onnx"
    assert shown(tmp_path / "elsewhere.onnx", root) == str(tmp_path / "elsewhere.onnx")


def test_contained_follows_symlinks_and_refuses_escapes(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "inner").mkdir(parents=True)
    (base / "inner" / "file").write_text("x")
    (tmp_path / "outside").write_text("y")
    (base / "out").symlink_to(tmp_path / "outside")
    (base / "in").symlink_to(base / "inner" / "file")
    (base / "loop").symlink_to(base / "loop")
    assert contained(base / "inner" / "file", base) == (base / "inner" / "file").resolve()
    assert contained(base / "in", base) == (base / "inner" / "file").resolve()
    assert contained(base / ".." / "outside", base) is None
    assert contained(base / "out", base) is None
    assert contained(base / "loop", base) is None


@pytest.mark.parametrize(("name", "installed"), [("pytest", True), ("no-such-distribution-here", False)])
def test_library_version_without_importing(name: str, installed: bool) -> None:
    assert (library_version(name) is not None) is installed


@pytest.mark.parametrize(
    "name", ["onnx", "onnxruntime", "PyYAML", "ai_edge_litert", "fleetgate-no-such-library"]
)
def test_library_version_agrees_with_importlib_metadata(name: str) -> None:
    from importlib import metadata

    try:
        expected: str | None = metadata.version(name)
    except metadata.PackageNotFoundError:
        expected = None
    assert library_version(name) == expected
