"""The inventory and the price sheet are checked as they are loaded: located errors, exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles
from fleetgate.fleet import Fleet, FleetMissing, load, load_fleet, read_inventory, read_prices

from support import GitRepo

INVENTORY = """\
apiVersion: fleetgate.dev/v1
kind: FleetInventory
asOf: "2026-11-30"
segments:
  - name: android-34-8g-us-high
    platform: android
    apiLevel: 34
    memoryMB: 8192
    region: US
    deviceClass: high
    devices: 1200000
    wifiShare: 0.7
    inferencesPerDay: 40
  - name: ios-17-6g-eu-mid
    platform: ios
    osVersion: "17.4"
    memoryMB: 6144
    region: EU
    deviceClass: mid
    devices: 800000
"""

PRICES = """\
apiVersion: fleetgate.dev/v1
kind: PriceSheet
currency: USD
egressPerGB: {US: 0.085, EU: 0.090, JP: 0.114}
cellularSurchargePerGB: 0.02
storagePerGBMonth: 0.023
cloudFallbackPer1kInferences: 0.40
"""


def refused(reader: Callable[[bytes, str], object], text: str, path: str) -> str:
    """The one-line error ``reader`` refuses ``text`` (read as ``path``) with."""
    with pytest.raises(ConfigError) as raised:
        reader(text.encode(), path)
    return raised.value.message


@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    """A working tree holding both fleet files."""
    (tmp_path / "fleet").mkdir()
    (tmp_path / "fleet" / "inventory.yaml").write_text(INVENTORY)
    (tmp_path / "fleet" / "prices.yaml").write_text(PRICES)
    return tmp_path


def loaded(files: GateFiles, cache: DictCache | None = None) -> Fleet | FleetMissing:
    return load_fleet(files, "fleet/inventory.yaml", "fleet/prices.yaml", cache)


def test_a_valid_inventory_reads_as_exact_segments() -> None:
    segments, as_of = read_inventory(INVENTORY.encode(), "fleet/inventory.yaml")
    assert as_of == "2026-11-30"
    android, ios = segments
    assert (android.platform, android.api_level, android.os_version) == ("android", 34, None)
    assert android.wifi_share == Decimal("0.7") and android.inferences_per_day == Decimal(40)
    assert (ios.os_version, ios.wifi_share, ios.inferences_per_day) == ((17, 4, 0), Decimal(1), None)


def test_a_valid_price_sheet_reads_as_exact_decimals() -> None:
    sheet = read_prices(PRICES.encode(), "fleet/prices.yaml")
    assert sheet.currency == "USD"
    assert dict(sheet.egress_per_gb) == {
        "US": Decimal("0.085"),
        "EU": Decimal("0.09"),
        "JP": Decimal("0.114"),
    }
    assert sheet.cellular_surcharge_per_gb == Decimal("0.02")
    assert (sheet.storage_per_gb_month, sheet.fallback_per_1k_inferences) == (
        Decimal("0.023"),
        Decimal("0.4"),
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "devices: 1200000",
            "devices: -1",
            "fleet/inventory.yaml:11: segments[0].devices: -1 is less than the minimum of 0",
        ),
        (
            "wifiShare: 0.7",
            "wifiShare: 1.2",
            "fleet/inventory.yaml:12: segments[0].wifiShare: 1.2 is greater than the maximum of 1",
        ),
        (
            "wifiShare: 0.7",
            "wifiShare: -0.1",
            "fleet/inventory.yaml:12: segments[0].wifiShare: -0.1 is less than the minimum of 0",
        ),
        ("inferencesPerDay: 40", "inferencesPerDay: -4", "fleet/inventory.yaml:13:"),
        (
            "    apiLevel: 34\n",
            "    apiLevel: 34\n    osVersion: '14'\n",
            "fleet/inventory.yaml:8: segment 'android-34-8g-us-high' is android but gives osVersion "
            "(android segments give apiLevel)",
        ),
        (
            '    osVersion: "17.4"\n',
            "    apiLevel: 30\n",
            "fleet/inventory.yaml:16: segment 'ios-17-6g-eu-mid' is ios but gives apiLevel "
            "(ios segments give osVersion)",
        ),
        (
            "    apiLevel: 34\n",
            "",
            "fleet/inventory.yaml:6: segment 'android-34-8g-us-high' is android but gives no apiLevel",
        ),
        (
            "name: ios-17-6g-eu-mid",
            "name: android-34-8g-us-high",
            "fleet/inventory.yaml:14: segment 'android-34-8g-us-high' is listed twice (first at line 5)",
        ),
        (
            "deviceClass: mid",
            "deviceClass: flagship",
            "fleet/inventory.yaml:19: segments[1].deviceClass: 'flagship' is not one of",
        ),
        (
            "region: EU",
            "region: Europe",
            "fleet/inventory.yaml:18: segments[1].region: 'Europe' does not match",
        ),
        (
            "kind: FleetInventory",
            "kind: Inventory",
            "fleet/inventory.yaml:2: kind: 'FleetInventory' was expected",
        ),
    ],
)
def test_a_bad_inventory_is_refused_at_its_line(old: str, new: str, expected: str) -> None:
    assert old in INVENTORY
    message = refused(read_inventory, INVENTORY.replace(old, new, 1), "fleet/inventory.yaml")
    assert message.startswith(expected), message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{US: 0.085, EU: 0.090, JP: 0.114}",
            "{US: 0.085, EU: 0.090, US: 0.114}",
            "fleet/prices.yaml:4: duplicate key 'US'",
        ),
        (
            "currency: USD",
            "currency: USX",
            "fleet/prices.yaml:3: currency 'USX' is not an ISO 4217 currency code",
        ),
        ("currency: USD", "currency: usd", "fleet/prices.yaml:3: currency: 'usd' does not match"),
        (
            "EU: 0.090",
            "EU: -0.090",
            "fleet/prices.yaml:4: egressPerGB.EU: -0.09 is less than the minimum of 0",
        ),
        (
            "cellularSurchargePerGB: 0.02",
            "cellularSurchargePerGB: cheap",
            "fleet/prices.yaml:5: cellularSurchargePerGB: 'cheap' is not of type 'number'",
        ),
        (
            "storagePerGBMonth",
            "storagePerGBMonths",
            "fleet/prices.yaml:1: document: Additional properties are not allowed",
        ),
    ],
)
def test_a_bad_price_sheet_is_refused_at_its_line(old: str, new: str, expected: str) -> None:
    assert old in PRICES
    message = refused(read_prices, PRICES.replace(old, new, 1), "fleet/prices.yaml")
    assert message.startswith(expected), message


def test_a_region_priced_twice_in_block_style_is_refused_at_the_second() -> None:
    text = PRICES.replace(
        "egressPerGB: {US: 0.085, EU: 0.090, JP: 0.114}", "egressPerGB:\n  US: 0.085\n  US: 0.09"
    )
    assert refused(read_prices, text, "fleet/prices.yaml").startswith(
        "fleet/prices.yaml:6: duplicate key 'US'"
    )


def test_a_missing_fleet_file_is_named_not_an_error(fleet_dir: Path) -> None:
    (fleet_dir / "fleet" / "inventory.yaml").unlink()
    found = loaded(GateFiles.on_disk(fleet_dir))
    assert isinstance(found, FleetMissing)
    assert found.reason == "the fleet inventory fleet/inventory.yaml is not in the working tree"


def test_the_fleet_files_are_read_through_the_gate_file_door(fleet_dir: Path) -> None:
    files = GateFiles.on_disk(fleet_dir)
    fleet = loaded(files)
    assert not isinstance(fleet, FleetMissing) and len(fleet.segments) == 2
    assert set(files.consulted) == {"fleet/inventory.yaml", "fleet/prices.yaml"}


class DictCache:
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def get(self, collector: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.entries.get(json.dumps([collector, key], sort_keys=True))

    def put(self, collector: str, key: Mapping[str, Any], fact: Mapping[str, Any]) -> None:
        self.entries[json.dumps([collector, key], sort_keys=True)] = json.loads(json.dumps(fact))


def test_parsed_fleet_files_are_kept_by_digest_and_read_back_identically(
    fleet_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = DictCache()
    first = loaded(GateFiles.on_disk(fleet_dir), cache)
    monkeypatch.setattr(load, "read_inventory", lambda *a: pytest.fail("parsed again"))
    files = GateFiles.on_disk(fleet_dir)
    again = loaded(files, cache)
    assert isinstance(again, Fleet) and isinstance(first, Fleet)
    assert again == first and again.prices_per_gb == first.prices_per_gb
    assert set(files.consulted) == {"fleet/inventory.yaml", "fleet/prices.yaml"}  # still read and recorded
    # Other bytes are another key: a changed inventory is parsed (and checked) afresh.
    (fleet_dir / "fleet" / "inventory.yaml").write_text(INVENTORY.replace("devices: 800000", "devices: -1"))
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="less than the minimum of 0"):
        loaded(GateFiles.on_disk(fleet_dir), cache)


def test_at_a_commit_a_cached_fleet_is_not_read_again_and_its_digests_are_still_recorded(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from fleetgate.git import Git

    repo.write("fleet/inventory.yaml", INVENTORY)
    repo.write("fleet/prices.yaml", PRICES)
    first_commit = repo.commit("fleet")
    cache = DictCache()
    first = loaded(GateFiles.at_commit(Git(repo.root), first_commit), cache)
    assert isinstance(first, Fleet)
    # The same blobs again: neither read nor parsed, and recorded at their true sha256.
    monkeypatch.setattr(GateFiles, "read_many", lambda *a, **k: pytest.fail("fleet files read again"))
    monkeypatch.setattr(load, "read_inventory", lambda *a: pytest.fail("parsed again"))
    files = GateFiles.at_commit(Git(repo.root), first_commit)
    assert loaded(files, cache) == first
    assert files.consulted == {
        path: "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        for path, text in (("fleet/inventory.yaml", INVENTORY), ("fleet/prices.yaml", PRICES))
    }
    monkeypatch.undo()
    # Other content is another object id: parsed and checked afresh.
    repo.write("fleet/inventory.yaml", INVENTORY.replace("devices: 800000", "devices: -1"))
    changed = repo.commit("negative count")
    with pytest.raises(ConfigError, match="less than the minimum of 0"):
        loaded(GateFiles.at_commit(Git(repo.root), changed), cache)
    # An entry without the digests it must vouch for is not believed: the files are read.
    for entry in cache.entries.values():
        entry["sha256"] = None
    files = GateFiles.at_commit(Git(repo.root), first_commit)
    assert loaded(files, cache) == first and len(files.consulted) == 2
