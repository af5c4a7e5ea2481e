"""``fleet:`` in fleetgate.yaml: two repository paths, checked as the file is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.config import FleetFiles, load_config
from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles


def config(tmp_path: Path, text: str) -> GateFiles:
    (tmp_path / "deploy").mkdir(exist_ok=True)
    (tmp_path / "deploy" / "fleetgate.yaml").write_text(text, encoding="utf-8")
    return GateFiles.on_disk(tmp_path)


def test_fleet_paths_are_repository_paths_relative_to_the_config(tmp_path: Path) -> None:
    files = config(tmp_path, "fleet:\n  inventory: fleet/inventory.yaml\n  prices: ../prices.yaml\n")
    loaded = load_config(files, "deploy/fleetgate.yaml")
    assert loaded.fleet == FleetFiles("deploy/fleet/inventory.yaml", "prices.yaml")


def test_no_fleet_means_no_cost_fact(tmp_path: Path) -> None:
    assert load_config(config(tmp_path, "stage: pre-merge\n"), "deploy/fleetgate.yaml").fleet is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fleet:\n  inventory: /etc/fleet.yaml\n  prices: p.yaml\n",
            "deploy/fleetgate.yaml:2: fleet.inventory: '/etc/fleet.yaml' must be a path inside the",
        ),
        ("fleet:\n  inventory: ../../x.yaml\n  prices: p.yaml\n", "leaves the repository"),
        ("fleet:\n  inventory: i.yaml\n", "deploy/fleetgate.yaml:1: fleet: 'prices' is a required property"),
        ("fleet:\n  inventory: i.yaml\n  prices: p.yaml\n  price: q\n", "unknown setting 'fleet.price'"),
    ],
)
def test_bad_fleet_settings_are_located(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config(tmp_path, text), "deploy/fleetgate.yaml")
    assert expected in raised.value.message, raised.value.message
