"""FinOps end to end: the real CLI prices rollouts from the trusted revision's fleet files."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import GitRepo, line_of, manifest, schema_validator, to_yaml, violations

POSTGRES_ENV = "FLEETGATE_TEST_POSTGRES_URL"

INVENTORY = {
    "apiVersion": "fleetgate.dev/v1",
    "kind": "FleetInventory",
    "asOf": "2026-11-30",
    "segments": [
        {
            "name": "android-us-high",
            "platform": "android",
            "apiLevel": 34,
            "memoryMB": 8192,
            "region": "US",
            "deviceClass": "high",
            "devices": 2_000_000,
        },
        {
            "name": "ios-us-high",
            "platform": "ios",
            "osVersion": "17.4",
            "memoryMB": 8192,
            "region": "US",
            "deviceClass": "high",
            "devices": 1_100_000,
        },
        {
            "name": "android-eu-low",
            "platform": "android",
            "apiLevel": 29,
            "memoryMB": 3072,
            "region": "EU",
            "deviceClass": "low",
            "devices": 900_000,
        },
    ],
}
PRICES = {
    "apiVersion": "fleetgate.dev/v1",
    "kind": "PriceSheet",
    "currency": "USD",
    "egressPerGB": {"US": 0.085, "EU": 0.09},
}
ENVELOPE = {"maxEgressPerChange": 1000, "maxEgressPerWindow": 1500, "windowDays": 30}


def fleet_repo(repo: GitRepo, audit_log: str | None = None) -> None:
    """fleetgate.yaml, the inventory and the price sheet (to commit: they are gate files)."""
    data: dict[str, Any] = {"cost": {"envelopes": {"production": ENVELOPE}}}
    config: dict[str, Any] = {
        "fleet": {"inventory": "fleet/inventory.yaml", "prices": "fleet/prices.yaml"},
        "policies": {"data": data},
    }
    if audit_log is not None:
        config["audit"] = {"log": audit_log}
        # The ledger tests gather only the cost fact: the artifact evidence may be missing.
        data["evidence"] = {"enforce": {"pre-merge": "warn", "pre-deploy": "warn"}}
    repo.write("fleetgate.yaml", yaml.safe_dump(config))
    repo.write("fleet/inventory.yaml", yaml.safe_dump(INVENTORY))
    repo.write("fleet/prices.yaml", yaml.safe_dump(PRICES))


def deployment(percent: int, name: str = "img", **spec: Any) -> dict[str, Any]:
    # 42 MB to the US segments (3.1 M devices): 10 % is 310,000 downloads, 13.02 TB, $1,106.70.
    targets = {"regions": ["US"], "minMemoryMB": 4096, **spec.pop("targetDevices", {})}
    return manifest(
        name,
        sizeBytes=42_000_000,
        targetDevices=targets,
        updateStrategy={"rolloutPercentage": percent, "networkConstraint": "WIFI"},
        **spec,
    )


def cost_of(decision: dict[str, Any], name: str = "img") -> list[dict[str, Any]]:
    return [s for s in decision["subjects"] if s["name"] == name]


def test_a_step_above_the_envelope_is_denied_with_its_numbers_and_a_lower_rung_is_admitted(
    repo: GitRepo,
) -> None:
    fleet_repo(repo)
    repo.commit("fleet")
    text = to_yaml(deployment(10))
    repo.write("models/img.yaml", text)
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    assert code == 1
    [finding] = violations(decision, "cost.envelope-change")
    assert finding["message"] == (
        "this step delivers 42.0 MB to 310,000 devices (13.0 TB): $1,106.70 of egress, "
        "above the $1,000.00 per-change envelope of production"
    )
    assert (finding["file"], finding["line"]) == ("models/img.yaml", line_of(text, "rolloutPercentage"))
    repo.write("models/img.yaml", to_yaml(deployment(5)))
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    assert code == 0, decision
    [row] = decision["finops"]["deployments"]
    assert (row["target"], row["devicesBefore"], row["devicesAfter"], row["egress"]) == (
        "production/img",
        0,
        155_000,
        "553.35",
    )


def test_only_the_devices_a_step_adds_download_an_unchanged_artifact(repo: GitRepo) -> None:
    fleet_repo(repo)
    repo.write("models/img.yaml", to_yaml(deployment(5)))
    base = repo.commit("at 5 %")
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    head = repo.commit("to 10 %")
    code, decision = repo.decision("--no-audit", "--evidence", "cost", "--base", base, "--head", head)
    assert code == 0, violations(decision)
    [row] = decision["finops"]["deployments"]
    assert (row["devicesBefore"], row["devicesAfter"], row["newDownloads"], row["egress"]) == (
        155_000,
        310_000,
        155_000,
        "553.35",
    )


def test_a_missing_inventory_is_named_warned_at_pre_merge_and_denied_at_pre_deploy(repo: GitRepo) -> None:
    fleet_repo(repo)
    os.remove(repo.root / "fleet" / "inventory.yaml")
    repo.commit("no inventory yet")
    repo.write("models/img.yaml", to_yaml(deployment(1)))
    expected = "the cost evidence is absent (the fleet inventory fleet/inventory.yaml is not in commit "
    for stage, severity, exit_code in (("pre-merge", "warn", 0), ("pre-deploy", "deny", 1)):
        code, decision = repo.decision("--no-audit", "--evidence", "cost", "--stage", stage)
        found = [
            v for v in violations(decision, "evidence.missing.cost") if v["message"].startswith(expected)
        ]
        assert code == exit_code and [v["severity"] for v in found] == [severity]


def test_a_malformed_inventory_in_the_trusted_revision_stops_the_check_at_its_line(repo: GitRepo) -> None:
    fleet_repo(repo)
    text = (repo.root / "fleet" / "inventory.yaml").read_text().replace("devices: 900000", "devices: -900000")
    repo.write("fleet/inventory.yaml", text)
    repo.commit("typo")
    repo.write("models/img.yaml", to_yaml(deployment(1)))
    done = repo.fleetgate("check", "--no-audit")
    assert done.returncode == 2 and done.stdout == ""
    line = line_of(text, "devices: -900000")
    assert done.stderr.strip() == (
        f"fleetgate: error: fleet/inventory.yaml:{line}: "
        "segments[2].devices: -900000 is less than the minimum of 0"
    )


def test_the_head_cannot_lower_its_own_bill_and_the_change_is_reported(repo: GitRepo) -> None:
    fleet_repo(repo)
    base = repo.commit("fleet")
    cheap = dict(PRICES, egressPerGB={"US": 0.001, "EU": 0.001})
    repo.write("fleet/prices.yaml", yaml.safe_dump(cheap))
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    head = repo.commit("cheaper, supposedly")
    code, decision = repo.decision("--no-audit", "--evidence", "cost", "--base", base, "--head", head)
    assert code == 1
    assert violations(decision, "cost.envelope-change")  # priced with the base's price sheet
    gate = [s for s in decision["subjects"] if s["kind"] == "gate"]
    assert any(
        v["file"] == "fleet/prices.yaml"
        for s in gate
        for v in s["violations"]
        if v["rule"] == "gate.config-changed"
    )


def test_without_a_fleet_nothing_is_priced_or_missing(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(deployment(100)))
    _, decision = repo.decision("--no-audit", "--evidence", "cost")
    assert not any(
        v["message"].startswith("the cost evidence") for v in violations(decision, "evidence.missing.cost")
    )
    assert "finops" not in decision


def test_a_premium_model_may_not_target_low_class_segments(repo: GitRepo) -> None:
    fleet_repo(repo)
    repo.commit("fleet")
    everywhere = {"regions": ["US", "EU"], "minMemoryMB": None, "minAPILevel": 26}
    wide = deployment(1, tier="premium", targetDevices=everywhere)
    repo.write("models/img.yaml", to_yaml(wide))
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    [finding] = violations(decision, "targeting.tier-segment")
    assert code == 1 and "targets 900000 low-class devices (1 segments" in finding["message"]
    repo.write("models/img.yaml", to_yaml(deployment(1, tier="premium")))
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    assert code == 0 and not violations(decision, "targeting.tier-segment")


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    return url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Any:
    import uuid

    import psycopg
    from psycopg import sql

    name = f"fleetgate_cost_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}options=-csearch_path%3D{name}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_window_envelope_sums_earlier_pre_deploy_admissions_from_the_log(
    repo: GitRepo, request: pytest.FixtureRequest, backend: str
) -> None:
    url = "sqlite:///.git/ledger.db" if backend == "sqlite" else request.getfixturevalue("postgres_schema")
    fleet_repo(repo, audit_log=url)
    repo.commit("fleet")
    # A rollout admitted at pre-merge is not spend...
    repo.write("models/d.yaml", to_yaml(deployment(5, name="d")))
    assert repo.decision("--evidence", "cost", "models/d.yaml")[0] == 0
    # ...two earlier rollouts admitted at pre-deploy, $553.35 each, are...
    for name in ("a", "b"):
        repo.write(f"models/{name}.yaml", to_yaml(deployment(5, name=name)))
        code, decision = repo.decision("--evidence", "cost", "--stage", "pre-deploy", f"models/{name}.yaml")
        assert code == 0, violations(decision)
    # ...and a denied one is not...
    repo.write("models/c.yaml", to_yaml(deployment(10, name="c")))
    assert repo.decision("--evidence", "cost", "--stage", "pre-deploy", "models/c.yaml")[0] == 1
    # ...so a third $553.35 step reaches $1,660.05, above the $1,500.00 window envelope.
    repo.write("models/e.yaml", to_yaml(deployment(5, name="e")))
    code, decision = repo.decision(
        "--evidence", "cost", "--stage", "pre-deploy", "models/e.yaml", "--no-audit"
    )
    [finding] = violations(decision, "cost.envelope-window")
    assert code == 1 and finding["message"].startswith(
        "with this step ($553.35), production reaches $1,660.05 of egress in 30 days "
        "($1,106.70 admitted at pre-deploy since "
    )
    assert finding["message"].endswith("above its $1,500.00 window envelope")
    [row] = decision["finops"]["deployments"]
    assert Decimal(row["window"]["total"]) == Decimal("1660.05")


def priced_repo(repo: GitRepo) -> str:
    """Two deployments in two namespaces, committed; returns the commit."""
    fleet_repo(repo)
    repo.write("models/img.yaml", to_yaml(deployment(5)))
    repo.write("models/beta.yaml", to_yaml(deployment(1, name="beta", namespace="staging")))
    return repo.commit("two deployments")


def test_the_cost_verb_prices_the_desired_state_by_namespace_segment_and_region(repo: GitRepo) -> None:
    priced_repo(repo)
    done = repo.fleetgate("cost", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 5 % of 3.1 M US devices x 42 MB x $0.085, and 1 % of them in staging.
    assert report["byNamespace"] == {"production": "553.35", "staging": "110.67"}
    assert report["byRegion"] == {"US": "664.02"} and report["egress"] == "664.02"
    segments = {(x["namespace"], x["segment"]): x["new_downloads"] for x in report["lines"]}
    assert segments == {
        ("production", "android-us-high"): 100_000,
        ("production", "ios-us-high"): 55_000,
        ("staging", "android-us-high"): 20_000,
        ("staging", "ios-us-high"): 11_000,
    }
    text = repo.fleetgate("cost").stdout
    assert "production: $553.35" in text and "total egress: $664.02" in text
    assert "100,000 x 42.0 MB = 4,200.0 GB x $0.085/GB = $357.00" in text
    rows = list(csv.DictReader(io.StringIO(repo.fleetgate("cost", "--format", "csv").stdout)))
    assert sum(Decimal(r["egress"]) for r in rows) == Decimal("664.02") and len(rows) == 4


def test_the_cost_verb_prices_only_the_changes_since_a_base(repo: GitRepo) -> None:
    base = priced_repo(repo)
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    repo.commit("to 10 %")
    report = json.loads(repo.fleetgate("cost", "--base", base, "--format", "json").stdout)
    assert report["byNamespace"] == {"production": "553.35"} and report["trustedRevision"] == base


def test_focus_rows_follow_the_focus_column_rules(repo: GitRepo) -> None:
    priced_repo(repo)
    done = repo.fleetgate("cost", "--format", "focus")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 4
    mandatory = {
        "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
        "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart",
        "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit",
        "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "SubAccountId", "SubAccountName",
    }  # fmt: skip
    when = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    for row in rows:
        assert mandatory <= set(row)
        # Custom columns carry the x_ prefix; every other column is a FOCUS column.
        assert {c for c in row if not c.startswith("x_")} <= mandatory | FOCUS_NULLABLE
        assert (row["ChargeCategory"], row["ServiceCategory"], row["PricingUnit"]) == (
            "Usage",
            "Networking",
            "GB",
        )
        assert row["BillingCurrency"] == "USD" and row["ChargeClass"] == ""
        for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity"):
            assert Decimal(row[column]) >= 0  # decimal, never null
        assert Decimal(row["PricingQuantity"]) * Decimal(row["ListUnitPrice"]) == Decimal(row["ListCost"])
        for start, end in (
            ("ChargePeriodStart", "ChargePeriodEnd"),
            ("BillingPeriodStart", "BillingPeriodEnd"),
        ):
            assert when.match(row[start]) and when.match(row[end]) and row[start] < row[end]
        assert row["x_Estimate"] == "true" and row["x_Decision"] == "admit"
        assert row["x_Digest"] == "sha256:" + "ab" * 32 and row["x_Segment"] in (
            "android-us-high",
            "ios-us-high",
        )
    assert {r["SubAccountName"] for r in rows} == {"production", "staging"}


FOCUS_NULLABLE = {
    "BillingAccountName", "ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "ContractedUnitPrice",
    "ListUnitPrice", "PricingCategory", "RegionId", "RegionName", "ResourceId", "ResourceName",
    "ResourceType",
}  # fmt: skip


def test_the_cost_verb_without_a_fleet_is_a_one_line_error(repo: GitRepo) -> None:
    repo.write("models/img.yaml", to_yaml(deployment(5)))
    repo.commit("no fleet")
    done = repo.fleetgate("cost")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "fleetgate: error: fleetgate.yaml: no fleet configured; add fleet: {inventory: PATH, prices: PATH} "
        "to price deployments"
    )


def test_the_finops_demo_denies_the_step_and_admits_the_lower_rung() -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo_finops.py"
    done = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "above the $1,000.00 per-change envelope of production" in done.stdout
    assert "demo: OK" in done.stdout


def test_the_github_job_summary_shows_the_finops_table(repo: GitRepo, tmp_path: Path) -> None:
    fleet_repo(repo)
    repo.commit("fleet")
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    summary = tmp_path / "summary.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetgate",
            "check",
            "--no-audit",
            "--evidence",
            "cost",
            "--format",
            "github",
        ],
        cwd=repo.root,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    text = summary.read_text()
    assert "### FinOps (estimate)" in text
    row = r"| production/img | 0 → 310,000 | 310,000 | 13.0 TB | \$1,106.70 | \$1,106.70 / \$1,500.00 |"
    assert row in text


def test_sarif_carries_the_finops_table_in_its_run_properties(repo: GitRepo) -> None:
    fleet_repo(repo)
    repo.commit("fleet")
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    done = repo.fleetgate("check", "--no-audit", "--evidence", "cost", "--format", "sarif")
    assert done.returncode == 1, done.stderr
    log = json.loads(done.stdout)
    schema_validator("sarif-schema-2.1.0.json").validate(log)
    [row] = log["runs"][0]["properties"]["finops"]["deployments"]
    assert (row["target"], row["egress"], row["newDownloads"]) == ("production/img", "1106.7", 310_000)
    assert row["components"] == [
        {"component": "egress US", "unit": "GB", "quantity": "13020", "price": "0.085", "cost": "1106.7"}
    ]


def test_the_gitlab_code_quality_report_carries_the_finops_table(repo: GitRepo) -> None:
    fleet_repo(repo)
    repo.write("fleet/prices.yaml", yaml.safe_dump(dict(PRICES, egressPerGB={"US": 0.085})))  # no EU
    repo.commit("fleet")
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    eu = {"regions": ["US", "EU"], "minMemoryMB": 2048, "minAPILevel": 26}  # android-eu-low: no price
    repo.write("models/far.yaml", to_yaml(deployment(5, name="far", targetDevices=eu)))
    done = repo.fleetgate("check", "--no-audit", "--evidence", "cost", "--format", "gitlab")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    schema_validator("gitlab-codequality.schema.json").validate(report)
    estimates = {i["location"]["path"]: i for i in report if i["check_name"] == "finops.estimate"}
    assert sorted(estimates) == ["models/far.yaml", "models/img.yaml"]
    assert {i["severity"] for i in estimates.values()} == {"info"}
    assert estimates["models/img.yaml"]["description"] == (
        "production/img: FinOps estimate of this step: devices 0 → 310,000, 310,000 new downloads, "
        "13.0 TB, $1,106.70 of egress; namespace window $1,660.05 / $1,500.00; "
        "0 input(s) could not be priced"
    )
    assert estimates["models/far.yaml"]["description"] == (
        "production/far: FinOps estimate of this step: devices 0 → 200,000, 200,000 new downloads, "
        "8.4 TB, $553.35 of egress; namespace window $1,660.05 / $1,500.00; "
        "1 input(s) could not be priced"
    )
    # The denies are reported as before: the estimates add to the report, they replace nothing.
    assert any(i["check_name"] == "cost.envelope-change" and i["severity"] == "critical" for i in report)


def test_without_a_fleet_a_check_loads_no_cost_code_and_reads_no_fleet_file(repo: GitRepo) -> None:
    repo.write("fleet/inventory.yaml", yaml.safe_dump(INVENTORY))  # present, but not named
    repo.write("models/img.yaml", to_yaml(deployment(5)))
    repo.commit("no fleet: in fleetgate.yaml")
    repo.write("models/img.yaml", to_yaml(deployment(10)))
    program = (
        "import json, sys\n"
        "from fleetgate.cli import main\n"
        "status = main(['check', '--no-audit', '--format', 'json', '--output', 'decision.json'])\n"
        "loaded = [m for m in ('fleetgate.fleet.cost', 'fleetgate.fleet.load', 'fleetgate.evidence.cost')"
        " if m in sys.modules]\n"
        "print(json.dumps({'status': status, 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=repo.root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"status": 0, "loaded": []}
    decision = json.loads((repo.root / "decision.json").read_text())
    assert "fleet/inventory.yaml" not in decision["context"]["trusted"]["files"]


def test_changes_checked_together_count_together_against_the_window(repo: GitRepo) -> None:
    fleet_repo(repo)
    repo.commit("fleet")
    for name in ("a", "b", "c"):  # $553.35 each: one fits the $1,500 window, three do not
        repo.write(f"models/{name}.yaml", to_yaml(deployment(5, name=name)))
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    found = violations(decision, "cost.envelope-window")
    assert code == 1 and len(found) == 3
    assert found[0]["message"].startswith(
        "with this step ($553.35) and 2 other change(s) of this check ($1,106.70), "
        "production reaches $1,660.05"
    )
    os.remove(repo.root / "models" / "c.yaml")
    code, decision = repo.decision("--no-audit", "--evidence", "cost")
    assert code == 0 and not violations(decision, "cost.envelope-window")


def test_a_reachable_artifact_is_priced_by_its_measured_size_and_digest(repo: GitRepo) -> None:
    import hashlib

    fleet_repo(repo)
    blob = b"\0" * 21_000_000  # 21 MB measured, while the manifest declares 42 MB
    repo.write("models/model.bin", blob)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    # The base declared another checksum for the same bytes: the measured digests decide that
    # the artifact is unchanged, so only the devices the step adds download it.
    repo.write("models/img.yaml", to_yaml(deployment(5, modelUri="file:models/model.bin")))
    base = repo.commit("at 5 %")
    repo.write("models/img.yaml", to_yaml(deployment(10, modelUri="file:models/model.bin", checksum=digest)))
    _, decision = repo.decision("--no-audit", "--evidence", "artifact,cost", "--base", base)
    [row] = decision["finops"]["deployments"]
    assert (row["bytesPerDownload"], row["newDownloads"]) == (21_000_000, 155_000)
    assert row["egress"] == "276.675"  # 155,000 x 0.021 GB x $0.085
