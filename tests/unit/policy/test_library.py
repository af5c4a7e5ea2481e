from __future__ import annotations

import pytest

from fleetgate.errors import ConfigError, PolicyError
from fleetgate.policy import DataOrigin, builtin_policy_dir, load_library, merge_data

from support import PolicyDir

RULE = "package fleetgate.a\n\nimport rego.v1\n\ndeny contains 1 if false\n"


def test_modules_data_and_rule_metadata_are_loaded(policy_dir: PolicyDir) -> None:
    root = policy_dir(
        {
            "a/a.rego": RULE,
            "a/a_test.rego": "package fleetgate.a\n\nimport rego.v1\n\ntest_x if true\n",
            "a/rules.yaml": "rules:\n  a.x:\n    title: T\n    severity: deny\n"
            "    description: >\n      why\n      it matters\n    remediation: fix\n    config: [a.limit]\n",
            "data.yaml": "a: {limit: 3, keep: 1}\n",
            "notes.md": "ignored",
        }
    )
    library = load_library([root], {"a": {"limit": 5}})
    assert [(m.path.split("/")[-2:], m.package, m.is_test) for m in library.modules] == [
        (["a", "a.rego"], "fleetgate.a", False),
        (["a", "a_test.rego"], "fleetgate.a", True),
    ]
    assert library.data == {"a": {"limit": 5, "keep": 1}}
    info = library.rules["a.x"]
    assert (info.title, info.description, info.config) == ("T", "why it matters", ("a.limit",))


def test_revision_changes_with_any_policy_byte_or_data_override(policy_dir: PolicyDir) -> None:
    root = policy_dir({"a.rego": RULE, "data.yaml": "x: 0\n"})
    first = load_library([root]).revision
    assert first == load_library([root]).revision
    assert first != load_library([root], {"x": 1}).revision
    (root / "a.rego").write_text(RULE + "\n")
    assert first != load_library([root]).revision
    assert first.startswith("sha256:") and len(first) == 71


def test_module_without_package_is_an_error(policy_dir: PolicyDir) -> None:
    root = policy_dir({"x.rego": "deny := 1\n"})
    with pytest.raises(PolicyError, match=r"x.rego:1: no package declaration"):
        load_library([root])


def test_incomplete_rule_metadata_is_an_error(policy_dir: PolicyDir) -> None:
    root = policy_dir({"rules.yaml": "rules:\n  a.x: {title: T}\n"})
    with pytest.raises(PolicyError, match="rule 'a.x' needs string title, severity"):
        load_library([root])


def test_missing_directory_is_an_error(policy_dir: PolicyDir) -> None:
    with pytest.raises(PolicyError, match="policy directory not found"):
        load_library([policy_dir({}) / "nope"])


def test_builtin_library_is_found_and_labelled() -> None:
    library = load_library([builtin_policy_dir()])
    assert library.modules and all(m.path.startswith("builtin:") for m in library.modules)
    assert "strictNamespaces" in library.data


def test_merge_data_is_deep_for_mappings_only() -> None:
    assert merge_data({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}, "d": 1}) == {
        "a": {"b": 1, "c": [2]},
        "d": 1,
    }


CONFIG_LINES = {
    ("policies", "data"): 3,
    ("policies", "data", "rollout"): 4,
    ("policies", "data", "rollout", "intialMax"): 5,
    ("policies", "data", "rollout", "initialMax"): 5,
    ("policies", "data", "rollout", "rungs"): 6,
    ("policies", "data", "rollout", "rungs", 1): 6,
    ("policies", "data", "targeting", "allowedRegion"): 7,
}
ORIGIN = DataOrigin("fleetgate.yaml", CONFIG_LINES)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"rollout": {"intialMax": 50}},
            "fleetgate.yaml:5: policies.data.rollout.intialMax is not a threshold of the policy library; "
            "did you mean 'policies.data.rollout.initialMax'?",
        ),
        (
            {"targeting": {"allowedRegion": ["US"]}},
            "fleetgate.yaml:7: policies.data.targeting.allowedRegion is not a threshold of the policy "
            "library; did you mean 'policies.data.targeting.allowedRegions'?",
        ),
        (
            {"nothingLikeIt": 1},
            "fleetgate.yaml:3: policies.data.nothingLikeIt is not a threshold of the policy library",
        ),
        (
            {"rollout": {"initialMax": "50"}},
            "fleetgate.yaml:5: policies.data.rollout.initialMax is a string, "
            "but the default (10) is a number",
        ),
        (
            {"rollout": {"rungs": [1, "5"]}},
            "fleetgate.yaml:6: policies.data.rollout.rungs[1] is a string, "
            "but the default's items are numbers",
        ),
        (
            {"rollout": 10},
            "fleetgate.yaml:4: policies.data.rollout is a number, but the default",
        ),
    ],
)
def test_an_override_must_name_a_known_threshold_of_its_type(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_library([builtin_policy_dir()], overrides, origin=ORIGIN)
    assert caught.value.message.startswith(message)


def test_overrides_may_set_the_repository_s_own_data_and_numbers_of_either_kind(
    policy_dir: PolicyDir,
) -> None:
    root = policy_dir({"data.yaml": "team: {owners: [vision]}\n"})
    overrides = {
        "team": {"owners": ["audio"]},
        "targeting": {"memoryHeadroom": 1},
        "supplychain": {"slsa": {"builderIds": ["b"]}},
    }
    library = load_library([builtin_policy_dir(), root], overrides, origin=ORIGIN)
    assert library.data["team"] == {"owners": ["audio"]}
    assert library.data["targeting"]["memoryHeadroom"] == 1
    assert library.data["supplychain"]["slsa"]["builderIds"] == ["b"]
