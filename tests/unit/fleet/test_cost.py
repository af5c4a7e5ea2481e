"""The cost arithmetic (SPEC §11), checked against figures computed by hand in the test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from fleetgate.fleet import Fleet, Measured, display, project_cost, read_inventory, read_prices

from support import manifest

PRICES = {
    "apiVersion": "fleetgate.dev/v1",
    "kind": "PriceSheet",
    "currency": "USD",
    "egressPerGB": {"US": 0.085, "EU": 0.090, "JP": 0.114},  # IN is deliberately not priced
    "cellularSurchargePerGB": 0.02,
    "storagePerGBMonth": 0.023,
    "cloudFallbackPer1kInferences": 0.40,
}
# Prices in units of 10^-5 dollars per GB, for the hand arithmetic.
PRICE_UNITS = {"US": 8500, "EU": 9000, "JP": 11400}
CELLULAR_UNITS = 2000

# 40 segments: 2 platforms x 4 regions x 5 buckets of OS level, memory and class.
BUCKETS = [  # (android API, iOS version, memory MB, class)
    (26, "15.8", 2048, "low"),
    (29, "16.0", 3072, "low"),
    (31, "16.4", 4096, "mid"),
    (33, "17.2", 6144, "mid"),
    (34, "17.4", 8192, "high"),
]
REGIONS = ["US", "EU", "JP", "IN"]


def forty_segments() -> list[dict[str, Any]]:
    rows = []
    for platform in ("android", "ios"):
        for r, region in enumerate(REGIONS):
            for b, (api, ios, memory, klass) in enumerate(BUCKETS):
                n = len(rows)
                row: dict[str, Any] = {
                    "name": f"{platform}-{region.lower()}-{b}",
                    "platform": platform,
                    "memoryMB": memory,
                    "region": region,
                    "deviceClass": klass,
                    "devices": 37_000 + 104_729 * n + 13 * r,
                    "wifiShare": (40 + (7 * n) % 60) / 100 if n % 4 else 1,
                }
                row["apiLevel" if platform == "android" else "osVersion"] = (
                    api if platform == "android" else ios
                )
                rows.append(row)
    return rows


def fleet_of(segments: list[dict[str, Any]], prices: dict[str, Any] = PRICES) -> Fleet:
    inventory = {"apiVersion": "fleetgate.dev/v1", "kind": "FleetInventory", "segments": segments}
    parsed, as_of = read_inventory(yaml.safe_dump(inventory).encode(), "fleet/inventory.yaml")
    return Fleet(
        "fleet/inventory.yaml",
        "fleet/prices.yaml",
        parsed,
        read_prices(yaml.safe_dump(prices).encode(), "fleet/prices.yaml"),
        as_of,
    )


@pytest.fixture(scope="module")
def forty() -> Fleet:
    return fleet_of(forty_segments())


def android(name: str, **fields: Any) -> dict[str, Any]:
    """One inventory row: an Android API 34, 8 GB, high-class segment in the US, with ``fields``."""
    row = {"name": name, "platform": "android", "apiLevel": 34, "memoryMB": 8192, "region": "US"}
    return {**row, "deviceClass": "high", "devices": 1000, **fields}


def shipping(size: int | None, regions: list[str], targets: Any = None, **strategy: Any) -> dict[str, Any]:
    """A manifest of ``size`` bytes for ``regions`` and ``targets``, rolled out by ``strategy``."""
    return manifest(
        sizeBytes=size, targetDevices={"regions": regions, **(targets or {})}, updateStrategy=strategy
    )


def rollout(percent: int, **spec: Any) -> dict[str, Any]:
    return manifest(
        sizeBytes=48_123_457,
        targetDevices={
            "minAPILevel": 30,
            "minOSVersion": "iOS16",
            "minMemoryMB": 4096,
            "regions": ["US", "EU", "JP", "IN"],
        },
        updateStrategy={"rolloutPercentage": percent, "networkConstraint": "ANY"},
        **spec,
    )


def test_a_forty_segment_fleet_matches_hand_arithmetic_to_the_cent() -> None:
    segments = forty_segments()
    size = 48_123_457
    # By hand: eligible = API >= 30 (android) or iOS >= 16.0 (ios), memory >= 4096 MB.
    numerator = 0  # egress in 10^-5 dollars x 10^9 (bytes x price units)
    eligible = reached = before = downloads = unpriced = 0
    for row in segments:
        level_ok = row["apiLevel"] >= 30 if row["platform"] == "android" else row["osVersion"] >= "16"
        if not (level_ok and row["memoryMB"] >= 4096):
            continue
        head, base = row["devices"] * 25 // 100, row["devices"] * 10 // 100
        eligible, reached, before = eligible + row["devices"], reached + head, before + base
        downloads += head - base  # same checksum: only devices the step adds download
        if row["region"] not in PRICE_UNITS:
            unpriced += head - base
            continue
        wifi_percent = round(row["wifiShare"] * 100)
        per_gb = PRICE_UNITS[row["region"]] + (100 - wifi_percent) * CELLULAR_UNITS // 100
        numerator += (head - base) * size * per_gb
    fact = project_cost(rollout(25), rollout(10), fleet_of(segments), Measured(), segments=True)
    assert Decimal(fact["egress"]) * 10**14 == numerator  # exact, not just to the cent
    cents = (Decimal(numerator) / 10**12).quantize(Decimal(1))
    dollars, rest = divmod(int(cents), 100)
    assert display.money(fact["egress"], "USD") == f"${dollars:,}.{rest:02d}"  # the table's figure
    assert (fact["report"]["devicesEligible"], fact["devicesReached"], fact["devicesReachedBefore"]) == (
        eligible,
        reached,
        before,
    )
    assert fact["newDownloads"] == downloads and fact["report"]["digestUnchanged"] is True
    assert (
        fact["report"]["bytesDelivered"] == downloads * size and fact["report"]["bytesSource"] == "declared"
    )
    assert fact["report"]["unpriced"] == [{"input": "egressPerGB.IN", "newDownloads": unpriced}]
    assert len(fact["report"]["bySegment"]) == 24
    assert sum(Decimal(r["egress"]) for r in fact["report"]["bySegment"] if r["egress"]) == Decimal(
        fact["egress"]
    )
    # Without the segment detail (a check) the figures are the same and the breakdown stays bounded.
    brief = project_cost(rollout(25), rollout(10), fleet_of(segments), Measured())
    assert "bySegment" not in brief["report"] and brief["egress"] == fact["egress"]
    assert sum(Decimal(v["egress"]) for v in fact["report"]["byRegion"].values() if v["egress"]) == Decimal(
        fact["egress"]
    )
    assert fact["report"]["byRegion"]["IN"]["egress"] is None


def test_a_new_artifact_is_downloaded_again_by_every_device_reached(forty: Fleet) -> None:
    new = rollout(25, checksum="sha256:" + "cd" * 32)
    fact = project_cost(new, rollout(10), forty, Measured())
    assert fact["report"]["digestUnchanged"] is False and fact["newDownloads"] == fact["devicesReached"]
    # The measured digest wins over spec.checksum: same bytes, so only the added devices download.
    same = project_cost(new, rollout(10), forty, Measured(digest="sha256:" + "ab" * 32))
    assert (
        same["report"]["digestUnchanged"] is True
        and same["newDownloads"] == same["devicesReached"] - same["devicesReachedBefore"]
    )


def test_narrowing_a_rollout_downloads_nothing(forty: Fleet) -> None:
    fact = project_cost(rollout(10), rollout(25), forty, Measured())
    assert fact["newDownloads"] == 0 and Decimal(fact["egress"]) == 0


def test_the_measured_size_wins_and_wifi_only_pays_no_cellular_surcharge() -> None:
    fleet = fleet_of([android("s", wifiShare=0.5)])
    two_gb = Measured(size=2_000_000_000)
    wifi = shipping(1, ["US"], rolloutPercentage=100, networkConstraint="WIFI")
    fact = project_cost(wifi, None, fleet, two_gb)
    assert (fact["bytesPerDownload"], fact["report"]["bytesSource"]) == (2_000_000_000, "measured")
    assert Decimal(fact["egress"]) == Decimal("170")  # 1000 x 2 GB x 0.085
    anywhere = shipping(1, ["US"], rolloutPercentage=100, networkConstraint="ANY")
    assert Decimal(project_cost(anywhere, None, fleet, two_gb)["egress"]) == Decimal("190")


def test_ten_million_devices_neither_overflow_nor_lose_a_cent() -> None:
    segments = [android(f"s{n}", region="JP", devices=9_999_999, wifiShare=0.33) for n in range(8)]
    big = shipping(209_715_199, ["JP"], type="immediate", rolloutPercentage=None, networkConstraint="ANY")
    fact = project_cost(big, None, fleet_of(segments), Measured())
    # 8 x 9,999,999 devices x 209,715,199 bytes x (11400 + 67 x 20) units / 10^14
    assert Decimal(fact["egress"]) * 10**14 == 8 * 9_999_999 * 209_715_199 * (11400 + 67 * 20)
    assert fact["devicesReached"] == 79_999_992


def test_storage_and_cloud_fallback_for_devices_the_model_does_not_fit() -> None:
    fleet = fleet_of(
        [
            android("small", memoryMB=2048, deviceClass="low", devices=10_000, inferencesPerDay=40),
            android("large", devices=10_000, inferencesPerDay=40),
        ]
    )
    doc = shipping(500_000_000, ["US"], {"minMemoryMB": None}, rolloutPercentage=50)
    measured = Measured(peak_memory_mb=Decimal(600), memory_headroom=Decimal("0.25"))
    fact = project_cost(doc, None, fleet, measured)
    assert fact["report"]["storagePerMonth"] == "0.0115"  # 0.5 GB x 0.023
    # 600 MB > 0.25 x 2048 MB: the 5,000 small devices reached fall back; 5,000 x 40 x 30 / 1000 x 0.40
    assert fact["fallbackPerMonth"] == {
        "devices": 5000,
        "amount": "2400",
        "peakMemoryMB": 600,
        "headroom": 0.25,
    }
    assert "fallbackPerMonth" not in project_cost(doc, None, fleet, Measured())


def test_an_unknown_size_leaves_egress_unpriced(forty: Fleet) -> None:
    fact = project_cost(manifest(sizeBytes=None), None, forty, Measured())
    assert fact["egress"] is None and fact["report"]["unpriced"][0]["input"] == "sizeBytes"


def test_the_policies_see_the_figures_and_not_the_breakdown(forty: Fleet) -> None:
    from fleetgate.inputs import for_policies

    fact = project_cost(rollout(25), rollout(10), forty, Measured(), segments=True)
    seen = for_policies({"cost": fact, "artifact": {"size": 1}})
    assert seen["artifact"] == {"size": 1} and "report" not in seen["cost"]
    assert {"egress", "byClass", "devicesReached", "currency"} <= set(seen["cost"])
    assert "display" not in seen["cost"]  # messages format the exact figures (policies/lib/format.rego)
    assert seen["cost"]["byClass"]["high"] == {
        "devices": sum(r["devices"] for r in fact["report"]["bySegment"] if r["deviceClass"] == "high"),
        "segments": 8,
        "minMemoryMB": 8192,
    }


def test_one_fleet_prices_changes_of_other_targets_as_a_fresh_one_would(forty: Fleet) -> None:
    # A scan prices every change against one fleet, which remembers the segments each
    # targetDevices makes eligible: other targets must not reuse them.
    narrow = shipping(48_123_457, ["EU"], {"minMemoryMB": 8192}, rolloutPercentage=25)
    moved = shipping(48_123_457, ["EU"], {"minMemoryMB": 4096}, rolloutPercentage=25)
    for doc, base in ((rollout(25), rollout(10)), (narrow, rollout(10)), (moved, narrow), (narrow, None)):
        shared = project_cost(doc, base, forty, Measured())
        assert shared == project_cost(doc, base, fleet_of(forty_segments()), Measured())
    assert (
        project_cost(narrow, None, forty, Measured())["devicesReached"]
        < project_cost(moved, None, forty, Measured())["devicesReached"]
    )


def test_changes_of_one_step_share_its_counts_but_price_their_own_bytes(forty: Fleet) -> None:
    # A fleet counts each rollout step once; every change of that step still prices its own size,
    # measured digest and fallback, and gets figures of its own to keep.
    small, large = rollout(25), rollout(25)
    large["spec"]["sizeBytes"] = 2 * small["spec"]["sizeBytes"]
    first = project_cost(small, rollout(10), forty, Measured())
    second = project_cost(large, rollout(10), forty, Measured())
    assert first["newDownloads"] == second["newDownloads"]
    assert Decimal(second["egress"]) == 2 * Decimal(first["egress"])
    replaced = project_cost(
        small, rollout(10), forty, Measured(digest="sha256:new", base_digest="sha256:old")
    )
    assert replaced["newDownloads"] == replaced["devicesReached"] > first["newDownloads"]
    second["byClass"]["high"]["devices"] = 0
    second["report"]["byRegion"]["EU"]["newDownloads"] = 0
    again = project_cost(small, rollout(10), forty, Measured())
    assert again == first and again["byClass"]["high"]["devices"] > 0


def test_a_fractional_rung_floors_each_segment_exactly() -> None:
    fleet = fleet_of([android("a", devices=999_999), android("b", devices=1_000_001)])
    fact = project_cost(shipping(1, ["US"], rolloutPercentage=0.5), None, fleet, Measured())
    assert fact["devicesReached"] == 999_999 * 5 // 1000 + 1_000_001 * 5 // 1000  # 4,999 + 5,000


def per_segment(
    doc: dict[str, Any], base: dict[str, Any] | None, fleet: Fleet, same_bytes: bool
) -> dict[str, Any]:
    """SPEC §11 steps 1-4 segment by segment, in inventory order, without any grouping."""
    from decimal import ROUND_FLOOR

    from fleetgate.fleet.eligible import Targets

    def percent(spec: dict[str, Any]) -> Decimal:
        return Decimal(str(spec["updateStrategy"]["rolloutPercentage"]))

    def floor(devices: int, pct: Decimal) -> int:
        return int((Decimal(devices) * pct / 100).to_integral_value(ROUND_FLOOR))

    head = Targets(doc["spec"])
    old = Targets(base["spec"]) if base is not None else None
    cellular = doc["spec"]["updateStrategy"].get("networkConstraint", "ANY") == "ANY"
    size, rows, egress = doc["spec"]["sizeBytes"], [], Decimal(0)
    for segment in fleet.segments:
        if not head.match(segment):
            continue
        reached = floor(segment.devices, percent(doc["spec"]))
        before = (
            floor(segment.devices, percent(base["spec"])) if old is not None and old.match(segment) else 0
        )
        downloads = max(0, reached - before) if same_bytes else reached
        price = fleet.sheet.egress_per_gb[segment.region]
        if cellular:
            price += (1 - segment.wifi_share) * fleet.sheet.cellular_surcharge_per_gb
        egress += Decimal(downloads) * Decimal(size) / Decimal(10**9) * price
        rows.append((segment.name, reached, before, downloads))
    return {"rows": rows, "egress": egress}


@pytest.mark.parametrize(
    ("head", "base"),
    [
        ({"rolloutPercentage": 25}, {"rolloutPercentage": 10}),
        ({"rolloutPercentage": 10}, {"rolloutPercentage": 25}),  # narrowing, same bytes
        ({"rolloutPercentage": 12.5, "networkConstraint": "WIFI"}, {"rolloutPercentage": 2.5}),
        ({"rolloutPercentage": 50, "minMemoryMB": 3072}, {"rolloutPercentage": 25, "minMemoryMB": 6144}),
        ({"rolloutPercentage": 5, "minMemoryMB": 6144}, {"rolloutPercentage": 50, "minMemoryMB": 2048}),
        ({"rolloutPercentage": 100}, None),
    ],
)
@pytest.mark.parametrize("same_bytes", [True, False])
def test_grouped_sums_equal_the_segment_by_segment_arithmetic(
    forty: Fleet, head: dict[str, Any], base: dict[str, Any] | None, same_bytes: bool
) -> None:
    priced = {"US", "EU", "JP"}  # IN has no price: left out so every figure is priced

    def doc(step: dict[str, Any], checksum: str) -> dict[str, Any]:
        step = dict(step)
        memory = step.pop("minMemoryMB", 2048)
        return manifest(
            sizeBytes=48_123_457,
            checksum=checksum,
            targetDevices={"minMemoryMB": memory, "regions": sorted(priced)},
            updateStrategy={"networkConstraint": "ANY", **step},
        )

    new = doc(head, "sha256:" + "a" * 64)
    old = doc(base, "sha256:" + ("a" if same_bytes else "b") * 64) if base is not None else None
    fact = project_cost(new, old, forty, Measured(), segments=True)
    expected = per_segment(new, old, forty, same_bytes and old is not None)
    got = [
        (r["segment"], r["reached"], r["reachedBefore"], r["newDownloads"])
        for r in fact["report"]["bySegment"]
    ]
    assert got == expected["rows"]
    assert fact["devicesReached"] == sum(r[1] for r in expected["rows"])
    assert fact["devicesReachedBefore"] == sum(r[2] for r in expected["rows"])
    assert fact["newDownloads"] == sum(r[3] for r in expected["rows"])
    assert Decimal(fact["egress"]) == expected["egress"]
