"""FactCache: a fact comes back only for the same collector, fleetgate version and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.evidence.cache import FactCache

KEY = {"digest": "sha256:" + "a" * 64, "settings": {"repeats": 3}}
FACT = {"p50_ms": 3.2, "p90_ms": 4.0, "peak_memory_mb": 41.5}


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_miss_then_a_hit(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "1.0.0")
    assert cache.get("latency", KEY) is None
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) == FACT
    [entry] = entries(tmp_path)
    # Entries are grouped by collector, so one collector's cache can be inspected or cleared.
    assert entry.parent == tmp_path / "facts" / "latency" and entry.suffix == ".json"


def test_the_key_order_does_not_matter(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "1.0.0")
    cache.put("model", {"a": 1, "b": {"x": 1, "y": 2}}, FACT)
    assert cache.get("model", {"b": {"y": 2, "x": 1}, "a": 1}) == FACT


@pytest.mark.parametrize(
    ("collector", "version", "key"),
    [
        ("model", "1.0.0", KEY),  # another collector
        ("latency", "1.0.1", KEY),  # another fleetgate version
        ("latency", "1.0.0", {**KEY, "digest": "sha256:" + "b" * 64}),  # another artifact
        ("latency", "1.0.0", {**KEY, "settings": {"repeats": 4}}),  # other settings
        ("latency", "1.0.0", {"digest": KEY["digest"]}),  # a key with less in it
    ],
)
def test_any_difference_is_a_miss(
    tmp_path: Path, collector: str, version: str, key: dict[str, object]
) -> None:
    FactCache(tmp_path, "1.0.0").put("latency", KEY, FACT)
    assert FactCache(tmp_path, version).get(collector, key) is None


def test_a_put_replaces_the_entry(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    cache.put("latency", KEY, {**FACT, "p50_ms": 9.9})
    assert cache.get("latency", KEY) == {**FACT, "p50_ms": 9.9}
    assert len(entries(tmp_path)) == 1  # no temporary file left beside it


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]", '"a string"', "\udcff"])
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, content: str) -> None:
    cache = FactCache(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    [entry] = entries(tmp_path)
    entry.write_bytes(content.encode("utf-8", "surrogateescape"))
    assert cache.get("latency", KEY) is None
    cache.put("latency", KEY, FACT)  # and the next put repairs it
    assert cache.get("latency", KEY) == FACT


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = FactCache(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    [entry] = entries(tmp_path)
    entry.unlink()
    entry.mkdir()  # reading a folder fails with an OSError, even for root
    assert cache.get("latency", KEY) is None


def test_an_unwritable_folder_is_silently_skipped(tmp_path: Path) -> None:
    # A file where the cache folder should be: mkdir fails whoever runs the test (root included).
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    cache = FactCache(blocker, "1.0.0")
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) is None
    assert blocker.read_text() == "not a folder"


def test_none_as_folder_disables_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = FactCache(None, "1.0.0")
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) is None
    assert list(tmp_path.iterdir()) == []


def test_values_json_cannot_express_are_keyed_by_their_text(tmp_path: Path) -> None:
    # Paths in a key (an operator config) are written with str(): equal paths, equal entries.
    cache = FactCache(tmp_path, "1.0.0")
    cache.put("model", {"config": Path("/etc/ops.yaml")}, FACT)
    assert cache.get("model", {"config": Path("/etc/ops.yaml")}) == FACT
    assert cache.get("model", {"config": Path("/etc/other.yaml")}) is None


def test_a_cache_that_does_not_read_still_keeps_new_facts(tmp_path: Path) -> None:
    key = {"digest": "sha256:aa"}
    writer = FactCache(tmp_path, "1.0", read=False)
    writer.put("model", key, {"quantization": "int8"})
    assert writer.get("model", key) is None
    assert FactCache(tmp_path, "1.0").get("model", key) == {"quantization": "int8"}
