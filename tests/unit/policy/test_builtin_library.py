"""The built-in library keeps its promises: every rule has code, tests, metadata and docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import fleetgate.fleet.load
from fleetgate.fleet import DEVICE_CLASSES
from fleetgate.policy import builtin_policy_dir, load_library
from fleetgate.policy.testing import run_policy_tests

LIBRARY = load_library([builtin_policy_dir()])
DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules.md"
# Reported by the engine itself, not by Rego.
ENGINE_RULES = {
    "schema.invalid",
    "gate.config-changed",
    "gate.config-invalid",
    "waiver.expired",
    "waiver.unused",
    "waiver.unverified",
    "waiver.unknown-rule",
}
RULE_NAME = re.compile(r'"((?:rollout|targeting|cost|supplychain|evidence|responsible)(?:\.[a-z-]+){1,2})"')
# evidence.missing.<fact> is named after each fact of evidence.required.
MISSING_FACT_RULES = {f"evidence.missing.{entry['fact']}" for entry in LIBRARY.data["evidence"]["required"]}


def rules_in(test_files: bool) -> set[str]:
    found = {
        name
        for module in LIBRARY.modules
        if module.is_test == test_files
        for name in RULE_NAME.findall(module.source)
    }
    return found if test_files else found | MISSING_FACT_RULES


def test_every_policy_test_passes() -> None:
    outcomes = run_policy_tests(LIBRARY)
    assert len(outcomes) >= 50
    assert [o.test.name for o in outcomes if o.outcome != "pass"] == []


def test_every_rule_the_rego_emits_has_metadata_and_vice_versa() -> None:
    assert rules_in(test_files=False) == set(LIBRARY.rules) - ENGINE_RULES


def test_every_rule_is_exercised_by_a_policy_test() -> None:
    assert set(LIBRARY.rules) - ENGINE_RULES <= rules_in(test_files=True)


def test_metadata_is_complete() -> None:
    for info in LIBRARY.rules.values():
        assert info.title and info.description and info.remediation
        assert info.severity.startswith(("deny", "warn")), info.name
        for key in info.config:
            node = LIBRARY.data
            for part in key.split("."):
                assert part in node, f"{info.name} names unknown setting {key}"
                node = node[part]


def test_the_rule_catalog_documents_every_rule() -> None:
    text = DOCS.read_text()
    for name, info in LIBRARY.rules.items():
        assert f"## {name}" in text, name
        assert info.title in text, name


def test_the_tier_rules_know_every_device_class_the_inventory_allows() -> None:
    # targeting.tier-segment walks class_order to find the classes a tier may not reach: a class
    # the inventory schema allows but the list lacks would be reached unseen.
    source = next(m.source for m in LIBRARY.modules if m.path.endswith("targeting/tier_segment.rego"))
    order = re.search(r"^class_order := (\[.*\])$", source, re.MULTILINE)
    assert order is not None
    schemas = Path(fleetgate.fleet.load.__file__).parent / "schemas"
    schema = json.loads((schemas / "inventory.schema.json").read_text("utf-8"))
    enum = schema["properties"]["segments"]["items"]["properties"]["deviceClass"]["enum"]
    assert json.loads(order.group(1)) == list(DEVICE_CLASSES) == enum
