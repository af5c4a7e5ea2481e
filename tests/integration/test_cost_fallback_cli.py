"""The cloud-fallback budget of a namespace, end to end: real CLI, real model, real decision log.

The fallback estimate needs the model's measured peak memory, so these checks time a small
ONNX model (the latency fact). A model that needs cloud fallback on devices it targets is above
targeting.memory-headroom by construction; the repository waives that deny, as a team that
plans for fallback would, so the pre-deploy admissions reach the ledger.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import yaml

from support import GitRepo, manifest, to_yaml, violations
from support_release import digest_of, int8_classifier, serialized

# Every device falls back (a headroom of 0.001 of 8 GB is 8 MB, below any measured peak): 10 %
# of 1,000,000 devices, 10 inferences a day, 30 days, $0.40 per 1,000 is $12,000.00 a month.
INVENTORY = {
    "apiVersion": "fleetgate.dev/v1",
    "kind": "FleetInventory",
    "segments": [
        {
            "name": "android-us-high",
            "platform": "android",
            "apiLevel": 34,
            "memoryMB": 8192,
            "region": "US",
            "deviceClass": "high",
            "devices": 1_000_000,
            "inferencesPerDay": 10,
        }
    ],
}
PRICES = {
    "apiVersion": "fleetgate.dev/v1",
    "kind": "PriceSheet",
    "currency": "USD",
    "egressPerGB": {"US": 0.085},
    "cloudFallbackPer1kInferences": 0.4,
}
BUDGET = {"maxFallbackPerMonth": 20000, "windowDays": 30}
FACTS = "artifact,model,latency,cost"
MODEL = serialized(int8_classifier())


def fallback_repo(repo: GitRepo) -> None:
    data: dict[str, Any] = {
        "cost": {"envelopes": {"production": BUDGET}},
        "targeting": {"memoryHeadroom": 0.001},
        # Only the facts this test gathers: the supply-chain evidence is missing by design.
        "evidence": {"enforce": {"pre-merge": "warn", "pre-deploy": "warn"}},
    }
    config = {
        "fleet": {"inventory": "fleet/inventory.yaml", "prices": "fleet/prices.yaml"},
        "policies": {"data": data},
        "audit": {"log": "sqlite:///.git/ledger.db"},
    }
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    waivers = [
        {
            "rule": "targeting.memory-headroom",
            "target": f"production/{name}",
            "reason": "runs in the cloud where it does not fit",
            "approvedBy": "finops",
            "expires": expires,
        }
        for name in ("a", "b", "c")
    ]
    repo.write("fleetgate.yaml", yaml.safe_dump(config))
    repo.write("fleetgate-waivers.yaml", yaml.safe_dump({"waivers": waivers}))
    repo.write("fleet/inventory.yaml", yaml.safe_dump(INVENTORY))
    repo.write("fleet/prices.yaml", yaml.safe_dump(PRICES))
    repo.write("models/model.onnx", MODEL)
    repo.commit("fleet, budget and model")


def deployment(name: str) -> str:
    return to_yaml(
        manifest(
            name,
            modelUri="file:models/model.onnx",
            checksum=digest_of(MODEL),
            sizeBytes=len(MODEL),
            targetDevices={"regions": ["US"], "minMemoryMB": 8192},
            updateStrategy={"rolloutPercentage": 10, "networkConstraint": "WIFI"},
        )
    )


def fallback_warnings(decision: dict[str, Any]) -> dict[str, str]:
    return {
        s["name"]: v["message"]
        for s in decision["subjects"]
        for v in s.get("violations", []) + s.get("warnings", [])
        if v["rule"] == "cost.fallback-budget"
    }


@pytest.fixture
def fallback(repo: GitRepo) -> GitRepo:
    fallback_repo(repo)
    return repo


def test_each_deployment_within_budget_but_the_namespace_above_it_warns(fallback: GitRepo) -> None:
    fallback.write("models/a.yaml", deployment("a"))
    code, decision = fallback.decision("--no-audit", "--evidence", FACTS, "models/a.yaml")
    assert code == 0, violations(decision)
    [row] = decision["finops"]["deployments"]
    assert Decimal(row["fallbackPerMonth"]) == Decimal(12000)  # alone: within $20,000
    assert fallback_warnings(decision) == {}
    fallback.write("models/b.yaml", deployment("b"))
    code, decision = fallback.decision("--no-audit", "--evidence", FACTS, "models/a.yaml", "models/b.yaml")
    warned = fallback_warnings(decision)
    assert code == 0 and sorted(warned) == ["a", "b"]  # a warning never blocks
    assert warned["a"].endswith(
        "fall back to cloud inference: $12,000.00 a month; with 1 other change(s) of this check "
        "($12,000.00), production pays $24,000.00 a month for fallback, above the $20,000.00 "
        "fallback budget of production"
    )


def test_the_ledger_keeps_each_deployments_latest_bill_for_the_namespace(fallback: GitRepo) -> None:
    # a is admitted at pre-deploy twice: its latest bill counts once, not twice.
    fallback.write("models/a.yaml", deployment("a"))
    for _ in range(2):
        code, decision = fallback.decision("--evidence", FACTS, "--stage", "pre-deploy", "models/a.yaml")
        assert code == 0 and fallback_warnings(decision) == {}, violations(decision)
    # b alone is within the budget; with a's admitted $12,000 the namespace is not.
    fallback.write("models/b.yaml", deployment("b"))
    code, decision = fallback.decision(
        "--no-audit", "--evidence", FACTS, "--stage", "pre-deploy", "models/b.yaml"
    )
    assert code == 0
    assert fallback_warnings(decision)["b"].endswith(
        "$12,000.00 a month; with 1 deployment(s) admitted at pre-deploy in 30 days ($12,000.00), "
        "production pays $24,000.00 a month for fallback, above the $20,000.00 fallback budget of production"
    )
    # Checked again, a replaces its own admitted bill: $12,000 is within the budget.
    code, decision = fallback.decision(
        "--no-audit", "--evidence", FACTS, "--stage", "pre-deploy", "models/a.yaml"
    )
    assert code == 0 and fallback_warnings(decision) == {}
