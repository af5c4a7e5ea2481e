"""FactCache: a fact comes back only for the same collector, fleetgate version and key,
and only when it carries a valid HMAC under the user's secret."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fleetgate.errors import ConfigError
from fleetgate.evidence.cache import FactCache, cache_secret, check_cache_folder

KEY = {"digest": "sha256:" + "a" * 64, "settings": {"repeats": 3}}
FACT = {"p50_ms": 3.2, "p90_ms": 4.0, "peak_memory_mb": 41.5}
SECRET = b"s" * 32


def keyed(folder: Path | None, version: str, read: bool = True) -> FactCache:
    """The cache under test, with a fixed secret (the per-user one is tested below)."""
    return FactCache(folder, version, read=read, secret=SECRET)


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_miss_then_a_hit(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
    assert cache.get("latency", KEY) is None
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) == FACT
    [entry] = entries(tmp_path)
    # Entries are grouped by collector, so one collector's cache can be inspected or cleared.
    assert entry.parent == tmp_path / "facts" / "latency" and entry.suffix == ".json"


def test_the_key_order_does_not_matter(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
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
    keyed(tmp_path, "1.0.0").put("latency", KEY, FACT)
    assert keyed(tmp_path, version).get(collector, key) is None


def test_a_put_replaces_the_entry(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    cache.put("latency", KEY, {**FACT, "p50_ms": 9.9})
    assert cache.get("latency", KEY) == {**FACT, "p50_ms": 9.9}
    assert len(entries(tmp_path)) == 1  # no temporary file left beside it


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]", '"a string"', "\udcff"])
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, content: str) -> None:
    cache = keyed(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    [entry] = entries(tmp_path)
    entry.write_bytes(content.encode("utf-8", "surrogateescape"))
    assert cache.get("latency", KEY) is None
    cache.put("latency", KEY, FACT)  # and the next put repairs it
    assert cache.get("latency", KEY) == FACT


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    [entry] = entries(tmp_path)
    entry.unlink()
    entry.mkdir()  # reading a folder fails with an OSError, even for root
    assert cache.get("latency", KEY) is None


def test_an_unwritable_folder_is_silently_skipped(tmp_path: Path) -> None:
    # A file where the cache folder should be: mkdir fails whoever runs the test (root included).
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    cache = keyed(blocker, "1.0.0")
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) is None
    assert blocker.read_text() == "not a folder"


def test_none_as_folder_disables_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = keyed(None, "1.0.0")
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) is None
    assert list(tmp_path.iterdir()) == []


def test_values_json_cannot_express_are_keyed_by_their_text(tmp_path: Path) -> None:
    # Paths in a key (an operator config) are written with str(): equal paths, equal entries.
    cache = keyed(tmp_path, "1.0.0")
    cache.put("model", {"config": Path("/etc/ops.yaml")}, FACT)
    assert cache.get("model", {"config": Path("/etc/ops.yaml")}) == FACT
    assert cache.get("model", {"config": Path("/etc/other.yaml")}) is None


def test_a_cache_that_does_not_read_still_keeps_new_facts(tmp_path: Path) -> None:
    key = {"digest": "sha256:aa"}
    writer = keyed(tmp_path, "1.0", read=False)
    writer.put("model", key, {"quantization": "int8"})
    assert writer.get("model", key) is None
    assert keyed(tmp_path, "1.0").get("model", key) == {"quantization": "int8"}


# -- authentication: a cache folder is writable, so entries are never believed on sight ---------


def test_a_planted_entry_without_the_secret_is_a_miss(tmp_path: Path) -> None:
    # An int8 verdict for an fp32 model, written by someone who can write the folder.
    cache = keyed(tmp_path, "1.0.0")
    cache.put("model", KEY, {"quantization": "fp32"})
    [entry] = entries(tmp_path)
    mac, _, body = entry.read_text().partition("\n")
    assert json.loads(body) == {"quantization": "fp32"}
    entry.write_text(f"{mac}\n{json.dumps({'quantization': 'int8'}, separators=(',', ':'))}")
    assert cache.get("model", KEY) is None
    entry.write_text(json.dumps({"fact": json.dumps({"quantization": "int8"}), "mac": mac}))  # format 2
    assert cache.get("model", KEY) is None
    entry.write_text(json.dumps({"quantization": "int8"}))  # the old, unauthenticated format
    assert cache.get("model", KEY) is None


def test_an_entry_under_another_secret_is_a_miss(tmp_path: Path) -> None:
    FactCache(tmp_path, "1.0.0", secret=b"m" * 32).put("model", KEY, {"quantization": "int8"})
    assert keyed(tmp_path, "1.0.0").get("model", KEY) is None


def test_an_entry_copied_to_another_key_is_a_miss(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
    other = {**KEY, "digest": "sha256:" + "b" * 64}
    cache.put("model", KEY, {"quantization": "int8"})
    cache.put("model", other, {"quantization": "fp32"})
    genuine = cache._entry("model", KEY)
    assert genuine is not None
    planted = cache._entry("model", other)
    assert planted is not None
    planted.write_bytes(genuine.read_bytes())  # a valid entry, but for another artifact
    assert cache.get("model", other) is None
    assert cache.get("model", KEY) == {"quantization": "int8"}


def test_the_user_secret_is_created_once_and_private(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "fleetgate"
    first = cache_secret(folder)
    assert first is not None and len(first) == 32
    assert cache_secret(folder) == first
    key_file = folder / "fact-cache.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in folder.iterdir()] == ["fact-cache.key"]  # no temporary file left


def test_a_secret_others_can_read_is_not_used(tmp_path: Path) -> None:
    assert cache_secret(tmp_path) is not None
    os.chmod(tmp_path / "fact-cache.key", 0o644)
    assert cache_secret(tmp_path) is None


def test_a_symlinked_secret_is_not_used(tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert cache_secret(real) is not None
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "fact-cache.key").symlink_to(real / "fact-cache.key")
    assert cache_secret(linked) is None


def test_without_a_usable_secret_nothing_is_read_or_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "config"
    blocker.write_text("not a folder")  # the secret's folder cannot be created
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    cache = FactCache(tmp_path / "cache", "1.0.0")
    cache.put("latency", KEY, FACT)
    assert cache.get("latency", KEY) is None
    assert not (tmp_path / "cache").exists()


def test_the_default_secret_lives_in_the_users_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    cache = FactCache(tmp_path / "cache", "1.0.0")
    cache.put("latency", KEY, FACT)
    assert FactCache(tmp_path / "cache", "1.0.0").get("latency", KEY) == FACT
    assert (tmp_path / "xdg" / "fleetgate" / "fact-cache.key").is_file()


# -- where the cache may live ----------------------------------------------------------------


@pytest.mark.parametrize("inside", [".", "cache", "models/.fleetgate-cache"])
def test_a_cache_folder_in_the_work_tree_is_refused(tmp_path: Path, inside: str) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(ConfigError, match="evidence.cache: .* inside the repository's work tree"):
        check_cache_folder(tmp_path / inside, tmp_path)


def test_the_git_folder_and_folders_outside_the_repository_are_allowed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    check_cache_folder(root / ".git" / "fleetgate-cache", root)
    check_cache_folder(tmp_path / "elsewhere", root)
    check_cache_folder(None, root)


def test_stored_lists_only_authenticated_facts(tmp_path: Path) -> None:
    cache = keyed(tmp_path, "1.0.0")
    cache.put("latency", KEY, FACT)
    planted = tmp_path / "facts" / "latency" / ("0" * 64 + ".json")
    planted.write_text("0" * 64 + "\n" + json.dumps({"p50_ms": 0.1}))
    assert cache.stored("latency") == [FACT]
    assert FactCache(tmp_path, "1.0.0", secret=b"t" * 32).stored("latency") == []
    assert keyed(None, "1.0.0").stored("latency") == []
