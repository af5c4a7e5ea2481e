from __future__ import annotations

import pytest

from fleetgate.manifest import format_path, parse_path


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("spec.updateStrategy.rolloutPercentage", ("spec", "updateStrategy", "rolloutPercentage")),
        ("spec.targetDevices.regions[2]", ("spec", "targetDevices", "regions", 2)),
        ('metadata.labels["app.kubernetes.io/name"]', ("metadata", "labels", "app.kubernetes.io/name")),
        ("", ()),
    ],
)
def test_round_trip(text: str, path: tuple[str | int, ...]) -> None:
    assert parse_path(text) == path
    assert format_path(path) == text


@pytest.mark.parametrize("text", ["a..b", ".a", "a[x]", "a[", "a b"])
def test_malformed_paths_are_none(text: str) -> None:
    assert parse_path(text) is None
