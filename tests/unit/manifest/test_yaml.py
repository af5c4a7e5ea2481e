"""The bounded YAML reader: values, source lines, and refusal of hostile input."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from fleetgate.errors import ManifestError
from fleetgate.manifest import Limits, read_documents


def read(text: str | bytes, limits: Limits | None = None) -> list[object]:
    data = text.encode() if isinstance(text, str) else text
    return [d.value for d in read_documents(data, "m.yaml", limits)]


def test_plain_scalars_follow_the_yaml_1_2_core_schema() -> None:
    [doc] = read("a: NO\nb: yes\nc: true\nd: 010\ne: 1.5\nf: 3.2.1\ng: 2026-01-01\nh: ~\ni: 0x1f\nj: '10'\n")
    assert doc == {
        "a": "NO",  # YAML 1.1 would turn Norway into False
        "b": "yes",
        "c": True,
        "d": 10,
        "e": 1.5,
        "f": "3.2.1",
        "g": "2026-01-01",
        "h": None,
        "i": 31,
        "j": "10",
    }


def test_every_value_keeps_its_line() -> None:
    [document] = read_documents(b"a:\n  b: 1\n  c:\n    - x\n    - y\n", "m.yaml")
    assert document.lines[("a",)] == 1
    assert document.lines[("a", "b")] == 2
    assert document.lines[("a", "c")] == 3
    assert document.lines[("a", "c", 1)] == 5


def test_multiple_documents_and_empty_ones() -> None:
    assert read("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, None, {"b": 2}]


def test_aliases_are_expanded_within_budget() -> None:
    [doc] = read("base: &b {x: 1}\ncopy: *b\n")
    assert doc == {"base": {"x": 1}, "copy": {"x": 1}}


def test_billion_laughs_is_refused_quickly_and_cheaply() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    bomb = "\n".join(lines) + "\n"
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ManifestError, match="alias bomb"):
        read(bomb)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 50 * 1024 * 1024


def test_deep_nesting_is_refused_with_its_line() -> None:
    text = "a:\n" + "".join("  " * i + f"  k{i}:\n" for i in range(100)) + "  " * 101 + "v\n"
    with pytest.raises(ManifestError, match=r"m\.yaml:\d+: nesting deeper than 64"):
        read(text)


def test_deep_flow_nesting_is_refused_without_recursion() -> None:
    # libyaml stops at its own depth limit before ours; either way one located error.
    with pytest.raises(ManifestError, match=r"m\.yaml:1: .*nesting"):
        read("[" * 100_000 + "]" * 100_000)


def test_oversized_input_is_refused_before_parsing() -> None:
    with pytest.raises(ManifestError, match="exceeds the 2048-byte manifest size limit"):
        read("a: " + "x" * 4096 + "\n", Limits(max_bytes=2048))


def test_non_utf8_is_refused_with_its_line() -> None:
    with pytest.raises(ManifestError, match=r"m\.yaml:2: not valid UTF-8"):
        read(b"a: 1\nb: \xff\xfe\n")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ManifestError, match=r"m\.yaml:3: duplicate key 'b' in a"):
        read("a:\n  b: 1\n  b: 2\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object:os.system x\n", "unsupported YAML tag"),
        ("a: .nan\n", "non-finite number"),
        ("? [x]\n: 1\n", "mapping keys must be plain strings"),
        ("a: !!int abc\n", "not a valid int"),
        ("a: *nothing\n", "invalid YAML|unknown"),
        ("a: [1, 2\n", "invalid YAML"),
        ("a: 1" + "0" * 5000 + "\n", "integer is too large"),
    ],
)
def test_malformed_input_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as caught:
        read(text)
    assert caught.value.diagnostics().startswith("m.yaml")
    assert "\n" not in caught.value.diagnostics()


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ManifestError):
        read("a: &x\n  b: *x\n")
